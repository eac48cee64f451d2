//! Charts of a comparison (`spectralab_core::compare`): the two ESDs of one layer overlaid, and
//! the heatmap of |⟨u_j(W_other), u_i(W_base)⟩| over the top-k left singular vectors.
//!
//! - [`esd_overlay_chart`]: both ESDs binned on **one** set of [`ESD_BINS`] log-spaced bins
//!   spanning the positive eigenvalues of both (so the two densities are comparable bin by
//!   bin), each drawn as a step line; density = count / (n · bin width), n = that model's
//!   positive eigenvalues. Zero eigenvalues cannot sit on a log axis and are counted in the
//!   legend.
//! - [`heatmap_chart`]: cell (i, j) coloured linearly from the background (`vmin`) to dark red
//!   (`vmax`), row j = 1 at the top; values printed in the cells up to 12×12. The axes run over
//!   cell indices (1-based), so the [`ChartSvg`] pixel ↔ value mapping holds (y grows upwards:
//!   value y ↔ row k + 1 − y).

use super::*;

/// What [`esd_overlay_chart`] draws. From JS: `{name, base, other, baseLabel, otherLabel}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EsdOverlaySpec {
    #[serde(default)]
    pub name: String,
    /// Eigenvalues of the base (any order).
    pub base: Vec<f64>,
    /// Eigenvalues of the other model (any order).
    pub other: Vec<f64>,
    #[serde(default)]
    pub base_label: Option<String>,
    #[serde(default)]
    pub other_label: Option<String>,
}

/// Density of `values` on fixed `edges` (values outside are dropped; the last bin is closed).
fn density_on(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let bins = edges.len() - 1;
    let mut counts = vec![0usize; bins];
    for &v in values {
        if v < edges[0] || v > edges[bins] {
            continue;
        }
        // First edge greater than v, minus one; v = last edge goes to the last bin.
        let i = edges
            .partition_point(|&e| e <= v)
            .saturating_sub(1)
            .min(bins - 1);
        counts[i] += 1;
    }
    let n = values.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| c as f64 / (n * (edges[i + 1] - edges[i])))
        .collect()
}

/// Step-line points of a density on `edges`.
fn steps(edges: &[f64], density: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut x = Vec::with_capacity(2 * density.len());
    let mut y = Vec::with_capacity(2 * density.len());
    for (i, &d) in density.iter().enumerate() {
        x.extend([edges[i], edges[i + 1]]);
        y.extend([d, d]);
    }
    (x, y)
}

/// The two ESDs of a layer on common log bins (see the module doc). Errors when neither side
/// has a positive finite eigenvalue, or on a non-finite one.
pub fn esd_overlay_chart(spec: &EsdOverlaySpec, opts: &ChartOptions) -> Result<ChartSvg> {
    if spec.base.iter().chain(&spec.other).any(|v| !v.is_finite()) {
        return Err(err("ESD overlay: non-finite eigenvalue"));
    }
    let pos = |v: &[f64]| v.iter().copied().filter(|&x| x > 0.0).collect::<Vec<f64>>();
    let (b, o) = (pos(&spec.base), pos(&spec.other));
    let all: Vec<f64> = b.iter().chain(&o).copied().collect();
    if all.is_empty() {
        return Err(err("ESD overlay: no positive eigenvalue"));
    }
    let edges = log_histogram(&all, ESD_BINS)?.edges;
    let label = |l: &Option<String>, d: &str, v: &[f64], n: usize| {
        let zeros = n - v.len();
        let base = l.clone().unwrap_or_else(|| d.to_string());
        if zeros > 0 {
            format!("{base} ({} λ, {zeros} zero)", v.len())
        } else {
            format!("{base} ({} λ)", v.len())
        }
    };
    let mut series = Vec::new();
    for (v, n, l, d, color) in [
        (&b, spec.base.len(), &spec.base_label, "base", "#1F77B4"),
        (&o, spec.other.len(), &spec.other_label, "other", "#D62728"),
    ] {
        if v.is_empty() {
            continue;
        }
        let (x, y) = steps(&edges, &density_on(v, &edges));
        series.push(Series {
            name: label(l, d, v, n),
            x,
            y,
            style: SeriesStyle::Line,
            highlight: false,
            color: Some(color.into()),
            dashed: d == "other",
        });
    }
    let title = if spec.name.is_empty() {
        "ESD: base vs other".to_string()
    } else {
        format!("{} — ESD, base vs other", spec.name)
    };
    series_chart(
        &SeriesChartSpec {
            title,
            x_label: "eigenvalue λ of WᵀW".into(),
            y_label: "density".into(),
            x_log: true,
            y_log: true,
            series,
        },
        opts,
    )
}

/// What [`heatmap_chart`] draws. From JS: `{title, xLabel, yLabel, matrix: [[…], …], vmin,
/// vmax}`; rows may not be ragged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeatmapSpec {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub x_label: String,
    #[serde(default)]
    pub y_label: String,
    /// `matrix[j][i]`: row j (drawn top to bottom), column i.
    pub matrix: Vec<Vec<f64>>,
    #[serde(default)]
    pub vmin: f64,
    #[serde(default = "one")]
    pub vmax: f64,
}

fn one() -> f64 {
    1.0
}

/// Linear blend from `a` (t = 0) to `b` (t = 1).
fn blend(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let m = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// A matrix as coloured cells (see the module doc). Errors on an empty or ragged matrix, a
/// non-finite value, or `vmax ≤ vmin`.
pub fn heatmap_chart(spec: &HeatmapSpec, opts: &ChartOptions) -> Result<ChartSvg> {
    check_options(opts)?;
    let rows = spec.matrix.len();
    let cols = spec.matrix.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 {
        return Err(err("heatmap of an empty matrix"));
    }
    if spec.matrix.iter().any(|r| r.len() != cols) {
        return Err(err("heatmap: rows of different lengths"));
    }
    if spec.matrix.iter().flatten().any(|v| !v.is_finite()) {
        return Err(err("heatmap: non-finite value"));
    }
    if spec.vmax.is_nan() || spec.vmin.is_nan() || spec.vmax <= spec.vmin {
        return Err(err(format!(
            "heatmap: vmax {} must exceed vmin {}",
            spec.vmax, spec.vmin
        )));
    }
    let x = match opts.x_range {
        Some(r) => check_range(r, false, "x")?,
        None => (0.5, cols as f64 + 0.5),
    };
    let y = match opts.y_range {
        Some(r) => check_range(r, false, "y")?,
        None => (0.5, rows as f64 + 0.5),
    };
    let pal = palette(opts.theme);
    let hot = RGBColor(165, 15, 21);
    let mut svg = String::new();
    let plot = {
        ensure_font();
        let root = root_area(&mut svg, opts, &pal)?;
        let mut builder = ChartBuilder::on(&root);
        if !spec.title.is_empty() {
            builder.caption(&spec.title, text_style(15, &pal.fg));
        }
        let mut chart = builder
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(draw_err)?;
        let ticks = |n: usize| n.min(12);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(spec.x_label.as_str())
            .y_desc(spec.y_label.as_str())
            .axis_desc_style(text_style(13, &pal.fg))
            .label_style(text_style(11, &pal.fg))
            .axis_style(pal.fg)
            .x_labels(ticks(cols))
            .y_labels(ticks(rows))
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-9 && i >= 1.0 && i <= cols as f64 {
                    format!("{i}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-9 && i >= 1.0 && i <= rows as f64 {
                    format!("{}", rows as f64 + 1.0 - i)
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(draw_err)?;
        let span = spec.vmax - spec.vmin;
        let mut cells = Vec::new();
        let mut labels = Vec::new();
        for (j, row) in spec.matrix.iter().enumerate() {
            let yc = (rows - j) as f64;
            for (i, &v) in row.iter().enumerate() {
                let xc = (i + 1) as f64;
                let (x0, x1) = ((xc - 0.5).max(x.0), (xc + 0.5).min(x.1));
                let (y0, y1) = ((yc - 0.5).max(y.0), (yc + 0.5).min(y.1));
                if x0 >= x1 || y0 >= y1 {
                    continue;
                }
                let t = (v - spec.vmin) / span;
                cells.push(Rectangle::new(
                    [(x0, y0), (x1, y1)],
                    blend(pal.bg, hot, t).filled(),
                ));
                if rows <= 12 && cols <= 12 && xc > x.0 && xc < x.1 && yc > y.0 && yc < y.1 {
                    let fg = if t > 0.55 {
                        RGBColor(255, 255, 255)
                    } else {
                        pal.fg
                    };
                    labels.push(Text::new(
                        format!("{v:.2}"),
                        (xc - 0.3, yc + 0.15),
                        text_style(10, &fg),
                    ));
                }
            }
        }
        chart.draw_series(cells).map_err(draw_err)?;
        chart.draw_series(labels).map_err(draw_err)?;
        let area = area_of(&chart, x, y);
        root.present().map_err(draw_err)?;
        area
    };
    Ok(ChartSvg {
        svg,
        plot,
        x: Axis {
            min: x.0,
            max: x.1,
            log: false,
        },
        y: Axis {
            min: y.0,
            max: y.1,
            log: false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_on_own_edges_matches_log_histogram_and_integrates_to_one() {
        let v: Vec<f64> = (1..=500)
            .map(|i| (i as f64 * 0.37).exp() % 97.0 + 0.01)
            .collect();
        let h = log_histogram(&v, 40).unwrap();
        let d = density_on(&v, &h.edges);
        for (a, b) in d.iter().zip(&h.density) {
            assert!((a - b).abs() <= 1e-12 * b.max(1.0), "{a} vs {b}");
        }
        let area: f64 = d
            .iter()
            .enumerate()
            .map(|(i, x)| x * (h.edges[i + 1] - h.edges[i]))
            .sum();
        assert!((area - 1.0).abs() < 1e-12, "{area}");
        // On wider edges (the other model's range too) the area is still 1.
        let wide: Vec<f64> = h.edges.iter().map(|e| e * 3.0).chain([1e-3]).collect();
        let mut wide = wide;
        wide.sort_by(f64::total_cmp);
        let inside: Vec<f64> = v.iter().copied().filter(|&x| x >= 1e-3).collect();
        let d = density_on(&inside, &wide);
        let area: f64 = d
            .iter()
            .enumerate()
            .map(|(i, x)| x * (wide[i + 1] - wide[i]))
            .sum();
        assert!(
            (area
                - inside
                    .iter()
                    .filter(|&&x| x <= wide[wide.len() - 1])
                    .count() as f64
                    / inside.len() as f64)
                .abs()
                < 1e-12
        );
    }
}

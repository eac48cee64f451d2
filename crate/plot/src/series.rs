//! [`series_chart`]: the generic x–y chart the panels and widgets share (trade-off curves,
//! Vendi q-profiles, kernel spectra, transform spectra, energy-compaction curves).
//!
//! Log axes use plotters' log scale with ticks from [`crate::log_ticks`]; non-positive values
//! on a log axis and non-finite values are left out (a line breaks there). The returned
//! [`ChartSvg`] axes are in data units (`log = true` on log axes), so the pixel ↔ value
//! mapping of the crate doc holds unchanged.

use super::*;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeriesStyle {
    #[default]
    Line,
    Points,
    /// Line with a marker at each point.
    Both,
}

/// One named series of a [`SeriesChartSpec`]; `x` and `y` have the same length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    #[serde(default)]
    pub style: SeriesStyle,
    /// Thicker stroke (e.g. the Pareto front).
    #[serde(default)]
    pub highlight: bool,
    /// `#RRGGBB`; default: the series palette in order.
    #[serde(default)]
    pub color: Option<String>,
    /// Dashed line.
    #[serde(default)]
    pub dashed: bool,
}

/// What [`series_chart`] draws. From JS: `{title, xLabel, yLabel, xLog, yLog, series: [{name, x,
/// y, style: "line"|"points"|"both", highlight, color, dashed}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesChartSpec {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub x_label: String,
    #[serde(default)]
    pub y_label: String,
    #[serde(default)]
    pub x_log: bool,
    #[serde(default)]
    pub y_log: bool,
    pub series: Vec<Series>,
}

/// Palette of series colours (tab10 order).
pub const SERIES_COLORS: [&str; 10] = [
    "#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F",
    "#BCBD22", "#17BECF",
];

fn parse_color(s: &str) -> Result<RGBColor> {
    let ok = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !ok {
        return Err(err(format!("series colour `{s}` is not #RRGGBB")));
    }
    Ok(hex(s))
}

/// Data range of the points that can be drawn, padded by 5% (log axes: in log space).
fn span(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    if log {
        let (a, b) = (lo.log10(), hi.log10());
        let (a, b) = if b > a { (a, b) } else { (a - 0.5, b + 0.5) };
        let pad = 0.05 * (b - a);
        Some((10f64.powf(a - pad), 10f64.powf(b + pad)))
    } else {
        let (a, b) = if hi > lo {
            (lo, hi)
        } else {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.5 };
            (lo - d, hi + d)
        };
        let pad = 0.05 * (b - a);
        Some((a - pad, b + pad))
    }
}

/// Draws a [`SeriesChartSpec`] (see the module doc). Errors on mismatched lengths, bad colours,
/// bad ranges, or no drawable point.
pub fn series_chart(spec: &SeriesChartSpec, opts: &ChartOptions) -> Result<ChartSvg> {
    check_options(opts)?;
    for s in &spec.series {
        if s.x.len() != s.y.len() {
            return Err(err(format!(
                "series `{}`: {} x values but {} y values",
                s.name,
                s.x.len(),
                s.y.len()
            )));
        }
    }
    let xs = spec.series.iter().flat_map(|s| s.x.iter().copied());
    let ys = spec.series.iter().flat_map(|s| s.y.iter().copied());
    let x = match opts.x_range {
        Some(r) => check_range(r, spec.x_log, "x")?,
        None => span(xs, spec.x_log).ok_or_else(|| err("no drawable x value"))?,
    };
    let y = match opts.y_range {
        Some(r) => check_range(r, spec.y_log, "y")?,
        None => span(ys, spec.y_log).ok_or_else(|| err("no drawable y value"))?,
    };
    let pal = palette(opts.theme);
    let mut svg = String::new();
    let plot = {
        ensure_font();
        let root = root_area(&mut svg, opts, &pal)?;
        let mut builder = ChartBuilder::on(&root);
        if !spec.title.is_empty() {
            builder.caption(&spec.title, text_style(15, &pal.fg));
        }
        builder
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(62);
        let lx = || (x.0..x.1).log_scale().with_key_points(log_ticks(x.0, x.1));
        let ly = || (y.0..y.1).log_scale().with_key_points(log_ticks(y.0, y.1));
        let plot = match (spec.x_log, spec.y_log) {
            (false, false) => {
                let mut c = builder
                    .build_cartesian_2d(x.0..x.1, y.0..y.1)
                    .map_err(draw_err)?;
                fill(&mut c, spec, &pal, x, y)?
            }
            (true, false) => {
                let mut c = builder
                    .build_cartesian_2d(lx(), y.0..y.1)
                    .map_err(draw_err)?;
                fill(&mut c, spec, &pal, x, y)?
            }
            (false, true) => {
                let mut c = builder
                    .build_cartesian_2d(x.0..x.1, ly())
                    .map_err(draw_err)?;
                fill(&mut c, spec, &pal, x, y)?
            }
            (true, true) => {
                let mut c = builder.build_cartesian_2d(lx(), ly()).map_err(draw_err)?;
                fill(&mut c, spec, &pal, x, y)?
            }
        };
        root.present().map_err(draw_err)?;
        plot
    };
    Ok(ChartSvg {
        svg,
        plot,
        x: Axis {
            min: x.0,
            max: x.1,
            log: spec.x_log,
        },
        y: Axis {
            min: y.0,
            max: y.1,
            log: spec.y_log,
        },
    })
}

/// Mesh, series and legend on a built chart (any axis kinds); returns the plotting area.
fn fill<'a, 'b: 'a, X, Y>(
    chart: &mut Chart<'a, 'b, X, Y>,
    spec: &SeriesChartSpec,
    pal: &Palette,
    x: (f64, f64),
    y: (f64, f64),
) -> Result<PlotArea>
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .axis_desc_style(text_style(13, &pal.fg))
        .label_style(text_style(11, &pal.fg))
        .axis_style(pal.fg)
        .bold_line_style(pal.grid)
        .light_line_style(pal.bg)
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|v| format_tick(*v))
        .y_label_formatter(&|v| format_tick(*v));
    mesh.draw().map_err(draw_err)?;
    let mut labelled = false;
    for (i, s) in spec.series.iter().enumerate() {
        let color = match &s.color {
            Some(c) => parse_color(c)?,
            None => hex(SERIES_COLORS[i % SERIES_COLORS.len()]),
        };
        let width = if s.highlight { 3 } else { 2 };
        let pts: Vec<(f64, f64)> =
            s.x.iter()
                .zip(&s.y)
                .filter(|(a, b)| (!spec.x_log || **a > 0.0) && (!spec.y_log || **b > 0.0))
                .map(|(&a, &b)| (a, b))
                .collect();
        let line_style = color.stroke_width(width);
        let mut legend_done = false;
        if s.style != SeriesStyle::Points {
            for run in clip_runs(&pts, x, y) {
                let drawn = if s.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(run, 6, 4, line_style))
                        .map_err(draw_err)?
                } else {
                    chart
                        .draw_series(LineSeries::new(run, line_style))
                        .map_err(draw_err)?
                };
                if !legend_done && !s.name.is_empty() {
                    drawn.label(s.name.clone()).legend(move |(a, b)| {
                        PathElement::new(vec![(a, b), (a + 14, b)], line_style)
                    });
                    legend_done = true;
                    labelled = true;
                }
            }
        }
        if s.style != SeriesStyle::Line {
            let inside: Vec<(f64, f64)> = clip_runs(&pts, x, y).concat();
            let r = if s.highlight { 4 } else { 3 };
            let drawn = chart
                .draw_series(
                    inside
                        .into_iter()
                        .map(move |p| Circle::new(p, r, color.filled())),
                )
                .map_err(draw_err)?;
            if !legend_done && !s.name.is_empty() {
                drawn
                    .label(s.name.clone())
                    .legend(move |(a, b)| Circle::new((a + 7, b), r, color.filled()));
                labelled = true;
            }
        }
    }
    if labelled {
        legend(chart, pal, SeriesLabelPosition::UpperRight)?;
    }
    Ok(area_of(chart, x, y))
}

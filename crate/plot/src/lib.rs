//! SVG charts of Spectralab reports, drawn with `plotters`' SVG backend.
//!
//! Four charts, each a function returning a [`ChartSvg`]: the SVG text plus the pixel box of
//! the plotting area and the value range of each axis, so a page can map pixels ↔ values (hover
//! read-outs) and zoom (re-render with [`ChartOptions::x_range`]/[`ChartOptions::y_range`])
//! without doing numerics itself:
//!
//! - [`esd_chart`]: log-log histogram of a layer's ESD with the fitted power law, the `x_min`
//!   marker and the Marchenko–Pastur density;
//! - [`rank_chart`]: eigenvalue against rank (log-log) with the `x_min` marker;
//! - [`alpha_chart`]: α per layer along the network depth, with the 2 ≤ α ≤ 6 band;
//! - [`series_chart`]: generic named x–y series (lines/points, linear or log axes) for the
//!   trade-off, Vendi, transform and compaction views.
//!
//! Charts take a [`ChartLayer`], the subset of `spectralab_core`'s `LayerReport` they need. It
//! deserialises from a serialised `LayerReport` (same field names, unknown fields ignored) and
//! converts from one with `From<&LayerReport>`.
//!
//! **Pixel ↔ value mapping.** With `p = chart.plot` and `a = chart.x` (same for `y`, whose
//! pixels grow downwards: `a.max` is at `p.top`, `a.min` at `p.bottom`):
//! `t = (f(v) − f(a.min)) / (f(a.max) − f(a.min))`, `px = p.left + t·(p.right − p.left)`,
//! where `f = ln` when `a.log`, the identity otherwise. plotters rounds to whole pixels.
//!
//! **Text.** On native targets text is measured with the DejaVu Sans font committed in
//! `assets/` (plotters' `ab_glyph`, registered at first use; no system fonts). On `wasm32`,
//! plotters measures text through the DOM (`window().document().body()`): the charts work only
//! on a browser's main thread, and panic in Node or a Web Worker.

use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use spectralab_core::spectrum::analyze::LayerReport;

mod compare;
mod numerics;
mod series;
pub use compare::{esd_overlay_chart, heatmap_chart, EsdOverlaySpec, HeatmapSpec};
pub use numerics::{log_histogram, mp_density_curve, power_law_curve, LogHistogram};
pub use series::{series_chart, Series, SeriesChartSpec, SeriesStyle, SERIES_COLORS};

/// The font family every chart uses (registered under this name on native targets).
pub const FONT: &str = "sans-serif";

/// Number of log-spaced histogram bins of [`esd_chart`].
pub const ESD_BINS: usize = 60;

/// Colours of the chart elements (SVG `fill`/`stroke` values, for tests and for the page).
pub mod colors {
    /// Histogram bars (light theme; the dark theme uses [`BAR_DARK`]).
    pub const BAR: &str = "#6495ED";
    pub const BAR_DARK: &str = "#4F7BD0";
    /// Power-law fit (dashed).
    pub const POWER_LAW: &str = "#D62728";
    /// `x_min` marker.
    pub const XMIN: &str = "#2CA02C";
    /// Marchenko–Pastur density.
    pub const MP: &str = "#FF7F0E";
    /// Rank plot line / classic α series.
    pub const SERIES: &str = "#1F77B4";
    /// FARMS α series.
    pub const FARMS: &str = "#9467BD";
    /// Warning marker (α outside [2, 6]).
    pub const WARNING: &str = "#D62728";
}

#[cfg(not(target_arch = "wasm32"))]
fn ensure_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        static DEJAVU: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
        // The font is committed and known to parse; a failure would only leave text unmeasured.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU);
    });
}

#[cfg(target_arch = "wasm32")]
fn ensure_font() {}

/// A chart-rendering error (bad input, or plotters failed).
#[derive(Debug, Clone, PartialEq)]
pub struct PlotError(pub String);

impl std::fmt::Display for PlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlotError {}

fn err(msg: impl Into<String>) -> PlotError {
    PlotError(msg.into())
}

fn draw_err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError(format!("drawing failed: {e:?}"))
}

pub type Result<T> = std::result::Result<T, PlotError>;

/// Colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

/// Size, zoom and theme of a chart. From JS: `{ width, height, xRange: [lo, hi],
/// yRange: [lo, hi], theme: "light" | "dark" }`, every field optional.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChartOptions {
    /// SVG width in pixels (default 640; 200..=4000).
    pub width: u32,
    /// SVG height in pixels (default 420; 150..=4000).
    pub height: u32,
    /// Visible x range (zoom); `None`: fit the data. Must be positive on log axes.
    pub x_range: Option<(f64, f64)>,
    /// Visible y range (zoom); `None`: fit the data. Must be positive on log axes.
    pub y_range: Option<(f64, f64)>,
    pub theme: Theme,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            width: 640,
            height: 420,
            x_range: None,
            y_range: None,
            theme: Theme::Light,
        }
    }
}

/// Pixel box of the plotting area inside the SVG (`left < right`, `top < bottom`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlotArea {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

/// Value range of an axis; `log`: logarithmic axis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    pub log: bool,
}

impl Axis {
    /// Fraction `t ∈ [0, 1]` of the way from `min` to `max` (in log space on log axes).
    pub fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        }
    }
}

/// A rendered chart: SVG text and the geometry to map pixels ↔ values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSvg {
    pub svg: String,
    pub plot: PlotArea,
    pub x: Axis,
    pub y: Axis,
}

impl ChartSvg {
    /// Pixel position of value `(x, y)` (not clamped), see the module doc.
    pub fn to_pixel(&self, x: f64, y: f64) -> (f64, f64) {
        let p = &self.plot;
        (
            p.left as f64 + self.x.fraction(x) * (p.right - p.left) as f64,
            p.bottom as f64 - self.y.fraction(y) * (p.bottom - p.top) as f64,
        )
    }
}

/// MP-fit columns a chart needs (`LayerReport::mp`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartMp {
    #[serde(default)]
    pub sigma_mp: f64,
    #[serde(rename = "W_scale")]
    pub w_scale: f64,
    pub bulk_max: f64,
    pub bulk_min: f64,
    #[serde(default)]
    pub num_spikes: usize,
}

/// FARMS columns a chart needs (`LayerReport::farms`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartFarms {
    pub alpha: f64,
}

/// The columns of a `LayerReport` the charts use. Deserialises from a serialised `LayerReport`
/// (WeightWatcher's names: `N`, `M`, `D`, `W_scale`; unknown fields ignored, missing ones
/// default).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartLayer {
    pub name: String,
    #[serde(rename = "N")]
    pub n: usize,
    #[serde(rename = "M")]
    pub m: usize,
    pub num_evals: usize,
    pub alpha: Option<f64>,
    pub xmin: Option<f64>,
    pub xmax: Option<f64>,
    #[serde(rename = "D")]
    pub d: Option<f64>,
    pub num_pl_spikes: Option<usize>,
    pub status: String,
    pub warning: String,
    pub farms: Option<ChartFarms>,
    pub mp: Option<ChartMp>,
    /// The ESD (eigenvalues of WᵀW, ascending); needed by [`esd_chart`] and [`rank_chart`].
    pub evals: Option<Vec<f64>>,
}

impl From<&LayerReport> for ChartLayer {
    fn from(r: &LayerReport) -> Self {
        ChartLayer {
            name: r.name.clone(),
            n: r.n,
            m: r.m,
            num_evals: r.num_evals,
            alpha: r.alpha,
            xmin: r.xmin,
            xmax: r.xmax,
            d: r.d,
            num_pl_spikes: r.num_pl_spikes,
            status: r.status.clone(),
            warning: r.warning.clone(),
            farms: r.farms.as_ref().map(|f| ChartFarms { alpha: f.alpha }),
            mp: r.mp.as_ref().map(|m| ChartMp {
                sigma_mp: m.sigma_mp,
                w_scale: m.w_scale,
                bulk_max: m.bulk_max,
                bulk_min: m.bulk_min,
                num_spikes: m.num_spikes,
            }),
            evals: r.evals.clone(),
        }
    }
}

struct Palette {
    bg: RGBColor,
    fg: RGBColor,
    grid: RGBColor,
    bar: RGBColor,
}

fn palette(t: Theme) -> Palette {
    match t {
        Theme::Light => Palette {
            bg: RGBColor(255, 255, 255),
            fg: RGBColor(34, 34, 34),
            grid: RGBColor(221, 221, 221),
            bar: hex(colors::BAR),
        },
        Theme::Dark => Palette {
            bg: RGBColor(30, 30, 30),
            fg: RGBColor(230, 230, 230),
            grid: RGBColor(70, 70, 70),
            bar: hex(colors::BAR_DARK),
        },
    }
}

/// `#RRGGBB` → colour (only used on the constants above).
fn hex(s: &str) -> RGBColor {
    let v = u32::from_str_radix(&s[1..], 16).unwrap_or(0);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

/// Tick label: plain decimals in [1e-2, 1e4), else `1e-3` style.
pub fn format_tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-2..1e4).contains(&a) {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    }
}

/// Tick values of a log axis on `[lo, hi]`: `m·10^k` with mantissas chosen by the span
/// (1–9 under ~1 decade, 1-2-5 under ~3, powers of ten under ~8, then every other power).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && lo.is_finite() && hi.is_finite()) {
        return vec![];
    }
    let decades = (hi / lo).log10();
    let (mantissas, every): (&[f64], i32) = if decades <= 1.2 {
        (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1)
    } else if decades <= 3.0 {
        (&[1.0, 2.0, 5.0], 1)
    } else if decades <= 8.0 {
        (&[1.0], 1)
    } else {
        (&[1.0], 2)
    };
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut out = Vec::new();
    for k in k0..=k1 {
        if k.rem_euclid(every) != 0 {
            continue;
        }
        for &m in mantissas {
            // Parse the decimal text so that ticks are exact decimals (e.g. 0.3, not 0.30000000000000004).
            let v: f64 = format!("{m}e{k}").parse().unwrap_or(m * 10f64.powi(k));
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
    }
    out
}

fn check_options(o: &ChartOptions) -> Result<()> {
    if !(200..=4000).contains(&o.width) || !(150..=4000).contains(&o.height) {
        return Err(err(format!(
            "chart size {}×{} out of range (width 200..=4000, height 150..=4000)",
            o.width, o.height
        )));
    }
    Ok(())
}

fn check_range(r: (f64, f64), log: bool, what: &str) -> Result<(f64, f64)> {
    let (lo, hi) = r;
    if !lo.is_finite() || !hi.is_finite() || lo >= hi {
        return Err(err(format!(
            "{what} range [{lo}, {hi}] must be finite with min < max"
        )));
    }
    if log && lo <= 0.0 {
        return Err(err(format!(
            "{what} range [{lo}, {hi}] must be positive on a log axis"
        )));
    }
    Ok((lo, hi))
}

/// Data range padded on a log axis by `pad` (factor) and widened if degenerate.
fn log_span(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo / 2.0, hi * 2.0)
    };
    (lo / pad, hi * pad)
}

/// Validated ESD of a layer: finite, and the positive eigenvalues (log axes) ascending.
fn positive_esd(layer: &ChartLayer) -> Result<Vec<f64>> {
    let ev = layer.evals.as_ref().ok_or_else(|| {
        err(format!(
            "layer `{}` has no eigenvalues (`evals`): analyse it with keep_evals",
            layer.name
        ))
    })?;
    if ev.is_empty() {
        return Err(err(format!("layer `{}` has an empty ESD", layer.name)));
    }
    if let Some(bad) = ev.iter().find(|v| !v.is_finite()) {
        return Err(err(format!(
            "layer `{}`: non-finite eigenvalue {bad}",
            layer.name
        )));
    }
    let mut pos: Vec<f64> = ev.iter().copied().filter(|&v| v > 0.0).collect();
    if pos.is_empty() {
        return Err(err(format!(
            "layer `{}` has no positive eigenvalue to draw on a log axis",
            layer.name
        )));
    }
    pos.sort_by(f64::total_cmp);
    Ok(pos)
}

fn finite_opt(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// Splits a polyline into the runs of points inside the box (points outside are dropped, so a
/// curve leaving the box ends at its last inside point).
fn clip_runs(pts: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for &(a, b) in pts {
        if a.is_finite() && b.is_finite() && a >= x.0 && a <= x.1 && b >= y.0 && b <= y.1 {
            cur.push((a, b));
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

type Chart<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;

fn area_of<X, Y>(chart: &Chart<'_, '_, X, Y>, x: (f64, f64), y: (f64, f64)) -> PlotArea
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let (left, bottom) = chart.backend_coord(&(x.0, y.0));
    let (right, top) = chart.backend_coord(&(x.1, y.1));
    PlotArea {
        left,
        top,
        right,
        bottom,
    }
}

fn text_style(size: u32, c: &RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(c)
}

fn root_area<'s>(
    svg: &'s mut String,
    o: &ChartOptions,
    pal: &Palette,
) -> Result<DrawingArea<SVGBackend<'s>, Shift>> {
    let root = SVGBackend::with_string(svg, (o.width, o.height)).into_drawing_area();
    root.fill(&pal.bg).map_err(draw_err)?;
    Ok(root)
}

fn legend<'a, 'b: 'a, X, Y>(
    chart: &mut Chart<'a, 'b, X, Y>,
    pal: &Palette,
    pos: SeriesLabelPosition,
) -> Result<()>
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(pal.bg.mix(0.85))
        .border_style(pal.grid)
        .label_font(text_style(12, &pal.fg))
        .draw()
        .map_err(draw_err)
}

/// Log-log histogram (density, [`ESD_BINS`] log-spaced bins) of the layer's ESD, with the
/// fitted power law from `x_min` (dashed), a vertical `x_min` marker, the Marchenko–Pastur
/// density when the layer has an MP fit, a title with name, α and D, and a legend.
///
/// x: eigenvalue λ (log), y: density (log), normalised over the positive eigenvalues (zero
/// eigenvalues cannot sit on a log axis; the legend counts them). Empty bins are not drawn.
pub fn esd_chart(layer: &ChartLayer, opts: &ChartOptions) -> Result<ChartSvg> {
    check_options(opts)?;
    let ev = positive_esd(layer)?;
    let zeros = layer.evals.as_ref().map_or(0, |e| e.len()) - ev.len();
    let hist = log_histogram(&ev, ESD_BINS)?;
    let xmin = finite_opt(layer.xmin).filter(|&v| v > 0.0);
    let alpha = finite_opt(layer.alpha);

    let (dmin, dmax) = hist
        .density
        .iter()
        .filter(|&&d| d > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(a, b), &d| (a.min(d), b.max(d)));
    let x = match opts.x_range {
        Some(r) => check_range(r, true, "x")?,
        None => log_span(hist.edges[0], hist.edges[hist.edges.len() - 1], 1.15),
    };
    let y = match opts.y_range {
        Some(r) => check_range(r, true, "y")?,
        None => {
            // Head-room above the tallest bar for the legend (top ~25% of the plot).
            let (lo, hi) = log_span(dmin, dmax, 2.0);
            (lo, hi * (hi / lo).powf(0.35))
        }
    };

    // Curves (chart-specific sampling, see `numerics`).
    let pl = match (alpha, xmin) {
        (Some(a), Some(xm)) if a > 1.0 => {
            let tail = ev.iter().filter(|&&v| v >= xm).count() as f64 / ev.len() as f64;
            Some(power_law_curve(a, xm, tail, ev[ev.len() - 1].max(x.1), 100))
        }
        _ => None,
    };
    let mp = layer.mp.and_then(|m| mp_density_curve(&m, 300));

    let pal = palette(opts.theme);
    let mut svg = String::new();
    let plot = {
        ensure_font();
        let root = root_area(&mut svg, opts, &pal)?;
        let title = match (alpha, finite_opt(layer.d)) {
            (Some(a), Some(d)) => format!("{} — α = {a:.3}, D = {d:.3}", layer.name),
            (Some(a), None) => format!("{} — α = {a:.3}", layer.name),
            _ => format!("{} — no power-law fit", layer.name),
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, text_style(15, &pal.fg))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d(
                (x.0..x.1).log_scale().with_key_points(log_ticks(x.0, x.1)),
                (y.0..y.1).log_scale().with_key_points(log_ticks(y.0, y.1)),
            )
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("eigenvalue λ of WᵀW")
            .y_desc("density")
            .axis_desc_style(text_style(13, &pal.fg))
            .label_style(text_style(11, &pal.fg))
            .axis_style(pal.fg)
            .bold_line_style(pal.grid)
            .light_line_style(pal.bg)
            .x_labels(10)
            .y_labels(10)
            .x_label_formatter(&|v| format_tick(*v))
            .y_label_formatter(&|v| format_tick(*v))
            .draw()
            .map_err(draw_err)?;

        let bar = pal.bar;
        let bars: Vec<Rectangle<(f64, f64)>> = hist
            .density
            .iter()
            .enumerate()
            .filter(|(_, &d)| d > 0.0)
            .filter_map(|(i, &d)| {
                let (lo, hi) = (hist.edges[i].max(x.0), hist.edges[i + 1].min(x.1));
                let top = d.min(y.1);
                (lo < hi && top > y.0).then(|| Rectangle::new([(lo, y.0), (hi, top)], bar.filled()))
            })
            .collect();
        let label = if zeros > 0 {
            format!("ESD ({} eigenvalues, {zeros} zero)", ev.len())
        } else {
            format!("ESD ({} eigenvalues)", ev.len())
        };
        chart
            .draw_series(bars)
            .map_err(draw_err)?
            .label(label)
            .legend(move |(a, b)| Rectangle::new([(a, b - 5), (a + 14, b + 5)], bar.filled()));

        if let (Some(pts), Some(a)) = (&pl, alpha) {
            let c = hex(colors::POWER_LAW);
            let style = c.stroke_width(2);
            let mut first = true;
            for run in clip_runs(pts, x, y) {
                let s = chart
                    .draw_series(DashedLineSeries::new(run, 7, 5, style))
                    .map_err(draw_err)?;
                if first {
                    s.label(format!("power law α = {a:.2}"))
                        .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 14, b)], style));
                    first = false;
                }
            }
        }
        if let Some(pts) = &mp {
            let c = hex(colors::MP);
            let style = c.stroke_width(2);
            let mut first = true;
            let label = match layer.mp {
                Some(m) if m.sigma_mp.is_finite() && m.sigma_mp > 0.0 => {
                    format!("Marchenko–Pastur σ = {:.3}", m.sigma_mp)
                }
                _ => "Marchenko–Pastur".to_string(),
            };
            for run in clip_runs(pts, x, y) {
                let s = chart
                    .draw_series(LineSeries::new(run, style))
                    .map_err(draw_err)?;
                if first {
                    s.label(label.clone())
                        .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 14, b)], style));
                    first = false;
                }
            }
        }
        if let Some(xm) = xmin.filter(|v| *v >= x.0 && *v <= x.1) {
            let style = hex(colors::XMIN).stroke_width(2);
            chart
                .draw_series(LineSeries::new(vec![(xm, y.0), (xm, y.1)], style))
                .map_err(draw_err)?
                .label(format!("x_min = {}", format_tick(xm)))
                .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 14, b)], style));
        }
        legend(&mut chart, &pal, SeriesLabelPosition::UpperRight)?;
        let plot = area_of(&chart, x, y);
        drop(chart);
        root.present().map_err(draw_err)?;
        plot
    };
    Ok(ChartSvg {
        svg,
        plot,
        x: Axis {
            min: x.0,
            max: x.1,
            log: true,
        },
        y: Axis {
            min: y.0,
            max: y.1,
            log: true,
        },
    })
}

/// Eigenvalues against rank (rank 1 = largest), log-log, as one line with a point per
/// eigenvalue (positive eigenvalues only), and a horizontal `x_min` marker.
pub fn rank_chart(layer: &ChartLayer, opts: &ChartOptions) -> Result<ChartSvg> {
    check_options(opts)?;
    let ev = positive_esd(layer)?;
    let n = ev.len();
    let pts: Vec<(f64, f64)> = ev
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &v)| ((i + 1) as f64, v))
        .collect();
    let xmin = finite_opt(layer.xmin).filter(|&v| v > 0.0);
    let x = match opts.x_range {
        Some(r) => check_range(r, true, "x")?,
        None => log_span(1.0, n as f64, 1.1),
    };
    let y = match opts.y_range {
        Some(r) => check_range(r, true, "y")?,
        None => log_span(ev[0], ev[n - 1], 1.5),
    };
    let pal = palette(opts.theme);
    let mut svg = String::new();
    let plot = {
        ensure_font();
        let root = root_area(&mut svg, opts, &pal)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{} — eigenvalues by rank", layer.name),
                text_style(15, &pal.fg),
            )
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d(
                (x.0..x.1).log_scale().with_key_points(log_ticks(x.0, x.1)),
                (y.0..y.1).log_scale().with_key_points(log_ticks(y.0, y.1)),
            )
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("rank")
            .y_desc("eigenvalue λ")
            .axis_desc_style(text_style(13, &pal.fg))
            .label_style(text_style(11, &pal.fg))
            .axis_style(pal.fg)
            .bold_line_style(pal.grid)
            .light_line_style(pal.bg)
            .x_labels(10)
            .y_labels(10)
            .x_label_formatter(&|v| format_tick(*v))
            .y_label_formatter(&|v| format_tick(*v))
            .draw()
            .map_err(draw_err)?;
        let style = hex(colors::SERIES).stroke_width(2);
        let mut first = true;
        for run in clip_runs(&pts, x, y) {
            let s = chart
                .draw_series(LineSeries::new(run, style))
                .map_err(draw_err)?;
            if first {
                s.label(format!("{n} eigenvalues"))
                    .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 14, b)], style));
                first = false;
            }
        }
        if let Some(xm) = xmin.filter(|v| *v >= y.0 && *v <= y.1) {
            let style = hex(colors::XMIN).stroke_width(2);
            chart
                .draw_series(LineSeries::new(vec![(x.0, xm), (x.1, xm)], style))
                .map_err(draw_err)?
                .label(format!("x_min = {}", format_tick(xm)))
                .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 14, b)], style));
        }
        legend(&mut chart, &pal, SeriesLabelPosition::LowerLeft)?;
        let plot = area_of(&chart, x, y);
        drop(chart);
        root.present().map_err(draw_err)?;
        plot
    };
    Ok(ChartSvg {
        svg,
        plot,
        x: Axis {
            min: x.0,
            max: x.1,
            log: true,
        },
        y: Axis {
            min: y.0,
            max: y.1,
            log: true,
        },
    })
}

/// α per layer along the network depth: x = row index (0-based, the order of `layers`), classic
/// α and FARMS α (when any layer has it) as two series with markers, the WeightWatcher band
/// 2 ≤ α ≤ 6 shaded, and layers with a `warning` circled. Layers without a fit are left out of
/// the series (gaps in x).
pub fn alpha_chart(layers: &[ChartLayer], opts: &ChartOptions) -> Result<ChartSvg> {
    check_options(opts)?;
    if layers.is_empty() {
        return Err(err("no layers to chart"));
    }
    let classic: Vec<(f64, f64)> = layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| finite_opt(l.alpha).map(|a| (i as f64, a)))
        .collect();
    let farms: Vec<(f64, f64)> = layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            l.farms
                .and_then(|f| finite_opt(Some(f.alpha)))
                .map(|a| (i as f64, a))
        })
        .collect();
    if classic.is_empty() && farms.is_empty() {
        return Err(err("no layer has a finite α to chart"));
    }
    let warned: Vec<(f64, f64)> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.warning.is_empty())
        .filter_map(|(i, l)| finite_opt(l.alpha).map(|a| (i as f64, a)))
        .collect();
    let (amin, amax) = classic
        .iter()
        .chain(&farms)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let x = match opts.x_range {
        Some(r) => check_range(r, false, "x")?,
        None => (-0.5, layers.len() as f64 - 0.5),
    };
    let y = match opts.y_range {
        Some(r) => check_range(r, false, "y")?,
        None => {
            // Head-room above the highest α for the legend.
            let (lo, hi) = ((amin - 0.5).clamp(0.0, 1.5), (amax + 0.5).max(6.5));
            (lo, hi + 0.35 * (hi - lo))
        }
    };
    let pal = palette(opts.theme);
    let mut svg = String::new();
    let plot = {
        ensure_font();
        let root = root_area(&mut svg, opts, &pal)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("α per layer ({} layers)", layers.len()),
                text_style(15, &pal.fg),
            )
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(50)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("layer (network depth order)")
            .y_desc("α")
            .axis_desc_style(text_style(13, &pal.fg))
            .label_style(text_style(11, &pal.fg))
            .axis_style(pal.fg)
            .bold_line_style(pal.grid)
            .light_line_style(pal.bg)
            .x_labels(10)
            .y_labels(10)
            .x_label_formatter(&|v| format_tick(*v))
            .y_label_formatter(&|v| format_tick(*v))
            .draw()
            .map_err(draw_err)?;
        // The 2 ≤ α ≤ 6 band, clipped to the visible range.
        let (b0, b1) = (2.0f64.max(y.0), 6.0f64.min(y.1));
        if b0 < b1 {
            let band = hex(colors::XMIN).mix(0.15);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x.0, b0), (x.1, b1)],
                    band.filled(),
                )))
                .map_err(draw_err)?
                .label("2 ≤ α ≤ 6")
                .legend(move |(a, b)| Rectangle::new([(a, b - 5), (a + 14, b + 5)], band.filled()));
        }
        let series = [
            (classic, colors::SERIES, "α (power law)", false),
            (farms, colors::FARMS, "α (FARMS)", true),
        ];
        for (pts, color, name, square) in series {
            if pts.is_empty() {
                continue;
            }
            let c = hex(color);
            let style = c.stroke_width(2);
            let runs = clip_runs(&pts, x, y);
            let mut first = true;
            for run in runs {
                let s = chart
                    .draw_series(LineSeries::new(run.clone(), style))
                    .map_err(draw_err)?;
                if first {
                    s.label(name)
                        .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 14, b)], style));
                    first = false;
                }
                if square {
                    chart
                        .draw_series(run.iter().map(|&p| TriangleMarker::new(p, 5, c.filled())))
                        .map_err(draw_err)?;
                } else {
                    chart
                        .draw_series(run.iter().map(|&p| Circle::new(p, 4, c.filled())))
                        .map_err(draw_err)?;
                }
            }
        }
        let warned: Vec<(f64, f64)> = clip_runs(&warned, x, y).into_iter().flatten().collect();
        if !warned.is_empty() {
            let w = hex(colors::WARNING).stroke_width(2);
            chart
                .draw_series(warned.iter().map(|&p| Circle::new(p, 8, w)))
                .map_err(draw_err)?
                .label("warning (α < 2 or > 6)")
                .legend(move |(a, b)| Circle::new((a + 7, b), 5, w));
        }
        legend(&mut chart, &pal, SeriesLabelPosition::UpperRight)?;
        let plot = area_of(&chart, x, y);
        drop(chart);
        root.present().map_err(draw_err)?;
        plot
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

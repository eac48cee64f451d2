//! SVG charts (`spectralab-plot`) of the rows `analyzeLayer` / `analyzeModel` return.
//!
//! **Browser main thread only**: plotters measures text through the DOM
//! (`window().document().body()`), which Node and Web Workers do not have. Each export checks
//! for a `document.body` first and returns a `JsError` instead of panicking.
//!
//! Each returns `{ svg, plot: { left, top, right, bottom }, x: { min, max, log }, y: {…} }`:
//! `plot` is the plotting area in SVG pixels and `x`/`y` the visible value ranges (on a log
//! axis, map with `ln`). `options` (optional): `{ width, height, xRange: [lo, hi],
//! yRange: [lo, hi], theme: "light" | "dark" }`; zoom = call again with a new range.

use serde::de::DeserializeOwned;
use spectralab_plot::{ChartLayer, ChartOptions, ChartSvg, PlotError, SeriesChartSpec};
use wasm_bindgen::prelude::*;

fn has_dom_body() -> bool {
    let global = js_sys::global();
    let document = js_sys::Reflect::get(&global, &JsValue::from_str("document"))
        .ok()
        .filter(|d| d.is_object());
    document
        .and_then(|d| js_sys::Reflect::get(&d, &JsValue::from_str("body")).ok())
        .is_some_and(|b| b.is_object())
}

fn require_dom() -> Result<(), JsError> {
    if has_dom_body() {
        Ok(())
    } else {
        Err(JsError::new(
            "charts need a browser main thread with document.body (plotters measures text \
             through the DOM); they cannot run in Node or a Web Worker",
        ))
    }
}

fn from_js<T: DeserializeOwned>(v: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("{what}: {e}")))
}

fn options(v: JsValue) -> Result<ChartOptions, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(ChartOptions::default());
    }
    from_js(v, "chart options")
}

fn out(r: Result<ChartSvg, PlotError>) -> Result<JsValue, JsError> {
    let c = r.map_err(|e| JsError::new(&e.to_string()))?;
    crate::to_js(&c)
}

/// Log-log ESD histogram of one layer row (needs `evals`: analyse with `keepEvals`), with the
/// power-law fit, the `xmin` marker and the MP density (when the row has an MP fit).
#[wasm_bindgen(js_name = esdChart)]
pub fn esd_chart(layer: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let layer: ChartLayer = from_js(layer, "layer")?;
    let opts = self::options(options)?;
    require_dom()?;
    out(spectralab_plot::esd_chart(&layer, &opts))
}

/// Eigenvalue against rank (log-log) of one layer row (needs `evals`), with the `xmin` marker.
/// (The lab's; the widgets' spectrum module leaves it out.)
#[cfg(feature = "lab")]
#[wasm_bindgen(js_name = rankChart)]
pub fn rank_chart(layer: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let layer: ChartLayer = from_js(layer, "layer")?;
    let opts = self::options(options)?;
    require_dom()?;
    out(spectralab_plot::rank_chart(&layer, &opts))
}

/// α per layer (x = position in `layers`), classic and FARMS α, the 2 ≤ α ≤ 6 band, layers
/// with a `warning` circled. `layers`: the `layers` array of `analyzeModel`'s report, or the
/// rows of `analyzeLayer` in file order.
#[wasm_bindgen(js_name = alphaChart)]
pub fn alpha_chart(layers: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let layers: Vec<ChartLayer> = from_js(layers, "layers")?;
    let opts = self::options(options)?;
    require_dom()?;
    out(spectralab_plot::alpha_chart(&layers, &opts))
}

/// Generic x–y chart: `spec = {title, xLabel, yLabel, xLog, yLog, series: [{name, x, y,
/// style: "line" | "points" | "both", highlight, color: "#RRGGBB", dashed}]}` (x/y: arrays or
/// Float64Arrays). Used by the metrics, compression and transform panels and the widgets.
#[wasm_bindgen(js_name = seriesChart)]
pub fn series_chart(spec: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let spec: SeriesChartSpec = from_js(spec, "series chart")?;
    let opts = self::options(options)?;
    require_dom()?;
    out(spectralab_plot::series_chart(&spec, &opts))
}

/// The two ESDs of a compared layer on common log bins: `{name, base, other, baseLabel,
/// otherLabel}` (eigenvalues as arrays or Float64Arrays; see `spectralab_plot::compare`).
#[wasm_bindgen(js_name = esdOverlayChart)]
pub fn esd_overlay_chart(spec: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let spec: spectralab_plot::EsdOverlaySpec = from_js(spec, "ESD overlay")?;
    let opts = self::options(options)?;
    require_dom()?;
    out(spectralab_plot::esd_overlay_chart(&spec, &opts))
}

/// A matrix as a heatmap: `{title, xLabel, yLabel, matrix: [[…]], vmin = 0, vmax = 1}` (the
/// comparison's `overlap_matrix`; row 1 at the top).
#[wasm_bindgen(js_name = heatmapChart)]
pub fn heatmap_chart(spec: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let spec: spectralab_plot::HeatmapSpec = from_js(spec, "heatmap")?;
    let opts = self::options(options)?;
    require_dom()?;
    out(spectralab_plot::heatmap_chart(&spec, &opts))
}

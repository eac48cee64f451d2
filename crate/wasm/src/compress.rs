//! Bindings of `spectralab_core::session::compress`: per-layer truncation curves from a layer's
//! ESD, the model-level rank planner (budget → ranks) and the structured trade-off curves of one
//! tensor.
//!
//! Spectra cross as Gram eigenvalues `λ = σ²` (the `evals` an `analyzeLayer` row keeps with
//! `keepEvals`), any order. Errors are relative Frobenius (`‖W − Ŵ‖_F / ‖W‖_F`); byte counts
//! follow the core's accounting (`spectralab_core::compress`).

use spectralab_core::session::compress::{self, PlannerLayer, RankPlanner};
use spectralab_core::session::options::{
    MethodOption, ObjectiveOption, TargetOptions, TradeoffOptions,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{from_js_checked, js_err, js_source, options, to_js};

/// Truncated-SVD curve of a `rows × cols` layer from its Gram eigenvalues `evals` (λ = σ²):
/// `{rows, cols, totalEnergy, denseParams, denseBytes: {f32, f16, int8, int4}, breakEven,
/// maxSavingRank, energyRanks: [{threshold, rank}], rank, relFroError, spectralError,
/// retainedEnergy, params, bytesF32, bytesF16, bytesInt8, bytesInt4}` (the columns: one entry per
/// rank `0..=min(rows, cols)`; rank-`k` factors store `params[k] = k(rows + cols)` numbers, bytes
/// at each precision with the core's group-scale accounting).
#[wasm_bindgen(js_name = truncationCurve)]
pub fn truncation_curve(evals: &[f64], rows: usize, cols: usize) -> Result<JsValue, JsError> {
    to_js(&compress::truncation_columns(evals, rows, cols).map_err(js_err)?)
}

/// `{kind: "fraction" | "params" | "bytes" | "error", value, precision?}` (unknown keys refused).
fn target(target: JsValue) -> Result<TargetOptions, JsError> {
    from_js_checked(target, "target").map_err(|e| {
        let m = String::from(js_sys::Error::from(JsValue::from(e)).message());
        JsError::new(&format!(
            "{m} (expected {{kind: 'fraction' | 'params' | 'bytes' | 'error', value, precision?}})"
        ))
    })
}

fn objective(o: Option<String>) -> Result<Option<ObjectiveOption>, JsError> {
    o.map(|o| o.parse()).transpose().map_err(js_err)
}

fn field(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `[{name, rows, cols, evals}]` (evals a Float64Array or an array) as the core's planner input
/// (the core checks each field and names the layer).
fn planner_layers(layers: &JsValue) -> Result<Vec<PlannerLayer>, JsError> {
    let arr = layers
        .dyn_ref::<js_sys::Array>()
        .ok_or_else(|| JsError::new("layers: expected an array of {name, rows, cols, evals}"))?;
    let evals = |ev: JsValue| {
        let ok = ev.is_instance_of::<js_sys::Float64Array>() || js_sys::Array::is_array(&ev);
        ok.then(|| js_sys::Float64Array::new(&ev).to_vec())
    };
    let layer = |l: JsValue| PlannerLayer {
        name: field(&l, "name").as_string(),
        rows: field(&l, "rows").as_f64(),
        cols: field(&l, "cols").as_f64(),
        evals: evals(field(&l, "evals")),
    };
    Ok(arr.iter().map(layer).collect())
}

/// Model-level rank planner: built once from every layer's spectrum, then re-planned for each
/// budget/method the user tries (microseconds to a few milliseconds).
#[wasm_bindgen]
pub struct CompressPlanner(RankPlanner);

#[wasm_bindgen]
impl CompressPlanner {
    /// `layers = [{name, rows, cols, evals}]` with `evals` the Gram eigenvalues (Float64Array or
    /// array). Errors name the layer.
    #[wasm_bindgen(constructor)]
    pub fn new(layers: JsValue) -> Result<CompressPlanner, JsError> {
        let planner = RankPlanner::new(planner_layers(&layers)?).map_err(js_err)?;
        Ok(CompressPlanner(planner))
    }

    /// Number of layers.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.0.len()
    }

    /// Dense parameter count of all layers.
    #[wasm_bindgen(getter, js_name = denseParams)]
    pub fn dense_params(&self) -> f64 {
        self.0.dense_params() as f64
    }

    /// Ranks for `target = {kind: 'fraction' | 'params' | 'bytes' | 'error', value,
    /// precision?: 'f32' | 'f16' | 'int8' | 'int4'}` with `method` (`uniform | energy | greedy |
    /// welore`) and `objective` (`absolute` (default) | `relative`). Returns the allocation
    /// `{method, objective, knob, budget_params, layers: [{name, rows, cols, rank, dense, params,
    /// rel_fro_error}], params, dense_params, model_rel_error, rms_layer_rel_error,
    /// objective_value, bytes: {f32, f16, int8, int4}, dense_bytes, precision}` and keeps it for
    /// [`Self::plan_json`].
    pub fn allocate(
        &mut self,
        target: JsValue,
        method: &str,
        objective: Option<String>,
    ) -> Result<JsValue, JsError> {
        let (t, o) = (self::target(target)?, self::objective(objective)?);
        let m: MethodOption = method.parse().map_err(js_err)?;
        to_js(&self.0.allocate(&t, m.into(), o).map_err(js_err)?)
    }

    /// The same target with every method (uniform, energy, greedy, WeLore), allocations as
    /// [`Self::allocate`] returns them but without `layers` (totals only).
    pub fn compare(&self, target: JsValue, objective: Option<String>) -> Result<JsValue, JsError> {
        let (t, o) = (self::target(target)?, self::objective(objective)?);
        to_js(&self.0.compare(&t, o).map_err(js_err)?)
    }

    /// `{tensor: rank}` of the last [`Self::allocate`] (pretty JSON; a dense layer has rank
    /// `min(rows, cols)`).
    #[wasm_bindgen(js_name = planJson)]
    pub fn plan_json(&self) -> Result<String, JsError> {
        self.0.plan_json().map_err(js_err)
    }
}

/// Every structured (error, bytes) curve of the tensor `tensor_name` of a model file (read as
/// `analyzeModel` does, through `readAt`), grouped per method, with their Pareto front:
/// `{tensor, rows, cols, denseBytes, series: [{method, param, bytes, error}], pareto: {method:
/// "pareto", param, bytes, error, methods}}` (`methods`: the method of each front point). A
/// tensor of more than 2 dimensions is flattened to `shape[0] × rest`. `options`:
/// `{precision: 'f16'}` (precision of plain SVD factors).
#[wasm_bindgen(js_name = tradeoffCurves)]
pub fn tradeoff_curves_js(
    length: f64,
    read_at: js_sys::Function,
    name: &str,
    tensor_name: &str,
    options: JsValue,
) -> Result<JsValue, JsError> {
    let o: TradeoffOptions = self::options(options, "options")?;
    let src = js_source(length, read_at)?;
    to_js(&compress::tradeoff_report(&src, name, tensor_name, &o).map_err(js_err)?)
}

//! Bindings of `spectralab_core::compress`: per-layer truncation curves from a layer's ESD, the
//! model-level rank planner (budget → ranks) and the structured trade-off curves of one tensor.
//!
//! Spectra cross as Gram eigenvalues `λ = σ²` (the `evals` an `analyzeLayer` row keeps with
//! `keepEvals`), any order. Errors are relative Frobenius (`‖W − Ŵ‖_F / ‖W‖_F`); byte counts
//! follow the core's accounting (`spectralab_core::compress`).

use serde::{Deserialize, Serialize};
use spectralab_core::compress::budget::{
    Allocation, AllocationMethod, BudgetParams, BudgetPlan, BudgetTarget, ErrorObjective,
    LayerSpectrum,
};
use spectralab_core::compress::structured::{tradeoff_curves, TradeoffParams};
use spectralab_core::compress::truncation::{self, Spectrum};
use spectralab_core::compress::{pareto_front, Precision, TradeoffPoint};
use spectralab_core::formats::{read_tensor, ReadParams, TensorData};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{js_err, to_js};

/// Column view of a truncation curve (index = rank `0..=min(rows, cols)`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TruncationColumns {
    rows: usize,
    cols: usize,
    total_energy: f64,
    dense_params: u64,
    dense_bytes: truncation::BytesByPrecision,
    break_even: f64,
    max_saving_rank: usize,
    energy_ranks: Vec<truncation::EnergyRank>,
    rank: Vec<u32>,
    rel_fro_error: Vec<f64>,
    spectral_error: Vec<f64>,
    retained_energy: Vec<f64>,
    params: Vec<f64>,
    bytes_f32: Vec<f64>,
    bytes_f16: Vec<f64>,
    bytes_int8: Vec<f64>,
    bytes_int4: Vec<f64>,
}

/// Truncated-SVD curve of a `rows × cols` layer from its Gram eigenvalues `evals` (λ = σ²):
/// `{rows, cols, totalEnergy, denseParams, denseBytes: {f32, f16, int8, int4}, breakEven,
/// maxSavingRank, energyRanks: [{threshold, rank}], rank, relFroError, spectralError,
/// retainedEnergy, params, bytesF32, bytesF16, bytesInt8, bytesInt4}` (the columns: one entry per
/// rank `0..=min(rows, cols)`; rank-`k` factors store `params[k] = k(rows + cols)` numbers, bytes
/// at each precision with the core's group-scale accounting).
#[wasm_bindgen(js_name = truncationCurve)]
pub fn truncation_curve(evals: &[f64], rows: usize, cols: usize) -> Result<JsValue, JsError> {
    let r = truncation::truncation_curve(Spectrum::Eigenvalues(evals), rows, cols)
        .map_err(|e| JsError::new(&format!("truncationCurve ({rows} × {cols}): {e}")))?;
    let col = |f: fn(&truncation::TruncationPoint) -> f64| r.points.iter().map(f).collect();
    let out = TruncationColumns {
        rows,
        cols,
        total_energy: r.total_energy,
        dense_params: r.dense_params,
        dense_bytes: r.dense_bytes,
        break_even: r.break_even,
        max_saving_rank: r.max_saving_rank,
        energy_ranks: r.energy_ranks.clone(),
        rank: r.points.iter().map(|p| p.rank as u32).collect(),
        rel_fro_error: col(|p| p.rel_fro_error),
        spectral_error: col(|p| p.spectral_error),
        retained_energy: col(|p| p.retained_energy),
        params: col(|p| p.params as f64),
        bytes_f32: col(|p| p.bytes.f32 as f64),
        bytes_f16: col(|p| p.bytes.f16 as f64),
        bytes_int8: col(|p| p.bytes.int8 as f64),
        bytes_int4: col(|p| p.bytes.int4 as f64),
    };
    to_js(&out)
}

/// `{kind: "fraction" | "params" | "bytes" | "error", value, precision?}`.
#[derive(Deserialize)]
struct TargetSpec {
    kind: String,
    value: f64,
    precision: Option<String>,
}

fn parse_precision(p: Option<&str>) -> Result<Precision, JsError> {
    match p {
        None => Ok(Precision::F16),
        Some(s) => Precision::parse(s).ok_or_else(|| {
            JsError::new(&format!(
                "precision: unknown `{s}` (f32 | f16 | int8 | int4)"
            ))
        }),
    }
}

/// serde-wasm-bindgen reads only the fields a struct names, so typos are rejected here.
fn reject_unknown(v: &JsValue, known: &[&str], what: &str) -> Result<(), JsError> {
    if let Some(obj) = v.dyn_ref::<js_sys::Object>() {
        for key in js_sys::Object::keys(obj)
            .iter()
            .filter_map(|k| k.as_string())
        {
            if !known.contains(&key.as_str()) {
                return Err(JsError::new(&format!(
                    "{what}: unknown field `{key}` (known: {})",
                    known.join(", ")
                )));
            }
        }
    }
    Ok(())
}

fn parse_target(target: JsValue) -> Result<(BudgetTarget, Precision), JsError> {
    reject_unknown(&target, &["kind", "value", "precision"], "target")?;
    let t: TargetSpec = serde_wasm_bindgen::from_value(target).map_err(|e| {
        JsError::new(&format!(
            "target: {e} (expected {{kind: 'fraction' | 'params' | 'bytes' | 'error', value, \
             precision?}})"
        ))
    })?;
    let precision = parse_precision(t.precision.as_deref())?;
    let v = t.value;
    let count = |what: &str| {
        if v.is_finite() && v >= 0.0 && v <= 2f64.powi(53) {
            Ok(v as u64)
        } else {
            Err(JsError::new(&format!(
                "target: {what} must be a non-negative count, got {v}"
            )))
        }
    };
    let target = match t.kind.as_str() {
        "fraction" => BudgetTarget::ParamFraction(v),
        "params" => BudgetTarget::Params(count("params")?),
        "bytes" => BudgetTarget::Bytes {
            bytes: count("bytes")?,
            precision,
        },
        "error" => BudgetTarget::ErrorCeiling(v),
        k => {
            return Err(JsError::new(&format!(
                "target: unknown kind `{k}` (fraction | params | bytes | error)"
            )))
        }
    };
    Ok((target, precision))
}

fn parse_method(m: &str) -> Result<AllocationMethod, JsError> {
    AllocationMethod::parse(m).ok_or_else(|| {
        JsError::new(&format!(
            "method: unknown `{m}` (uniform | energy | greedy | welore)"
        ))
    })
}

fn parse_objective(o: Option<String>) -> Result<ErrorObjective, JsError> {
    match o.as_deref() {
        None | Some("absolute") => Ok(ErrorObjective::Absolute),
        Some("relative") => Ok(ErrorObjective::Relative),
        Some(x) => Err(JsError::new(&format!(
            "objective: unknown `{x}` (absolute | relative)"
        ))),
    }
}

/// An [`Allocation`] with its byte totals at every precision and the precision asked for.
#[derive(Serialize)]
struct AllocationOut<'a> {
    #[serde(flatten)]
    alloc: &'a Allocation,
    bytes: truncation::BytesByPrecision,
    dense_bytes: truncation::BytesByPrecision,
    precision: &'static str,
}

fn allocation_out(a: &Allocation, p: Precision) -> AllocationOut<'_> {
    let dense = |q: Precision| {
        a.layers
            .iter()
            .map(|l| q.bytes(l.rows as u64 * l.cols as u64))
            .sum()
    };
    AllocationOut {
        alloc: a,
        bytes: truncation::BytesByPrecision {
            f32: a.bytes(Precision::F32),
            f16: a.bytes(Precision::F16),
            int8: a.bytes(Precision::Int8),
            int4: a.bytes(Precision::Int4),
        },
        dense_bytes: truncation::BytesByPrecision {
            f32: dense(Precision::F32),
            f16: dense(Precision::F16),
            int8: dense(Precision::Int8),
            int4: dense(Precision::Int4),
        },
        precision: p.name(),
    }
}

/// Model-level rank planner: built once from every layer's spectrum, then re-planned for each
/// budget/method the user tries (microseconds to a few milliseconds).
#[wasm_bindgen]
pub struct CompressPlanner {
    plan: BudgetPlan,
    last: Option<Allocation>,
}

fn field(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

#[wasm_bindgen]
impl CompressPlanner {
    /// `layers = [{name, rows, cols, evals}]` with `evals` the Gram eigenvalues (Float64Array or
    /// array). Errors name the layer.
    #[wasm_bindgen(constructor)]
    pub fn new(layers: JsValue) -> Result<CompressPlanner, JsError> {
        let arr = layers.dyn_ref::<js_sys::Array>().ok_or_else(|| {
            JsError::new("layers: expected an array of {name, rows, cols, evals}")
        })?;
        if arr.length() == 0 {
            return Err(JsError::new(
                "layers: empty (no analysed layer to plan; analyse a model with keepEvals first)",
            ));
        }
        let mut names = Vec::with_capacity(arr.length() as usize);
        let mut shapes = Vec::with_capacity(names.capacity());
        let mut spectra = Vec::with_capacity(names.capacity());
        for (i, l) in arr.iter().enumerate() {
            let name = field(&l, "name")
                .as_string()
                .unwrap_or_else(|| format!("layer {i}"));
            let dim = |key: &str| {
                field(&l, key)
                    .as_f64()
                    .filter(|v| v.is_finite() && *v >= 1.0 && v.fract() == 0.0 && *v <= 1e9)
                    .map(|v| v as usize)
                    .ok_or_else(|| {
                        JsError::new(&format!("{name}: `{key}` must be a positive integer"))
                    })
            };
            let (rows, cols) = (dim("rows")?, dim("cols")?);
            let ev = field(&l, "evals");
            if !(ev.is_instance_of::<js_sys::Float64Array>() || js_sys::Array::is_array(&ev)) {
                return Err(JsError::new(&format!(
                    "{name}: `evals` missing (analyse with keepEvals: true)"
                )));
            }
            names.push(name);
            shapes.push((rows, cols));
            spectra.push(js_sys::Float64Array::new(&ev).to_vec());
        }
        let specs: Vec<LayerSpectrum> = (0..names.len())
            .map(|i| LayerSpectrum {
                name: &names[i],
                rows: shapes[i].0,
                cols: shapes[i].1,
                spectrum: Spectrum::Eigenvalues(&spectra[i]),
            })
            .collect();
        let plan = BudgetPlan::new(&specs).map_err(js_err)?;
        Ok(CompressPlanner { plan, last: None })
    }

    /// Number of layers.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.plan.len()
    }

    /// Dense parameter count of all layers.
    #[wasm_bindgen(getter, js_name = denseParams)]
    pub fn dense_params(&self) -> f64 {
        self.plan.dense_params() as f64
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
        let (target, precision) = parse_target(target)?;
        let params = BudgetParams {
            method: parse_method(method)?,
            objective: parse_objective(objective)?,
            min_rank: 1,
        };
        let a = self.plan.allocate(target, &params).map_err(js_err)?;
        let out = to_js(&allocation_out(&a, precision));
        self.last = Some(a);
        out
    }

    /// The same target with every method (uniform, energy, greedy, WeLore), allocations as
    /// [`Self::allocate`] returns them but without `layers` (totals only).
    pub fn compare(&self, target: JsValue, objective: Option<String>) -> Result<JsValue, JsError> {
        let (target, precision) = parse_target(target)?;
        let all = self
            .plan
            .compare(target, parse_objective(objective)?, 1)
            .map_err(js_err)?;
        let out: Vec<AllocationOut> = all.iter().map(|a| allocation_out(a, precision)).collect();
        let v = to_js(&out)?;
        // Totals only: drop each `layers` array (the panel shows one method's table).
        for item in js_sys::Array::from(&v).iter() {
            let _ = js_sys::Reflect::delete_property(
                item.unchecked_ref::<js_sys::Object>(),
                &JsValue::from_str("layers"),
            );
        }
        Ok(v)
    }

    /// `{tensor: rank}` of the last [`Self::allocate`] (pretty JSON; a dense layer has rank
    /// `min(rows, cols)`).
    #[wasm_bindgen(js_name = planJson)]
    pub fn plan_json(&self) -> Result<String, JsError> {
        self.last
            .as_ref()
            .map(Allocation::plan_json)
            .ok_or_else(|| JsError::new("planJson: call allocate first"))
    }
}

/// Options of [`tradeoff_curves_js`].
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TradeoffOptions {
    precision: Option<String>,
}

#[derive(Serialize)]
struct Series {
    method: String,
    param: Vec<f64>,
    bytes: Vec<f64>,
    error: Vec<f64>,
    /// The Pareto front only: the method of each point.
    #[serde(skip_serializing_if = "Option::is_none")]
    methods: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TradeoffOut {
    tensor: String,
    rows: usize,
    cols: usize,
    dense_bytes: truncation::BytesByPrecision,
    series: Vec<Series>,
    pareto: Series,
}

fn series(method: String, pts: &[&TradeoffPoint]) -> Series {
    Series {
        method,
        param: pts.iter().map(|p| p.param).collect(),
        bytes: pts.iter().map(|p| p.bytes as f64).collect(),
        error: pts.iter().map(|p| p.rel_fro_error).collect(),
        methods: None,
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
    let o: TradeoffOptions = if options.is_undefined() || options.is_null() {
        TradeoffOptions::default()
    } else {
        reject_unknown(&options, &["precision"], "options")?;
        serde_wasm_bindgen::from_value(options)
            .map_err(|e| JsError::new(&format!("options: {e} (known: precision)")))?
    };
    let params = TradeoffParams {
        precision: parse_precision(o.precision.as_deref())?,
        ..TradeoffParams::default()
    };
    let src = crate::js_source(length, read_at)?;
    let index = spectralab_core::formats::read_index(&src, name)
        .map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    let entry = index
        .get(tensor_name)
        .ok_or_else(|| JsError::new(&format!("{name}: no tensor named `{tensor_name}`")))?;
    let shape = entry.shape.clone();
    if shape.len() < 2 || shape.contains(&0) {
        return Err(JsError::new(&format!(
            "{tensor_name}: shape {shape:?} is not a non-empty matrix"
        )));
    }
    let (rows, cols) = (shape[0], shape[1..].iter().product::<usize>());
    let data = read_tensor(&src, entry, &ReadParams::default())
        .map_err(|e| JsError::new(&format!("{tensor_name}: {e}")))?;
    let flat: Vec<f64> = match data {
        TensorData::F32(a) => a.iter().map(|&v| f64::from(v)).collect(),
        TensorData::F64(a) => a.iter().copied().collect(),
    };
    let w = crate::view(&flat, rows, cols)?;
    let points =
        tradeoff_curves(w, &params).map_err(|e| JsError::new(&format!("{tensor_name}: {e}")))?;
    let mut methods: Vec<&str> = Vec::new();
    for p in &points {
        if !methods.contains(&p.method.as_str()) {
            methods.push(&p.method);
        }
    }
    let series_out = methods
        .iter()
        .map(|m| {
            let pts: Vec<&TradeoffPoint> = points.iter().filter(|p| p.method == *m).collect();
            series(m.to_string(), &pts)
        })
        .collect();
    let front = pareto_front(&points);
    let front_refs: Vec<&TradeoffPoint> = front.iter().collect();
    let out = TradeoffOut {
        tensor: tensor_name.to_string(),
        rows,
        cols,
        dense_bytes: truncation::BytesByPrecision::of_count(rows as u64 * cols as u64),
        series: series_out,
        pareto: Series {
            methods: Some(front.iter().map(|p| p.method.clone()).collect()),
            ..series("pareto".into(), &front_refs)
        },
    };
    to_js(&out)
}

//! Bindings of `spectralab_core::metrics` (issue 6): the metrics table, Vendi q-profiles,
//! per-class Vendi, and loaders for embedding matrices (`.npy`/`.npz`/`.safetensors`, CSV/TSV)
//! and label vectors. Embeddings cross as a row-major `Float32Array` plus `rows`, `cols`.

use serde::{Deserialize, Serialize};
use spectralab_core::formats::{read_index, read_tensor, ReadParams, TensorData, TensorEntry};
use spectralab_core::metrics::{
    self, default_q_grid, Kernel, MetricsParams, NystromParams, VendiParams,
};
use wasm_bindgen::prelude::*;

use crate::{js_err, js_source, to_js, view};

/// `"auto"` (median pairwise distance) or a positive number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Bandwidth {
    Value(f64),
    Name(String),
}

fn bandwidth(b: Option<Bandwidth>, x: &[f32], rows: usize, cols: usize) -> Result<f64, JsError> {
    match b {
        None => bandwidth(Some(Bandwidth::Name("auto".into())), x, rows, cols),
        Some(Bandwidth::Value(h)) if h.is_finite() && h > 0.0 => Ok(h),
        Some(Bandwidth::Value(h)) => Err(JsError::new(&format!(
            "bandwidth must be a positive number or \"auto\" (got {h})"
        ))),
        Some(Bandwidth::Name(s)) if s == "auto" => {
            let h =
                metrics::median_pairwise_distance(view(x, rows, cols)?, 1000).map_err(js_err)?;
            if h > 0.0 && h.is_finite() {
                Ok(h)
            } else {
                Err(JsError::new(
                    "RBF bandwidth \"auto\": the median pairwise distance is 0 (identical rows); give a number",
                ))
            }
        }
        Some(Bandwidth::Name(s)) => Err(JsError::new(&format!(
            "bandwidth: unknown `{s}` (a positive number or \"auto\")"
        ))),
    }
}

fn check_qs(qs: &[f64]) -> Result<(), JsError> {
    match qs.iter().find(|q| q.is_nan() || **q < 0.0) {
        Some(q) => Err(JsError::new(&format!(
            "qs: every order must be ≥ 0 (got {q})"
        ))),
        None if qs.is_empty() => Err(JsError::new("qs: give at least one order")),
        None => Ok(()),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct VendiOptions {
    kernel: Option<String>,
    q: Option<f64>,
    qs: Option<Vec<f64>>,
    bandwidth: Option<Bandwidth>,
    rel_threshold: Option<f64>,
}

const VENDI_KEYS: &[&str] = &["kernel", "q", "qs", "bandwidth", "relThreshold"];

fn vendi_params(
    o: &mut VendiOptions,
    x: &[f32],
    rows: usize,
    cols: usize,
) -> Result<VendiParams, JsError> {
    let kernel = match o.kernel.as_deref().unwrap_or("cosine") {
        "cosine" => Kernel::Cosine,
        "linear" => Kernel::Linear,
        "rbf" => Kernel::Rbf {
            bandwidth: bandwidth(o.bandwidth.take(), x, rows, cols)?,
        },
        k => {
            return Err(JsError::new(&format!(
                "kernel: unknown `{k}` (cosine | linear | rbf)"
            )))
        }
    };
    Ok(VendiParams {
        q: o.q.unwrap_or(1.0),
        kernel,
        rel_threshold: o.rel_threshold,
        ..VendiParams::default()
    })
}

/// Vendi score of the rows: `options = {kernel: "cosine" | "linear" | "rbf", q = 1,
/// bandwidth: number | "auto", relThreshold}` → `{q, score, entropy, rank, path, n, d}`.
/// RBF is exact (`O(n³)`): keep it to a few thousand rows.
#[wasm_bindgen(js_name = vendiScore)]
pub fn vendi_score(
    data: &[f32],
    rows: usize,
    cols: usize,
    options: JsValue,
) -> Result<JsValue, JsError> {
    let mut o: VendiOptions = crate::known_options(options, "vendiScore", VENDI_KEYS)?;
    let x = view(data, rows, cols)?;
    let p = vendi_params(&mut o, data, rows, cols)?;
    to_js(&metrics::vendi_score(x, &p).map_err(js_err)?)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    q: Vec<f64>,
    vendi: Vec<f64>,
    rank: usize,
    n: usize,
    d: usize,
    bandwidth: Option<f64>,
}

/// Vendi at each order of `options.qs` (default: 0, 0.1, …, 32) from one eigen-decomposition:
/// `{q, vendi, rank, n, d, bandwidth}`. Other options as [`vendi_score`].
#[wasm_bindgen(js_name = vendiProfile)]
pub fn vendi_profile(
    data: &[f32],
    rows: usize,
    cols: usize,
    options: JsValue,
) -> Result<JsValue, JsError> {
    let mut o: VendiOptions = crate::known_options(options, "vendiProfile", VENDI_KEYS)?;
    let qs = o.qs.take().unwrap_or_else(default_q_grid);
    check_qs(&qs)?;
    let x = view(data, rows, cols)?;
    let p = vendi_params(&mut o, data, rows, cols)?;
    let s = metrics::vendi_spectrum(x, &p).map_err(js_err)?;
    let vendi = qs
        .iter()
        .map(|&q| s.score(q))
        .collect::<Result<Vec<_>, _>>()
        .map_err(js_err)?;
    let bandwidth = match p.kernel {
        Kernel::Rbf { bandwidth } => Some(bandwidth),
        _ => None,
    };
    to_js(&Profile {
        rank: s.rank(),
        q: qs,
        vendi,
        n: rows,
        d: cols,
        bandwidth,
    })
}

/// Vendi of all rows and of each class: `labels` (one integer per row, as numbers) →
/// `{all: {q, score, …}, classes: [{label, count, score}]}`. Options as [`vendi_score`].
#[wasm_bindgen(js_name = vendiPerClass)]
pub fn vendi_per_class(
    data: &[f32],
    rows: usize,
    cols: usize,
    labels: &[f64],
    options: JsValue,
) -> Result<JsValue, JsError> {
    let mut o: VendiOptions = crate::known_options(options, "vendiPerClass", VENDI_KEYS)?;
    let labels = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            if l.is_finite() && l.fract() == 0.0 && l.abs() < 9.0e15 {
                Ok(l as i64)
            } else {
                Err(JsError::new(&format!("label {i} is {l}, not an integer")))
            }
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let x = view(data, rows, cols)?;
    let p = vendi_params(&mut o, data, rows, cols)?;
    to_js(&metrics::vendi_per_class(x, &labels, &p).map_err(js_err)?)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ReportOptions {
    qs: Option<Vec<f64>>,
    /// `null`/absent: no RBF row; a number or `"auto"`.
    rbf_bandwidth: Option<Bandwidth>,
    rbf_exact_max_n: Option<usize>,
    landmarks: Option<usize>,
    dse: Option<bool>,
    dse_sigma: Option<f64>,
    dse_max_n: Option<usize>,
    rel_threshold: Option<f64>,
    seed: Option<f64>,
}

/// The metrics table (see `spectralab_core::metrics::MetricsReport`; snake_case fields).
/// `options = {qs, rbfBandwidth: number | "auto" (absent: no RBF row), rbfExactMaxN = 2000,
/// landmarks = 500, dse = true, dseSigma = 10, dseMaxN = 2000, relThreshold, seed}`.
#[wasm_bindgen(js_name = metricsReport)]
pub fn metrics_report(
    data: &[f32],
    rows: usize,
    cols: usize,
    options: JsValue,
) -> Result<JsValue, JsError> {
    const KEYS: &[&str] = &[
        "qs",
        "rbfBandwidth",
        "rbfExactMaxN",
        "landmarks",
        "dse",
        "dseSigma",
        "dseMaxN",
        "relThreshold",
        "seed",
    ];
    let o: ReportOptions = crate::known_options(options, "metricsReport", KEYS)?;
    let x = view(data, rows, cols)?;
    let mut p = MetricsParams::default();
    if let Some(qs) = o.qs {
        check_qs(&qs)?;
        p.q_profile = qs;
    }
    if o.rbf_bandwidth.is_some() {
        p.rbf_bandwidth = Some(bandwidth(o.rbf_bandwidth, data, rows, cols)?);
    }
    if let Some(m) = o.rbf_exact_max_n {
        p.rbf_exact_max_n = m;
    }
    let seed = o.seed.unwrap_or(0.0).clamp(0.0, 2f64.powi(53)) as u64;
    p.nystrom = NystromParams {
        landmarks: o.landmarks.unwrap_or(p.nystrom.landmarks).max(1),
        seed,
    };
    if o.dse == Some(false) {
        p.dse = None;
    } else if let Some(d) = p.dse.as_mut() {
        if let Some(s) = o.dse_sigma {
            if !(s.is_finite() && s > 0.0) {
                return Err(JsError::new(&format!("dseSigma must be > 0 (got {s})")));
            }
            d.sigma = s;
        }
        if let Some(m) = o.dse_max_n {
            d.max_n = m.max(2);
        }
        d.seed = seed;
    }
    p.rel_threshold = o.rel_threshold;
    to_js(&metrics::metrics_report(x, &p).map_err(js_err)?)
}

/// `{data: Float32Array, rows, cols, …extra}` as a JS object.
fn matrix_object(data: &[f32], rows: usize, cols: usize) -> Result<js_sys::Object, JsError> {
    let obj = js_sys::Object::new();
    set(&obj, "data", &js_sys::Float32Array::from(data).into())?;
    set(&obj, "rows", &JsValue::from_f64(rows as f64))?;
    set(&obj, "cols", &JsValue::from_f64(cols as f64))?;
    Ok(obj)
}

fn set(obj: &js_sys::Object, key: &str, v: &JsValue) -> Result<(), JsError> {
    js_sys::Reflect::set(obj, &JsValue::from_str(key), v)
        .map(|_| ())
        .map_err(|_| JsError::new("cannot build the result object"))
}

#[derive(Serialize)]
struct TensorInfo<'a> {
    name: &'a str,
    shape: &'a [usize],
    dtype: &'a str,
}

fn tensor_info(t: &TensorEntry) -> TensorInfo<'_> {
    TensorInfo {
        name: &t.name,
        shape: &t.shape,
        dtype: t.dtype.name(),
    }
}

/// `(rows, cols)` of a tensor read as items × features (leading dimensions flattened).
fn matrix_shape(t: &TensorEntry) -> Option<(usize, usize)> {
    if t.shape.len() < 2 {
        return None;
    }
    let cols = *t.shape.last()?;
    let rows = t.shape[..t.shape.len() - 1]
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))?;
    Some((rows, cols))
}

fn tensor_f32(data: TensorData) -> Vec<f32> {
    match data {
        TensorData::F32(a) => a.into_raw_vec_and_offset().0,
        TensorData::F64(a) => a.iter().map(|&v| v as f32).collect(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoadOptions {
    tensor: Option<String>,
}

/// Reads an `n × d` embedding matrix from a `.npy`, `.npz` or `.safetensors` file of `length`
/// bytes via `readAt(offset, length) → Uint8Array`. `options = {tensor}` picks the tensor
/// (default: the first with ≥ 2 dimensions; leading dimensions are flattened into rows).
/// Returns `{data: Float32Array, rows, cols, tensor, tensors: [{name, shape, dtype}]}` where
/// `tensors` lists every tensor of the file usable as a matrix.
#[wasm_bindgen(js_name = loadEmbeddings)]
pub fn load_embeddings(
    length: f64,
    read_at: js_sys::Function,
    name: &str,
    options: JsValue,
) -> Result<JsValue, JsError> {
    let o: LoadOptions = crate::known_options(options, "loadEmbeddings", &["tensor"])?;
    let src = js_source(length, read_at)?;
    let index = read_index(&src, name).map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    let usable: Vec<&TensorEntry> = index
        .tensors
        .iter()
        .filter(|t| matrix_shape(t).is_some())
        .collect();
    let entry = match o.tensor.as_deref() {
        Some(t) => index.get(t).ok_or_else(|| {
            let names: Vec<&str> = index.tensors.iter().map(|t| t.name.as_str()).collect();
            JsError::new(&format!(
                "{name}: no tensor `{t}` (has: {})",
                names.join(", ")
            ))
        })?,
        None => *usable.first().ok_or_else(|| {
            JsError::new(&format!(
                "{name}: no tensor with ≥ 2 dimensions (need rows × features; a 1-D array is a labels file)"
            ))
        })?,
    };
    let (rows, cols) = matrix_shape(entry).ok_or_else(|| {
        JsError::new(&format!(
            "{name}: tensor `{}` has shape {:?}: need rows × features",
            entry.name, entry.shape
        ))
    })?;
    let data = read_tensor(&src, entry, &ReadParams::default())
        .map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    let flat = tensor_f32(data);
    let obj = matrix_object(&flat, rows, cols)?;
    set(&obj, "tensor", &JsValue::from_str(&entry.name))?;
    let infos: Vec<TensorInfo> = usable.iter().map(|t| tensor_info(t)).collect();
    set(&obj, "tensors", &to_js(&infos)?)?;
    Ok(obj.into())
}

/// Parses CSV/TSV text (header optional; see `spectralab_core::metrics::parse_table`) →
/// `{data: Float32Array, rows, cols, header: string[] | null}`.
#[wasm_bindgen(js_name = parseTable)]
pub fn parse_table(text: &str) -> Result<JsValue, JsError> {
    let t = metrics::parse_table(text).map_err(js_err)?;
    let (rows, cols) = t.data.dim();
    let flat: Vec<f32> = t.data.iter().map(|&v| v as f32).collect();
    let obj = matrix_object(&flat, rows, cols)?;
    set(&obj, "header", &to_js(&t.header)?)?;
    Ok(obj.into())
}

/// Reads a 1-D integer label vector (`.npy`, or the first tensor of `.npz`/safetensors;
/// integer dtypes or integral floats) → `Float64Array`.
#[wasm_bindgen(js_name = readLabels)]
pub fn read_labels(
    length: f64,
    read_at: js_sys::Function,
    name: &str,
) -> Result<Vec<f64>, JsError> {
    let src = js_source(length, read_at)?;
    let labels =
        metrics::read_labels(&src, name).map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    Ok(labels.into_iter().map(|l| l as f64).collect())
}

/// The tensors of a model file usable as matrices: `[{name, shape, dtype}]` (headers only).
#[wasm_bindgen(js_name = matrixTensors)]
pub fn matrix_tensors(
    length: f64,
    read_at: js_sys::Function,
    name: &str,
) -> Result<JsValue, JsError> {
    let src = js_source(length, read_at)?;
    let index = read_index(&src, name).map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    let infos: Vec<TensorInfo> = index
        .tensors
        .iter()
        .filter(|t| matrix_shape(t).is_some() && t.dtype.is_supported())
        .map(tensor_info)
        .collect();
    to_js(&infos)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TensorMetrics {
    name: String,
    rows: usize,
    cols: usize,
    matrix_entropy: Option<f64>,
    erank: Option<f64>,
    stable_rank: Option<f64>,
    roy_vetterli_erank: Option<f64>,
    error: Option<String>,
}

/// Matrix metrics of one weight tensor of a model file (rows = leading dimensions flattened):
/// `{name, rows, cols, matrixEntropy, erank, stableRank, royVetterliErank, error}`. A metric
/// undefined for this tensor is `null` with the reason in `error`.
#[wasm_bindgen(js_name = tensorMetrics)]
pub fn tensor_metrics(
    length: f64,
    read_at: js_sys::Function,
    name: &str,
    tensor: &str,
) -> Result<JsValue, JsError> {
    let src = js_source(length, read_at)?;
    let index = read_index(&src, name).map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    let entry = index
        .get(tensor)
        .ok_or_else(|| JsError::new(&format!("{name}: no tensor `{tensor}`")))?;
    let (rows, cols) = matrix_shape(entry).ok_or_else(|| {
        JsError::new(&format!(
            "{tensor}: shape {:?} is not a matrix",
            entry.shape
        ))
    })?;
    let flat = tensor_f32(
        read_tensor(&src, entry, &ReadParams::default())
            .map_err(|e| JsError::new(&format!("{tensor}: {e}")))?,
    );
    let x = view(&flat, rows, cols)?;
    let mut errors = Vec::new();
    let mut soft = |r: spectralab_core::Result<f64>, what: &str| {
        r.map_err(|e| errors.push(format!("{what}: {e}"))).ok()
    };
    let me = metrics::matrix_entropy(x).map(|m| (m.entropy, m.erank));
    let (matrix_entropy, erank) = match me {
        Ok((h, e)) => (Some(h), Some(e)),
        Err(e) => {
            soft(Err(e), "matrix entropy");
            (None, None)
        }
    };
    let stable_rank = soft(metrics::stable_rank(x), "stable rank");
    let roy_vetterli_erank = soft(metrics::roy_vetterli_erank(x), "Roy–Vetterli");
    to_js(&TensorMetrics {
        name: entry.name.clone(),
        rows,
        cols,
        matrix_entropy,
        erank,
        stable_rank,
        roy_vetterli_erank,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
    })
}

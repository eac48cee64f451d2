//! Bindings of `spectralab_core::session::embeddings` (issue 6): the metrics table, Vendi
//! q-profiles, per-class Vendi, and loaders for embedding matrices (`.npy`/`.npz`/`.safetensors`,
//! CSV/TSV) and label vectors. Embeddings cross as a row-major `Float32Array` plus `rows`, `cols`.
//! Options are the core's (`spectralab_core::session::options`): unknown keys are errors.

use spectralab_core::metrics;
use spectralab_core::session::embeddings::{self as emb, EmbeddingSet};
use spectralab_core::session::options::{LoadOptions, MetricsReportOptions, VendiOptions};
use wasm_bindgen::prelude::*;

use crate::{js_err, js_source, options, to_js, view};

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
    let o: VendiOptions = self::options(options, "vendiScore")?;
    to_js(&emb::vendi_score(view(data, rows, cols)?, &o).map_err(js_err)?)
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
    let o: VendiOptions = self::options(options, "vendiProfile")?;
    to_js(&emb::vendi_profile(view(data, rows, cols)?, &o).map_err(js_err)?)
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
    let o: VendiOptions = self::options(options, "vendiPerClass")?;
    let x = view(data, rows, cols)?;
    to_js(&emb::vendi_per_class(x, labels, &o).map_err(js_err)?)
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
    let o: MetricsReportOptions = self::options(options, "metricsReport")?;
    to_js(&emb::metrics_report(view(data, rows, cols)?, &o).map_err(js_err)?)
}

/// `{data: Float32Array, rows, cols}` as a JS object.
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

/// `{data: Float32Array, rows, cols, tensor, tensors}` of a loaded set.
fn embedding_object(set: &EmbeddingSet) -> Result<JsValue, JsError> {
    let obj = matrix_object(&set.data, set.rows, set.cols)?;
    self::set(&obj, "tensor", &JsValue::from_str(&set.tensor))?;
    self::set(&obj, "tensors", &to_js(&set.tensors)?)?;
    Ok(obj.into())
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
    let o: LoadOptions = self::options(options, "loadEmbeddings")?;
    let src = js_source(length, read_at)?;
    embedding_object(&EmbeddingSet::load(&src, name, &o).map_err(js_err)?)
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
    to_js(&emb::matrix_tensors(&src, name).map_err(js_err)?)
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
    to_js(&emb::tensor_metrics(&src, name, tensor).map_err(js_err)?)
}

//! `Model`: the wasm handle over one [`ModelSession`] — an opened model (one file or many
//! shards) whose headers are read once and whose spectra stay in wasm memory.
//!
//! ```js
//! const model = new Model([{ name, length, readAt }], { mpFit: true });
//! model.info();              // {name, format, shards, bytes, tensors, parameters, dtypes, …}
//! model.plan();              // [{index, layer_id, name, shape, kind, N, M, rf, skip}]
//! model.analyze([3, 4]);     // rows (WeightWatcher columns)
//! model.evals(3);            // Float64Array: the ESD of an analysed layer
//! model.quantMeasure([3]);   // quantize layer 3 with every llama.cpp type (cached)
//! model.quantPlan(4.8, 33);  // {plan, recipes, curve, layers, file_mix, tensor_type_args, …}
//! model.reportCsv();         // the report as the native CLI's CSV
//! model.compare(other, { k: 10, eps: 0.5 });   // {layers, unmatched, skipped, summary, notes}
//! model.compareAdapter([config, weights], {}); // base + PEFT LoRA adapter
//! model.compareEsd(0);       // {base, other}: both ESDs of the last comparison's layer 0
//! model.free();
//! ```
//! `readAt(offset, length) → Uint8Array` reads a file's bytes (Blob.slice in a Worker, pread in
//! Node). Options are parsed by the core ([`AnalyzeOptions`]): unknown keys are errors.

#[cfg(feature = "compare")]
use spectralab_core::compare;
use spectralab_core::session::{AnalyzeOptions, ModelSession};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{js_source, to_js};

/// Parses an options object with the core's parser (camelCase keys, unknown keys refused).
pub(crate) fn parse_options(options: &JsValue) -> Result<AnalyzeOptions, JsError> {
    crate::options(options.clone(), "options")
}

#[cfg(feature = "compare")]
/// Parses compare options with the core's parser (unknown keys refused) and validates them.
fn compare_options(options: JsValue) -> Result<compare::CompareParams, JsError> {
    let p: compare::CompareParams = crate::options(options, "options")?;
    p.validate().map_err(crate::js_err)?;
    Ok(p)
}

/// `[{name, length, readAt}]` → named byte sources.
fn sources(files: &js_sys::Array) -> Result<Vec<spectralab_core::session::NamedSource>, JsError> {
    let field = |o: &JsValue, k: &str| {
        js_sys::Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
    };
    files
        .iter()
        .map(|f| {
            let name = field(&f, "name")
                .as_string()
                .ok_or_else(|| JsError::new("each file needs a `name` string"))?;
            let length = field(&f, "length")
                .as_f64()
                .ok_or_else(|| JsError::new(&format!("{name}: `length` must be a number")))?;
            let read_at = field(&f, "readAt")
                .dyn_into::<js_sys::Function>()
                .map_err(|_| JsError::new(&format!("{name}: `readAt` must be a function")))?;
            Ok((name, Box::new(js_source(length, read_at)?) as Box<_>))
        })
        .collect()
}

/// An opened model (see the module doc).
#[wasm_bindgen]
pub struct Model {
    session: ModelSession,
    /// The ESDs (base, other) of the last comparison's layers, in report order: they stay here
    /// and only the selected layer's cross to JS (`Model::compare_esd`).
    #[cfg_attr(not(feature = "compare"), allow(dead_code))]
    compare_esds: Vec<(Vec<f64>, Vec<f64>)>,
}

/// A JS `onProgress(done, total, name)` as the core's comparison progress callback.
#[cfg(feature = "compare")]
fn js_progress(f: Option<js_sys::Function>) -> impl FnMut(usize, usize, &str) {
    move |done, total, name| {
        if let Some(f) = &f {
            let (d, t) = (JsValue::from(done as u32), JsValue::from(total as u32));
            let _ = f.call3(&JsValue::NULL, &d, &t, &JsValue::from_str(name));
        }
    }
}

#[wasm_bindgen]
impl Model {
    /// Opens `files` (`[{name, length, readAt}]`: one file, shards, or a folder's files with its
    /// `*.index.json`). Reads the headers once; errors name the file.
    #[wasm_bindgen(constructor)]
    pub fn new(files: js_sys::Array, options: JsValue) -> Result<Model, JsError> {
        let opts = parse_options(&options)?;
        let sources = sources(&files)?;
        // One file: its errors start with its name (a folder's name the shard themselves).
        let prefix = match sources.as_slice() {
            [(name, _)] => format!("{name}: "),
            _ => String::new(),
        };
        let session =
            ModelSession::open(sources, opts).map_err(|e| JsError::new(&format!("{prefix}{e}")))?;
        Ok(Model::from_session(session))
    }

    /// A model over one in-memory row-major f32 matrix (`rows × cols`), named `name`.
    #[wasm_bindgen(js_name = fromMatrix)]
    pub fn from_matrix(
        data: &[f32],
        rows: usize,
        cols: usize,
        name: &str,
        options: JsValue,
    ) -> Result<Model, JsError> {
        let opts = parse_options(&options)?;
        let session = ModelSession::from_matrix(name, rows, cols, data, opts)
            .map_err(|e| JsError::new(&format!("{name}: {e}")))?;
        Ok(Model::from_session(session))
    }

    /// Summary: name, format, shards, bytes, tensors, parameters, dtypes, layers, skipped, notes.
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&self.session.info())
    }

    /// The layer walk, one entry per tensor in depth order (`skip`: why it is not analysed).
    pub fn plan(&self) -> Result<JsValue, JsError> {
        to_js(self.session.plans())
    }

    /// The storage type of every tensor, by plan position (`F32`, `BF16`, `Q4_K`, …; empty where
    /// a shard could not be read).
    pub fn dtypes(&self) -> Vec<String> {
        let t = self.session.tensors();
        t.iter()
            .map(|t| {
                t.dtype
                    .as_ref()
                    .map(|d| d.name().to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Positions of the layers an analysis runs on.
    pub fn todo(&self) -> Vec<u32> {
        self.session.todo().into_iter().map(|p| p as u32).collect()
    }

    /// Replaces the options (re-plans; cached spectra are dropped).
    #[wasm_bindgen(js_name = setOptions)]
    pub fn set_options(&mut self, options: JsValue) -> Result<(), JsError> {
        self.session.set_options(parse_options(&options)?);
        Ok(())
    }

    /// Analyses the layers at `positions` (from `plan()`); rows in that order. A layer that
    /// cannot be read is a row with `status: "error"`, not an exception.
    pub fn analyze(&mut self, positions: Vec<u32>, keep_evals: bool) -> Result<JsValue, JsError> {
        let pos: Vec<usize> = positions.iter().map(|&p| p as usize).collect();
        to_js(&self.session.analyze(&pos, keep_evals))
    }

    /// `{layers, skipped, summary}`: every layer analysed so far (plan order), the skipped
    /// tensors, and the summary means.
    pub fn report(&self) -> Result<JsValue, JsError> {
        to_js(&self.session.report())
    }

    /// The report as CSV, exactly as the native `spectralab analyze --format csv` writes it
    /// (same columns and number formatting; error rows have empty measured cells).
    /// (Not in the widgets' spectrum module.)
    #[cfg(feature = "lab")]
    #[wasm_bindgen(js_name = reportCsv)]
    pub fn report_csv(&self) -> String {
        spectralab_core::spectrum::analyze::to_csv(&self.session.report())
    }

    /// The ESD (ascending) of an analysed layer, or `undefined`.
    pub fn evals(&self, position: usize) -> Option<Vec<f64>> {
        self.session.evals(position).map(<[f64]>::to_vec)
    }

    /// Whether the layer at `position` is read by row blocks (large dense layers).
    #[wasm_bindgen(js_name = isStreamed)]
    pub fn is_streamed(&self, position: usize) -> bool {
        self.session.is_streamed(position)
    }
}

#[cfg(feature = "compare")]
#[wasm_bindgen]
impl Model {
    /// Compares this model (the base) with `other`, pairing layers by name: `{layers,
    /// unmatched, skipped, summary, notes}` (ΔW metrics, intruder dimensions, the k×k
    /// `overlap_matrix`; see `spectralab_core::compare`). `options`: `{k, eps, alpha, farms,
    /// layers, maxElements}`, all optional; `onProgress(done, total, name)` before each layer.
    pub fn compare(
        &mut self,
        other: &Model,
        options: JsValue,
        on_progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        let p = compare_options(options)?;
        let mut progress = js_progress(on_progress);
        let r = compare::compare_sessions_with(&self.session, &other.session, &p, &mut progress)
            .map_err(|e| JsError::new(&e.to_string()))?;
        self.keep_esds(&r);
        to_js(&r)
    }

    /// The two ESDs (σᵢ², descending) of layer `index` of the last comparison's `layers`:
    /// `{base: Float64Array, other: Float64Array}`, or `undefined`.
    #[wasm_bindgen(js_name = compareEsd)]
    pub fn compare_esd(&self, index: usize) -> Option<js_sys::Object> {
        let (b, o) = self.compare_esds.get(index)?;
        let out = js_sys::Object::new();
        let set = |k: &str, v: &[f64]| {
            js_sys::Reflect::set(&out, &k.into(), &js_sys::Float64Array::from(v).into())
        };
        set("base", b).ok()?;
        set("other", o).ok()?;
        Some(out)
    }

    /// Compares this model (the base) with itself plus a PEFT LoRA adapter, given as the files
    /// of its folder (`[{name, length, readAt}]`: `adapter_config.json` and
    /// `adapter_model.safetensors`). Same result and options as [`Model::compare`].
    #[wasm_bindgen(js_name = compareAdapter)]
    pub fn compare_adapter(
        &mut self,
        files: js_sys::Array,
        options: JsValue,
        on_progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        let p = compare_options(options)?;
        let adapter = compare::LoraAdapter::open(sources(&files)?)
            .map_err(|e| JsError::new(&format!("adapter: {e}")))?;
        let mut progress = js_progress(on_progress);
        let r = compare::compare_adapter_with(&self.session, &adapter, &p, &mut progress)
            .map_err(|e| JsError::new(&e.to_string()))?;
        self.keep_esds(&r);
        to_js(&r)
    }
}

#[cfg(feature = "compress")]
#[wasm_bindgen]
impl Model {
    /// Positions of the 2-D weights a quantization plan covers.
    #[wasm_bindgen(js_name = quantPositions)]
    pub fn quant_positions(&self) -> Vec<u32> {
        self.session
            .quant_positions()
            .into_iter()
            .map(|p| p as u32)
            .collect()
    }

    /// Quantizes the layers at `positions` with every llama.cpp type (by row blocks; kept in
    /// the session); returns how many were measured now. Call it in batches for progress.
    #[wasm_bindgen(js_name = quantMeasure)]
    pub fn quant_measure(&mut self, positions: Vec<u32>) -> Result<u32, JsError> {
        let pos: Vec<usize> = positions.iter().map(|&p| p as usize).collect();
        self.session
            .quant_measure(&pos)
            .map(|n| n as u32)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The quantization plan at `bits_per_weight` (a number) over the measured layers (measuring
    /// the rest first): `{plan, recipes, curve, min_bits_per_weight, max_bits_per_weight,
    /// layers, file_mix}`, with the plan's `plan_json` and `tensor_type_args` exports.
    #[wasm_bindgen(js_name = quantPlan)]
    pub fn quant_plan(
        &mut self,
        bits_per_weight: f64,
        curve_points: usize,
    ) -> Result<JsValue, JsError> {
        use spectralab_core::compress::quant_plan::QuantBudget;
        if !(bits_per_weight.is_finite() && bits_per_weight > 0.0) {
            return Err(JsError::new(&format!(
                "quantPlan: {bits_per_weight} is not a positive number of bits per weight"
            )));
        }
        let budget = QuantBudget::BitsPerWeight(bits_per_weight);
        let s = self.session.quant_summary(budget, curve_points);
        to_js(&s.map_err(|e| JsError::new(&e.to_string()))?)
    }
}

impl Model {
    #[cfg(feature = "compare")]
    fn keep_esds(&mut self, r: &compare::CompareReport) {
        self.compare_esds = r
            .layers
            .iter()
            .map(|l| (l.evals_base.clone(), l.evals_other.clone()))
            .collect();
    }

    #[cfg_attr(not(feature = "lab"), allow(dead_code))]
    pub(crate) fn from_session(session: ModelSession) -> Model {
        Model {
            session,
            compare_esds: Vec::new(),
        }
    }
}

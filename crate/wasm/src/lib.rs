//! wasm-bindgen bindings of the Spectralab core. Thin by design: each export validates its
//! arguments, calls the core and converts the result; every core error becomes a `JsError`
//! with the core's message. Nothing here panics on user input.
//!
//! Matrices cross the boundary as a flat row-major typed array plus `rows`, `cols`.
//! Conventions (ordering, normalisation) are the core's: see `spectralab_core`.

pub mod charts;
#[cfg(feature = "compress")]
mod compress;
#[cfg(feature = "metrics")]
mod metrics;
mod model;
#[cfg(feature = "metrics")]
mod node_cli;
#[cfg(feature = "transform")]
mod transform;

pub use model::Model;

use ndarray::ArrayView2;
use serde::de::DeserializeOwned;
use serde::Serialize;

use spectralab_core::{kernels, session, Error};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Size of the rayon pool started by [`start_thread_pool`] (0: not started).
static POOL_SIZE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Threaded build only: starts `n` rayon Web Workers (call once, from a Worker, before any
/// parallel call). Prefer this over wasm-bindgen-rayon's raw `initThreadPool`: it validates `n`,
/// refuses a second start with a readable error, and lets [`build_info`] report the pool size
/// without creating rayon's global pool as a side effect (which would pin it to 1 thread).
#[cfg(feature = "threads")]
#[wasm_bindgen(js_name = startThreadPool)]
pub fn start_thread_pool(n: usize) -> Result<js_sys::Promise, JsError> {
    use std::sync::atomic::Ordering::SeqCst;
    if !(1..=256).contains(&n) {
        return Err(JsError::new(&format!(
            "thread count must be 1..=256, got {n}"
        )));
    }
    if POOL_SIZE.compare_exchange(0, n, SeqCst, SeqCst).is_err() {
        return Err(JsError::new("the thread pool is already started"));
    }
    Ok(wasm_bindgen_rayon::init_thread_pool(n))
}

#[cfg_attr(not(feature = "full"), allow(dead_code))]
fn js_err(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

#[cfg_attr(not(feature = "full"), allow(dead_code))]
fn view<'a, T>(data: &'a [T], rows: usize, cols: usize) -> Result<ArrayView2<'a, T>, JsError> {
    let expected = rows
        .checked_mul(cols)
        .ok_or_else(|| JsError::new("rows × cols overflows"))?;
    if data.len() != expected {
        return Err(JsError::new(&format!(
            "data has {} values but rows × cols = {rows} × {cols} = {expected}",
            data.len()
        )));
    }
    ArrayView2::from_shape((rows, cols), data).map_err(|e| JsError::new(&e.to_string()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BuildInfo {
    version: &'static str,
    simd: bool,
    threads: bool,
    gram_kernel: &'static str,
    thread_count: usize,
}

/// Which build this is: `{ version, simd, threads, gramKernel, threadCount }`; `threadCount` is
/// the rayon pool size in the threaded build (0 until `startThreadPool`), 1 elsewhere.
#[wasm_bindgen(js_name = buildInfo)]
pub fn build_info() -> Result<JsValue, JsError> {
    to_js(&BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        simd: cfg!(target_feature = "simd128"),
        threads: cfg!(feature = "threads"),
        gram_kernel: kernels::gram_kernel_name(),
        thread_count: thread_count(),
    })
}

/// The rayon pool size in the threaded build (0 until `startThreadPool`), 1 elsewhere.
fn thread_count() -> usize {
    if cfg!(feature = "threads") {
        POOL_SIZE.load(std::sync::atomic::Ordering::SeqCst)
    } else {
        1
    }
}

/// A [`ByteSource`](spectralab_core::formats::ByteSource) over a JS function
/// `readAt(offset: number, length: number) → Uint8Array` (synchronous: `fs.readSync` in Node,
/// `FileReaderSync` on a `Blob.slice` in a Worker), so a file is read tensor by tensor.
struct JsSource {
    len: u64,
    read_at: js_sys::Function,
}

impl spectralab_core::formats::ByteSource for JsSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> spectralab_core::Result<()> {
        let io = |what: String| Error::Io { what };
        let got = self
            .read_at
            .call2(
                &JsValue::NULL,
                &JsValue::from_f64(offset as f64),
                &JsValue::from_f64(buf.len() as f64),
            )
            .map_err(|e| io(format!("readAt({offset}, {}) threw: {e:?}", buf.len())))?;
        let arr = js_sys::Uint8Array::new(&got);
        if arr.length() as usize != buf.len() {
            return Err(io(format!(
                "readAt({offset}, {}) returned {} bytes",
                buf.len(),
                arr.length()
            )));
        }
        arr.copy_to(buf);
        Ok(())
    }
}

fn js_source(length: f64, read_at: js_sys::Function) -> Result<JsSource, JsError> {
    if !(length.is_finite() && (0.0..=2f64.powi(53)).contains(&length)) {
        return Err(JsError::new("length must be a non-negative byte count"));
    }
    Ok(JsSource {
        len: length as u64,
        read_at,
    })
}

/// An options object parsed by the core's option type `T` (see
/// `spectralab_core::session::options`): `undefined`/`null` → defaults. `what` prefixes every
/// message.
pub(crate) fn options<T: DeserializeOwned + Default>(v: JsValue, what: &str) -> Result<T, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    from_js_checked(v, what)
}

/// A JS object as the core type `T`: a key `T` does not have is refused by name (serde-wasm-bindgen
/// reads only the fields a struct names, so `T`'s own `deny_unknown_fields` would not see it).
pub(crate) fn from_js_checked<T: DeserializeOwned>(v: JsValue, what: &str) -> Result<T, JsError> {
    let err = |e: &dyn std::fmt::Display| JsError::new(&format!("{what}: {e}"));
    let obj = v
        .dyn_ref::<js_sys::Object>()
        .filter(|_| v.is_object() && !js_sys::Array::is_array(&v))
        .ok_or_else(|| err(&"expected an object"))?;
    let keys: Vec<String> = js_sys::Object::keys(obj)
        .iter()
        .filter(|k| !js_sys::Reflect::get(obj, k).is_ok_and(|x| x.is_undefined()))
        .filter_map(|k| k.as_string())
        .collect();
    session::options::check_keys::<T>(&keys).map_err(|e| err(&e))?;
    serde_wasm_bindgen::from_value(v).map_err(|e| {
        let m = e.to_string(); // a JS error's text: "Error: <message>"
        err(&m.strip_prefix("Error: ").unwrap_or(&m))
    })
}

/// A JS `progress(done, total, name)` as the core's analysis progress callback (`false` stops).
#[cfg_attr(not(feature = "lab"), allow(dead_code))]
fn layer_progress(
    progress: Option<js_sys::Function>,
) -> impl FnMut(u64, u64, usize, usize, &str) -> bool {
    move |_, _, done, total, layer| {
        let Some(f) = &progress else { return true };
        let (d, t) = (JsValue::from(done as u32), JsValue::from(total as u32));
        let r = f.call3(&JsValue::NULL, &d, &t, &JsValue::from_str(layer));
        r.map(|v| v.as_bool() != Some(false)).unwrap_or(true)
    }
}

fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

/// The lab's low-level exports (matrices in, numbers out; one-shot model analysis). The
/// widgets' spectrum module leaves them out: it analyses through [`Model`] only.
#[cfg(feature = "lab")]
pub use lab::*;

#[cfg(feature = "lab")]
mod lab {
    use super::*;
    use spectralab_core::linalg::{self, GramParams};
    use spectralab_core::spectrum::synthetic;

    /// Eigenvalues (ascending) of the smaller Gram matrix (`WᵀW` or `WWᵀ`) of an f32 matrix.
    /// `parallel` uses the thread pool in the threaded build (ignored elsewhere).
    #[wasm_bindgen(js_name = gramEigenvaluesF32)]
    pub fn gram_eigenvalues_f32(
        data: &[f32],
        rows: usize,
        cols: usize,
        parallel: bool,
    ) -> Result<Vec<f64>, JsError> {
        let w = view(data, rows, cols)?;
        let ev = linalg::gram_eigenvalues(w, &GramParams { parallel }).map_err(js_err)?;
        Ok(ev.to_vec())
    }

    /// Eigenvalues (ascending) of the smaller Gram matrix of an f64 matrix.
    #[wasm_bindgen(js_name = gramEigenvaluesF64)]
    pub fn gram_eigenvalues_f64(
        data: &[f64],
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f64>, JsError> {
        let w = view(data, rows, cols)?;
        let ev = linalg::gram_eigenvalues(w, &GramParams::default()).map_err(js_err)?;
        Ok(ev.to_vec())
    }

    /// The smaller Gram matrix of an f32 matrix, row-major f64 (`k × k`, `k = min(rows, cols)`).
    #[wasm_bindgen(js_name = gramF32)]
    pub fn gram_f32(
        data: &[f32],
        rows: usize,
        cols: usize,
        parallel: bool,
    ) -> Result<Vec<f64>, JsError> {
        let w = view(data, rows, cols)?;
        let g = linalg::gram(w, &GramParams { parallel }).map_err(js_err)?;
        Ok(g.into_raw_vec_and_offset().0)
    }

    /// Eigenvalues (ascending) of a symmetric `n × n` f64 matrix (lower triangle read).
    #[wasm_bindgen(js_name = symmetricEigenvalues)]
    pub fn symmetric_eigenvalues(data: &[f64], n: usize) -> Result<Vec<f64>, JsError> {
        let a = view(data, n, n)?;
        Ok(linalg::symmetric_eigenvalues(a).map_err(js_err)?.to_vec())
    }

    /// Eigenvalues (ascending) of a symmetric `n × n` f32 matrix, computed in f32.
    #[wasm_bindgen(js_name = symmetricEigenvaluesF32)]
    pub fn symmetric_eigenvalues_f32(data: &[f32], n: usize) -> Result<Vec<f32>, JsError> {
        let a = view(data, n, n)?;
        Ok(linalg::symmetric_eigenvalues(a).map_err(js_err)?.to_vec())
    }

    /// Singular values (descending) of a `rows × cols` f64 matrix.
    #[wasm_bindgen(js_name = singularValues)]
    pub fn singular_values(data: &[f64], rows: usize, cols: usize) -> Result<Vec<f64>, JsError> {
        let a = view(data, rows, cols)?;
        Ok(linalg::singular_values(a).map_err(js_err)?.to_vec())
    }

    /// Deterministic `rows × cols` matrix of N(0, σ²) entries (f32, row-major) from `seed`.
    #[wasm_bindgen(js_name = gaussianMatrixF32)]
    pub fn gaussian_matrix_f32(
        rows: usize,
        cols: usize,
        sigma: f64,
        seed: u64,
    ) -> Result<Vec<f32>, JsError> {
        synthetic::gaussian_matrix_scaled(rows, cols, sigma, seed).map_err(js_err)
    }

    /// Demo: ESD of a `rows × cols` Gaussian matrix (entries N(0, 1/rows)) with its histogram and
    /// the Marchenko–Pastur density it should follow: `{rows, cols, eigenvalues, binEdges, counts,
    /// mpX, mpDensity, mpLower, mpUpper}`.
    #[wasm_bindgen(js_name = demoSpectrum)]
    pub fn demo_spectrum(
        rows: usize,
        cols: usize,
        bins: usize,
        seed: u64,
    ) -> Result<JsValue, JsError> {
        let d = synthetic::demo_spectrum(rows, cols, bins, seed, true).map_err(js_err)?;
        serde_wasm_bindgen::to_value(&d).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The synthetic demo model (layers with known spectra: Marchenko–Pastur bulk, power-law ESDs with
    /// α = 2, 3, 4, rank-8 + noise, a Gaussian conv kernel) as `.safetensors` bytes; see
    /// `spectralab_core::spectrum::synthetic`. Open it like a dropped file.
    #[wasm_bindgen(js_name = syntheticModel)]
    pub fn synthetic_model(seed: u32) -> Result<Vec<u8>, JsError> {
        synthetic::synthetic_model_safetensors(u64::from(seed)).map_err(js_err)
    }

    /// A one-file session over `readAt` (the stateless exports below open one per call; keep a
    /// [`Model`] instead to read the header once).
    fn one_file(
        length: f64,
        read_at: js_sys::Function,
        name: &str,
        options: &JsValue,
    ) -> Result<spectralab_core::session::ModelSession, JsError> {
        let opts = model::parse_options(options)?;
        let files: Vec<(String, Box<dyn spectralab_core::formats::ByteSource>)> =
            vec![(name.to_string(), Box::new(js_source(length, read_at)?))];
        spectralab_core::session::ModelSession::open(files, opts)
            .map_err(|e| JsError::new(&format!("{name}: {e}")))
    }

    /// Eigenspectrum analysis of a model file (`.safetensors`, `.npy`, `.npz`) of `length` bytes
    /// read through `readAt(offset, length) → Uint8Array`. `options`: see `Model`. `progress(done,
    /// total, name)` is called before each batch; returning `false` stops (finished rows are kept).
    /// Returns `{layers, skipped, summary}` with WeightWatcher's column names.
    #[wasm_bindgen(js_name = analyzeModel)]
    pub fn analyze_model(
        length: f64,
        read_at: js_sys::Function,
        name: &str,
        options: JsValue,
        progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        let mut session = one_file(length, read_at, name, &options)?;
        to_js(&session.analyze_all(1, layer_progress(progress)))
    }

    /// The layer walk of a model file without analysing it: `[{index, layer_id, name, shape, kind,
    /// N, M, rf, skip}]` in depth order (`skip`: why a tensor is not analysed, or null).
    /// Reads headers only: instant even for multi-GB files.
    #[wasm_bindgen(js_name = planModel)]
    pub fn plan_model(
        length: f64,
        read_at: js_sys::Function,
        name: &str,
        options: JsValue,
    ) -> Result<JsValue, JsError> {
        to_js(one_file(length, read_at, name, &options)?.plans())
    }

    /// Analyses the layers at `indices` (positions from [`plan_model`]) of a one-file model and
    /// returns their rows in order (with `keepEvals`, each ESD as `evals`). A tensor that cannot be
    /// read gives a row with `status: "error"`, not an exception.
    #[wasm_bindgen(js_name = analyzeLayers)]
    pub fn analyze_layers(
        length: f64,
        read_at: js_sys::Function,
        name: &str,
        indices: Vec<u32>,
        options: JsValue,
        keep_evals: bool,
    ) -> Result<JsValue, JsError> {
        let mut m = Model::from_session(one_file(length, read_at, name, &options)?);
        m.analyze(indices, keep_evals)
    }

    /// [`analyze_layers`] for one layer: its row.
    #[wasm_bindgen(js_name = analyzeLayer)]
    pub fn analyze_layer(
        length: f64,
        read_at: js_sys::Function,
        name: &str,
        index: usize,
        options: JsValue,
        keep_evals: bool,
    ) -> Result<JsValue, JsError> {
        let mut s = one_file(length, read_at, name, &options)?;
        let mut rows = s.analyze(&[index], keep_evals);
        to_js(&rows.pop())
    }
}

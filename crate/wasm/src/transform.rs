//! Bindings of `spectralab_core::session::transform` (issue 8): spectra of test signals and
//! vectors under the FFT, DCT-II and Walsh–Hadamard transforms, and energy compaction curves
//! (see the core module for `kind`, `order`, `seed`). With the `bench` feature (benchmark builds
//! only), `benchTransform` times the kernels inside wasm.

use spectralab_core::session::options::{
    SignalKind, SpectrumOptions, TransformKind, VectorOptions,
};
use spectralab_core::session::transform as xf;
use wasm_bindgen::prelude::*;

use crate::{js_err, options, to_js};

/// `n` samples of a test signal (`"chirp"` 0 → n/4 cycles, `"square"`, `"noise"` (seeded),
/// `"tones"`: three sines) → `Float64Array`.
#[wasm_bindgen(js_name = testSignal)]
pub fn test_signal_js(kind: &str, n: usize, seed: Option<f64>) -> Result<Vec<f64>, JsError> {
    xf::check_len("testSignal", n).map_err(js_err)?;
    let kind: SignalKind = kind.parse().map_err(js_err)?;
    xf::signal(kind, n, seed).map_err(js_err)
}

/// `{signal = "chirp", n = 1024, kind = "fft", order?, seed?}` → `{index, magnitude, signal}`:
/// the test signal and its magnitude spectrum.
#[wasm_bindgen(js_name = transformSpectrum)]
pub fn transform_spectrum(spec: JsValue) -> Result<JsValue, JsError> {
    let o: SpectrumOptions = options(spec, "transformSpectrum")?;
    to_js(&xf::transform_spectrum(&o).map_err(js_err)?)
}

/// Magnitude spectrum of a vector: `(data, kind, {order?, seed?})` → `{index, magnitude}`.
#[wasm_bindgen(js_name = transformVector)]
pub fn transform_vector(data: &[f64], kind: &str, opts: JsValue) -> Result<JsValue, JsError> {
    let o: VectorOptions = options(opts, "transformVector")?;
    let kind: TransformKind = kind.parse().map_err(js_err)?;
    to_js(&xf::transform_vector(data, kind, &o).map_err(js_err)?)
}

/// Energy compaction curves (`curve[k−1]` = energy fraction in the `k` largest coefficients) of
/// a `rows × cols` matrix (2-D transforms + SVD) or, when `rows == 1`, of a signal (no SVD):
/// `{fft, dct, wht, svd, k90, k99}` (`k90.fft`: coefficients the FFT needs for 90 % of the energy).
#[wasm_bindgen(js_name = energyCompaction)]
pub fn energy_compaction(data: &[f64], rows: usize, cols: usize) -> Result<JsValue, JsError> {
    to_js(&xf::energy_compaction(data, rows, cols).map_err(js_err)?)
}

/// The explorer's view of a `rows × cols` matrix (row-major) under `kind` (`{order?, seed?}`):
/// `{index, magnitude (RMS over rows of the row spectra), signal (row norms), curves}`.
#[wasm_bindgen(js_name = transformMatrix)]
pub fn transform_matrix(
    data: &[f64],
    rows: usize,
    cols: usize,
    kind: &str,
    opts: JsValue,
) -> Result<JsValue, JsError> {
    let o: VectorOptions = options(opts, "transformMatrix")?;
    let kind: TransformKind = kind.parse().map_err(js_err)?;
    to_js(&xf::transform_matrix(data, rows, cols, kind, &o).map_err(js_err)?)
}

/// `performance.now()` of the global scope (page or worker); `Date.now()` if absent.
#[cfg(feature = "bench")]
fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    let global = js_sys::global();
    let perf = js_sys::Reflect::get(&global, &JsValue::from_str("performance"))
        .ok()
        .filter(|p| !p.is_undefined());
    let now = |p: &JsValue| {
        let f = js_sys::Reflect::get(p, &JsValue::from_str("now")).ok()?;
        f.dyn_ref::<js_sys::Function>()?.call0(p).ok()?.as_f64()
    };
    perf.and_then(|p| now(&p)).unwrap_or_else(js_sys::Date::now)
}

/// Benchmark builds only (cargo feature `bench`, see `scripts/build-wasm.sh`): median
/// milliseconds of `reps` runs of a kernel on deterministic f32 data, timed inside wasm (after
/// one warm-up run): `"fft"` complex f32 of length `n` (in place, planned once); `"wht"`
/// unnormalised natural-order f32 WHT of `n` (a power of two); `"dct"` orthonormal DCT-II along
/// `rows` rows of length `n` (default rows 4096); `"rfft"` real f32 FFT of `n`.
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = benchTransform)]
pub fn bench_transform(
    kind: &str,
    n: usize,
    reps: usize,
    rows: Option<usize>,
) -> Result<f64, JsError> {
    use spectralab_core::transform::bench::{bench_kernel, BenchKernel};
    let kernel: BenchKernel = kind.parse().map_err(js_err)?;
    bench_kernel(kernel, n, reps, rows, &mut now_ms).map_err(js_err)
}

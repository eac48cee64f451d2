//! Bindings of `spectralab_core::transform` (issue 8): spectra of test signals and vectors under
//! the FFT, DCT-II and Walsh–Hadamard transforms, energy compaction curves, and a benchmark export
//! that times the kernels inside wasm (no JS↔wasm copies in the timing).
//!
//! `kind`: `"fft"` (magnitudes of the `⌊n/2⌋ + 1` non-negative frequencies of the real input,
//! unnormalised), `"dct"` (|orthonormal DCT-II|), `"wht"` (|orthonormal WHT|, input zero-padded
//! to a power of two; `order` natural or sequency, default sequency), `"rht"` (|randomized
//! Hadamard `(1/√n) H D x`| with `seed`, natural order, zero-padded).

use serde::{Deserialize, Serialize};
use spectralab_core::transform::{
    self, energy_compaction_matrix, energy_compaction_signal, fwht, rfft, test_signal, Complex,
    DctKind, DctPlan, FftDirection, FftPlan, RandomizedHadamard, TestSignal, WhtOrder, WhtParams,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{js_err, to_js, view};

/// Largest length the explorer exports accept (2^24 values).
const MAX_N: usize = 1 << 24;

fn check_len(what: &str, n: usize) -> Result<(), JsError> {
    if n == 0 || n > MAX_N {
        return Err(JsError::new(&format!(
            "{what}: length must be 1..={MAX_N}, got {n}"
        )));
    }
    Ok(())
}

fn seed_of(seed: Option<f64>) -> u64 {
    seed.unwrap_or(0.0).clamp(0.0, 2f64.powi(53)) as u64
}

fn wht_order(order: Option<&str>) -> Result<WhtOrder, JsError> {
    match order.unwrap_or("sequency") {
        "sequency" | "walsh" => Ok(WhtOrder::Sequency),
        "natural" | "hadamard" => Ok(WhtOrder::Natural),
        o => Err(JsError::new(&format!(
            "order: unknown `{o}` (natural | sequency)"
        ))),
    }
}

/// `(index, magnitude)` of `x` under `kind` (see the module docs).
fn spectrum_of(
    x: &[f64],
    kind: &str,
    order: Option<&str>,
    seed: Option<f64>,
) -> Result<(Vec<f64>, Vec<f64>), JsError> {
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(JsError::new(&format!(
            "value {i} is {}, not a finite number",
            x[i]
        )));
    }
    let n = x.len();
    let mag: Vec<f64> = match kind {
        "fft" => rfft(x).iter().map(|c| c.norm()).collect(),
        "dct" => {
            let mut d = x.to_vec();
            DctPlan::<f64>::new(DctKind::Dct2, n)
                .process(&mut d)
                .map_err(js_err)?;
            d.iter().map(|v| v.abs()).collect()
        }
        "wht" | "rht" => {
            let np = n.next_power_of_two();
            let mut w = x.to_vec();
            w.resize(np, 0.0);
            if kind == "wht" {
                let params = WhtParams {
                    order: wht_order(order)?,
                    orthonormal: true,
                };
                fwht(&mut w, &params).map_err(js_err)?;
            } else {
                RandomizedHadamard::new(np, seed_of(seed))
                    .and_then(|r| r.apply(&mut w))
                    .map_err(js_err)?;
            }
            w.iter().map(|v| v.abs()).collect()
        }
        k => {
            return Err(JsError::new(&format!(
                "kind: unknown `{k}` (fft | dct | wht | rht)"
            )))
        }
    };
    let index = (0..mag.len()).map(|i| i as f64).collect();
    Ok((index, mag))
}

fn signal_of(name: &str, n: usize, seed: Option<f64>) -> Result<Vec<f64>, JsError> {
    let nf = n as f64;
    let s = match name {
        "chirp" => TestSignal::Chirp {
            f0: 0.0,
            f1: nf / 4.0,
        },
        "square" => TestSignal::Square {
            freq: (nf / 128.0).max(1.0),
            duty: 0.5,
        },
        "noise" => TestSignal::Noise {
            seed: seed_of(seed),
        },
        "tones" => TestSignal::Tones {
            freqs: vec![nf * 0.02, nf * 0.07, nf * 0.18],
            amps: vec![1.0, 0.5, 0.25],
            phases: vec![0.0, 0.5, 1.0],
        },
        s => {
            return Err(JsError::new(&format!(
                "signal: unknown `{s}` (chirp | square | noise | tones)"
            )))
        }
    };
    // Sample rate n: the signal spans one second, frequencies are cycles per signal.
    test_signal(&s, n, nf).map_err(js_err)
}

/// `n` samples of a test signal (`"chirp"` 0 → n/4 cycles, `"square"`, `"noise"` (seeded),
/// `"tones"`: three sines) → `Float64Array`.
#[wasm_bindgen(js_name = testSignal)]
pub fn test_signal_js(kind: &str, n: usize, seed: Option<f64>) -> Result<Vec<f64>, JsError> {
    check_len("testSignal", n)?;
    signal_of(kind, n, seed)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SpectrumOptions {
    signal: Option<String>,
    n: Option<f64>,
    kind: Option<String>,
    order: Option<String>,
    seed: Option<f64>,
}

#[derive(Serialize)]
struct Spectrum {
    index: Vec<f64>,
    magnitude: Vec<f64>,
    signal: Vec<f64>,
}

/// `{signal = "chirp", n = 1024, kind = "fft", order?, seed?}` → `{index, magnitude, signal}`:
/// the test signal and its magnitude spectrum (see the module docs for `kind`).
#[wasm_bindgen(js_name = transformSpectrum)]
pub fn transform_spectrum(spec: JsValue) -> Result<JsValue, JsError> {
    let o: SpectrumOptions = crate::known_options(
        spec,
        "transformSpectrum",
        &["signal", "n", "kind", "order", "seed"],
    )?;
    let n = o.n.unwrap_or(1024.0);
    if !(n.fract() == 0.0 && (1.0..=MAX_N as f64).contains(&n)) {
        return Err(JsError::new(&format!(
            "transformSpectrum: n must be an integer from 1 to {MAX_N}, got {n}"
        )));
    }
    let signal = signal_of(o.signal.as_deref().unwrap_or("chirp"), n as usize, o.seed)?;
    let (index, magnitude) = spectrum_of(
        &signal,
        o.kind.as_deref().unwrap_or("fft"),
        o.order.as_deref(),
        o.seed,
    )?;
    to_js(&Spectrum {
        index,
        magnitude,
        signal,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VectorOptions {
    order: Option<String>,
    seed: Option<f64>,
}

/// Magnitude spectrum of a vector: `(data, kind, {order?, seed?})` → `{index, magnitude}`.
#[wasm_bindgen(js_name = transformVector)]
pub fn transform_vector(data: &[f64], kind: &str, opts: JsValue) -> Result<JsValue, JsError> {
    let o: VectorOptions = crate::known_options(opts, "transformVector", &["order", "seed"])?;
    check_len("transformVector", data.len())?;
    let (index, magnitude) = spectrum_of(data, kind, o.order.as_deref(), o.seed)?;
    to_js(&Spectrum {
        index,
        magnitude,
        signal: Vec::new(),
    })
}

#[derive(Serialize)]
struct Curves {
    fft: Vec<f64>,
    dct: Vec<f64>,
    wht: Vec<f64>,
    svd: Vec<f64>,
}

/// Energy compaction curves (`curve[k−1]` = energy fraction in the `k` largest coefficients) of
/// a `rows × cols` matrix (2-D transforms + SVD) or, when `rows == 1`, of a signal (no SVD):
/// `{fft, dct, wht, svd}`.
#[wasm_bindgen(js_name = energyCompaction)]
pub fn energy_compaction(data: &[f64], rows: usize, cols: usize) -> Result<JsValue, JsError> {
    let a = view(data, rows, cols)?;
    check_len("energyCompaction", data.len())?;
    let c = if rows == 1 || cols == 1 {
        energy_compaction_signal(data)
    } else {
        energy_compaction_matrix(a)
    }
    .map_err(js_err)?;
    to_js(&Curves {
        fft: c.fft,
        dct: c.dct,
        wht: c.wht,
        svd: c.svd,
    })
}

/// `performance.now()` of the global scope (page or worker); `Date.now()` if absent.
fn now_ms() -> f64 {
    let perf = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .filter(|p| !p.is_undefined());
    if let Some(p) = perf {
        if let Ok(f) = js_sys::Reflect::get(&p, &JsValue::from_str("now")) {
            if let Some(f) = f.dyn_ref::<js_sys::Function>() {
                if let Some(t) = f.call0(&p).ok().and_then(|v| v.as_f64()) {
                    return t;
                }
            }
        }
    }
    js_sys::Date::now()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// Median milliseconds of `reps` runs of a kernel on deterministic f32 data, timed inside wasm
/// (after one warm-up run): `"fft"` complex f32 of length `n` (in place, planned once);
/// `"wht"` unnormalised natural-order f32 WHT of `n` (a power of two); `"dct"` orthonormal
/// DCT-II along `rows` rows of length `n` (default rows 4096); `"rfft"` real f32 FFT of `n`.
#[wasm_bindgen(js_name = benchTransform)]
pub fn bench_transform(
    kind: &str,
    n: usize,
    reps: usize,
    rows: Option<usize>,
) -> Result<f64, JsError> {
    check_len("benchTransform", n)?;
    let reps = reps.clamp(1, 1000);
    let rows = rows.unwrap_or(4096).max(1);
    let gen = |len: usize| -> Vec<f32> {
        (0..len)
            .map(|i| ((i as f32) * 0.618_034).fract() - 0.5)
            .collect()
    };
    let mut times = Vec::with_capacity(reps);
    match kind {
        "fft" => {
            let plan = FftPlan::<f32>::new(n, FftDirection::Forward);
            let src: Vec<Complex<f32>> = gen(2 * n)
                .chunks_exact(2)
                .map(|p| Complex::new(p[0], p[1]))
                .collect();
            let mut buf = src.clone();
            let mut scratch = vec![Complex::new(0.0f32, 0.0); plan.scratch_len()];
            for r in 0..=reps {
                buf.copy_from_slice(&src);
                let t0 = now_ms();
                plan.process_with_scratch(&mut buf, &mut scratch);
                let dt = now_ms() - t0;
                if r > 0 {
                    times.push(dt);
                }
            }
        }
        "rfft" => {
            let plan = transform::RealFftPlan::<f32>::new(n);
            let src = gen(n);
            for r in 0..=reps {
                let t0 = now_ms();
                let out = plan.forward(&src);
                let dt = now_ms() - t0;
                std::hint::black_box(out);
                if r > 0 {
                    times.push(dt);
                }
            }
        }
        "wht" => {
            if !n.is_power_of_two() {
                return Err(JsError::new(&format!(
                    "benchTransform: WHT length must be a power of two, got {n}"
                )));
            }
            let src = gen(n);
            let mut buf = src.clone();
            let params = WhtParams::default();
            for r in 0..=reps {
                buf.copy_from_slice(&src);
                let t0 = now_ms();
                fwht(&mut buf, &params).map_err(js_err)?;
                let dt = now_ms() - t0;
                if r > 0 {
                    times.push(dt);
                }
            }
        }
        "dct" => {
            let total = rows
                .checked_mul(n)
                .filter(|&t| t <= 1 << 26)
                .ok_or_else(|| JsError::new("benchTransform: rows × n too large"))?;
            let src = gen(total);
            let mut buf = src.clone();
            let plan = DctPlan::<f32>::new(DctKind::Dct2, n);
            let mut scratch = plan.make_scratch();
            for r in 0..=reps {
                buf.copy_from_slice(&src);
                let t0 = now_ms();
                plan.process_with_scratch(&mut buf, &mut scratch)
                    .map_err(js_err)?;
                let dt = now_ms() - t0;
                if r > 0 {
                    times.push(dt);
                }
            }
        }
        k => {
            return Err(JsError::new(&format!(
                "benchTransform: unknown kind `{k}` (fft | rfft | wht | dct)"
            )))
        }
    }
    Ok(median(times))
}

//! Native criterion benches of the transform kernels at the sizes of issue 8's targets:
//!
//! ```sh
//! cargo bench -p spectralab-core --bench transform
//! ```
//!
//! - `fft/c32_2^20`, `fft/c64_2^20`: complex FFT of 2^20 points, in place with a reused scratch
//!   (plan built once). Input restored before each run (`iter_batched_ref`, not timed).
//! - `fwht_f32_2^20`: our blocked radix-8 WHT through the dispatcher (SIMD128 on wasm, the scalar
//!   twin natively — LLVM auto-vectorises it with SSE2 here), the scalar twin called directly, and
//!   a textbook radix-2 loop (`log₂ n` full sweeps) for context. Orthonormal scale, so repeated
//!   in-place runs keep the data bounded.
//! - `dct_rows_4096x1024_f32`: orthonormal DCT-II/III/IV along 4096 rows of 1024, our FFT-based
//!   backend vs rustdct.
//!
//! Peers (scipy.fft, ffht) are measured by `tests/bench/transform_peers.py`.
//! Set `SPECTRALAB_BENCH_QUICK=1` for a smoke run.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use spectralab_core::kernels;
use spectralab_core::random::SeededRng;
use spectralab_core::transform::dct::{DctBackend, DctKind, DctPlan};
use spectralab_core::transform::{Complex, FftDirection, FftPlan};
use std::hint::black_box;
use std::time::Duration;

const N_FFT: usize = 1 << 20;
const N_WHT: usize = 1 << 20;
const DCT_ROWS: usize = 4096;
const DCT_COLS: usize = 1024;

fn quick() -> bool {
    std::env::var_os("SPECTRALAB_BENCH_QUICK").is_some()
}

fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, secs: f64) {
    let secs = if quick() { 0.5 } else { secs };
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(if quick() { 100 } else { 500 }))
        .measurement_time(Duration::from_secs_f64(secs))
        .nresamples(2000);
}

fn gaussian(n: usize, seed: u64) -> Vec<f64> {
    let mut r = SeededRng::new(seed);
    (0..n).map(|_| r.normal()).collect()
}

fn bench_fft(c: &mut Criterion) {
    let mut g = c.benchmark_group("fft");
    configure(&mut g, 3.0);
    let re = gaussian(2 * N_FFT, 1);
    let x64: Vec<Complex<f64>> = re.chunks(2).map(|p| Complex::new(p[0], p[1])).collect();
    let x32: Vec<Complex<f32>> = x64
        .iter()
        .map(|z| Complex::new(z.re as f32, z.im as f32))
        .collect();
    let p32 = FftPlan::<f32>::new(N_FFT, FftDirection::Forward);
    let mut s32 = vec![Complex::new(0.0f32, 0.0); p32.scratch_len()];
    g.bench_function("c32_2^20", |b| {
        b.iter_batched_ref(
            || x32.clone(),
            |buf| p32.process_with_scratch(black_box(buf), &mut s32),
            BatchSize::LargeInput,
        )
    });
    let p64 = FftPlan::<f64>::new(N_FFT, FftDirection::Forward);
    let mut s64 = vec![Complex::new(0.0f64, 0.0); p64.scratch_len()];
    g.bench_function("c64_2^20", |b| {
        b.iter_batched_ref(
            || x64.clone(),
            |buf| p64.process_with_scratch(black_box(buf), &mut s64),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// Textbook radix-2 FWHT: one full sweep per stage.
fn wht_radix2(x: &mut [f32], scale: f32) {
    let n = x.len();
    x.iter_mut().for_each(|v| *v *= scale);
    let mut h = 1;
    while h < n {
        for g in x.chunks_exact_mut(2 * h) {
            let (lo, hi) = g.split_at_mut(h);
            for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
                (*a, *b) = (*a + *b, *a - *b);
            }
        }
        h *= 2;
    }
}

fn bench_wht(c: &mut Criterion) {
    let mut g = c.benchmark_group("fwht_f32_2^20");
    configure(&mut g, 2.0);
    let mut x: Vec<f32> = gaussian(N_WHT, 2).iter().map(|&v| v as f32).collect();
    let scale = 1.0 / (N_WHT as f32).sqrt();
    g.bench_function(kernels::gram_kernel_name(), |b| {
        b.iter(|| kernels::wht_f32(black_box(&mut x), scale))
    });
    g.bench_function("scalar_twin", |b| {
        b.iter(|| kernels::wht_scalar::wht_f32(black_box(&mut x), scale))
    });
    g.bench_function("radix2_textbook", |b| {
        b.iter(|| wht_radix2(black_box(&mut x), scale))
    });
    g.finish();
}

fn bench_dct(c: &mut Criterion) {
    let mut g = c.benchmark_group("dct_rows_4096x1024_f32");
    configure(&mut g, 3.0);
    let mut x: Vec<f32> = gaussian(DCT_ROWS * DCT_COLS, 3)
        .iter()
        .map(|&v| v as f32)
        .collect();
    for (kind, name) in [
        (DctKind::Dct2, "dct2"),
        (DctKind::Dct3, "dct3"),
        (DctKind::Dct4, "dct4"),
    ] {
        for (backend, bname) in [
            (DctBackend::Fft, "own_fft"),
            (DctBackend::RustDct, "rustdct"),
        ] {
            let plan = DctPlan::<f32>::with_backend(kind, DCT_COLS, backend);
            let mut s = plan.make_scratch();
            g.bench_function(format!("{name}_{bname}"), |b| {
                b.iter(|| {
                    plan.process_with_scratch(black_box(&mut x), &mut s)
                        .unwrap()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_fft, bench_wht, bench_dct);
criterion_main!(benches);

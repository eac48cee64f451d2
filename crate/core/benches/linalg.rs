//! Native criterion benches of the dense linear algebra the lab runs, at the shapes of
//! `BENCHMARKS.md` (the same ops and shapes as `bench/python/bench_linalg.py` and the in-browser
//! page `bench/web/`). `scripts/bench.mjs` runs this as
//!
//! ```sh
//! cargo bench -p spectralab-core --bench linalg --features parallel
//! ```
//!
//! and reads the medians from `target/criterion/<group>/<id>/new/estimates.json`.
//! Everything runs on 1 thread except the `*_par` ids (rayon over the column panels of `G`,
//! which needs `--features parallel`; without it they are skipped). faer itself runs with
//! `Par::Seq` throughout, so the eigen/SVD numbers are single-threaded in every case.
//! Matrices come from `SeededRng` with fixed seeds (same generator as the wasm page).
//!
//! Sample sizes are small (10, flat sampling): the whole file runs in well under a minute.
//! Set `SPECTRALAB_BENCH_QUICK=1` for a smoke run (criterion's minimum of 10 samples, shortest
//! measurement windows).

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use ndarray::Array2;
use spectralab_core::linalg::{
    gram, gram_eigenvalues, singular_values, symmetric_eigenvalues, GramParams,
};
use spectralab_core::random::SeededRng;
use std::hint::black_box;
use std::time::Duration;

/// Rows × columns of the embedding table of a small BERT (vocabulary × hidden).
const EMB_ROWS: usize = 30522;
const EMB_COLS: usize = 384;
/// Order of the square eigen/SVD tests.
const N: usize = 1024;

const SEED_SYM: u64 = 1;
const SEED_SVD: u64 = 2;
const SEED_EMB: u64 = 3;

/// `(X + Xᵀ)/2` of an `n × n` N(0, 1) matrix.
fn symmetric(n: usize, seed: u64) -> Array2<f64> {
    let x = SeededRng::new(seed).gaussian_matrix(n, n);
    let xt = x.t().to_owned();
    (x + xt) * 0.5
}

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

fn bench_eigen(c: &mut Criterion) {
    let a64 = symmetric(N, SEED_SYM);
    let a32 = a64.mapv(|v| v as f32);
    let b64 = SeededRng::new(SEED_SVD).gaussian_matrix(N, N);

    let mut g = c.benchmark_group("linalg");
    configure(&mut g, 2.0);
    g.bench_function("eigvalsh_f64_1024", |b| {
        b.iter(|| symmetric_eigenvalues(black_box(a64.view())).unwrap())
    });
    g.bench_function("eigvalsh_f32_1024", |b| {
        b.iter(|| symmetric_eigenvalues(black_box(a32.view())).unwrap())
    });
    configure(&mut g, 4.0);
    g.bench_function("svdvals_f64_1024", |b| {
        b.iter(|| singular_values(black_box(b64.view())).unwrap())
    });
    g.finish();
}

fn bench_gram(c: &mut Criterion) {
    let mut w = SeededRng::new(SEED_EMB).gaussian_matrix_f32(EMB_ROWS, EMB_COLS);
    w.mapv_inplace(|v| v * 0.02);
    let seq = GramParams { parallel: false };
    let par = GramParams { parallel: true };

    let mut g = c.benchmark_group("linalg");
    configure(&mut g, 3.0);
    g.bench_function("gram_f32_30522x384", |b| {
        b.iter(|| gram(black_box(w.view()), &seq).unwrap())
    });
    g.bench_function("gram_eig_f32_30522x384", |b| {
        b.iter(|| gram_eigenvalues(black_box(w.view()), &seq).unwrap())
    });
    if cfg!(feature = "parallel") {
        g.bench_function("gram_f32_30522x384_par", |b| {
            b.iter(|| gram(black_box(w.view()), &par).unwrap())
        });
        g.bench_function("gram_eig_f32_30522x384_par", |b| {
            b.iter(|| gram_eigenvalues(black_box(w.view()), &par).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench_eigen, bench_gram);
criterion_main!(benches);

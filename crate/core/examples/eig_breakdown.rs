//! Where the time of one layer's ESD goes (native): exact f32 Gram, Householder
//! tridiagonalisation, tridiagonal eigenvalues.
//!
//!     cargo run --release -p spectralab-core --features parallel --example eig_breakdown [ROWS COLS] [--svd]
//!
//! `--svd`: faer's singular values against the two-stage ones (the fallback of `slice_esd`).
use faer::Mat;
use ndarray::Array2;
use spectralab_core::linalg::{
    gram_exact, lower_symmetric_eigenvalues_f64, singular_values, singular_values_two_stage,
    GramParams,
};
use std::time::Instant;

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let (n, d) = (*a.first().unwrap_or(&4096), *a.get(1).unwrap_or(&4096));
    let mut s = 12345u64;
    let w = Array2::from_shape_fn((n, d), |_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u32 << 24) as f32) - 0.5
    });
    if std::env::args().any(|a| a == "--svd") {
        let w64 = w.mapv(|v| v as f64);
        let t0 = Instant::now();
        let a = singular_values(w64.view()).unwrap();
        let tf = t0.elapsed().as_secs_f64();
        let m = faer::Mat::<f64>::from_fn(n, d, |i, j| w64[(i, j)]);
        let t1 = Instant::now();
        let b = singular_values_two_stage(m).unwrap();
        let tb = t1.elapsed().as_secs_f64();
        let diff = a
            .iter()
            .rev()
            .zip(&b)
            .fold(0f64, |x, (p, q)| x.max((p - q).abs()));
        println!("{n}x{d} singular values: faer {tf:.3}s, two-stage {tb:.3}s, max |diff| {diff:.2e} (σ_max {:.3e})", a[0]);
        return;
    }
    for parallel in [false, true] {
        let t0 = Instant::now();
        let g = gram_exact(w.view(), &GramParams { parallel }).unwrap();
        let tg = t0.elapsed().as_secs_f64();
        let m = g.nrows();
        let lower = Mat::<f64>::from_fn(m, m, |i, j| if i >= j { g[(i, j)] } else { 0.0 });
        let t1 = Instant::now();
        let ev = lower_symmetric_eigenvalues_f64(lower.as_ref()).unwrap();
        let te = t1.elapsed().as_secs_f64();
        let flops = (n * d * (d.min(n) + 1)) as f64;
        println!(
            "{n}x{d} parallel={parallel}: gram {tg:.3}s ({:.1} GFLOP/s) eig {te:.3}s  max ev {:.3e}",
            flops / tg / 1e9,
            ev[ev.len() - 1]
        );
    }
}

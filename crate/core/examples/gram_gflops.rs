//! Native Gram throughput (GFLOP/s), for BENCHMARKS-htsr.md and scaling runs:
//!
//!     cargo run --release -p spectralab-core --example gram_gflops [ROWS COLS REPS]
//!
//! Times, on a random f32 matrix (default 30522×384, the MiniLM embedding): the f32 tile-kernel
//! Gram (1 thread, and the rayon pool), the exact f64 Gram of the widened matrix (what the
//! default analysis runs), and Gram + eigenvalues. Set `SPECTRALAB_GRAM_SCALAR=1` to force the
//! scalar kernel on x86-64; RAYON_NUM_THREADS sets the pool size.
use ndarray::Array2;
use spectralab_core::kernels::gram_kernel_name;
use spectralab_core::linalg::{gram, gram_columns_f32, gram_eigenvalues, GramParams};
use std::time::Instant;

fn best<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    let mut t = f64::INFINITY;
    for _ in 0..reps {
        let t0 = Instant::now();
        f();
        t = t.min(t0.elapsed().as_secs_f64());
    }
    t
}

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("a number"))
        .collect();
    let (n, d, reps) = (
        *a.first().unwrap_or(&30522),
        *a.get(1).unwrap_or(&384),
        *a.get(2).unwrap_or(&3),
    );
    let mut s = 12345u64;
    let w = Array2::from_shape_fn((n, d), |_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u32 << 24) as f32) - 0.5
    });
    let w64 = w.mapv(|v| v as f64);
    let flops = (n * d * (d + 1)) as f64; // upper triangle incl. diagonal, 2 flops per term
    let g = |t: f64| flops / t / 1e9;
    let seq = GramParams { parallel: false };
    let t1 = best(reps, || drop(gram_columns_f32(w.view(), false)));
    let tp = best(reps, || drop(gram_columns_f32(w.view(), true)));
    let t64 = best(reps, || drop(gram(w64.view(), &seq)));
    let te = best(reps, || drop(gram_eigenvalues(w64.view(), &seq)));
    println!(
        "{{\"rows\":{n},\"cols\":{d},\"kernel\":\"{}\",\"threads\":{},\"f32_1t_s\":{t1:.5},\"f32_1t_gflops\":{:.1},\"f32_pool_s\":{tp:.5},\"f32_pool_gflops\":{:.1},\"f64_exact_1t_s\":{t64:.5},\"f64_exact_1t_gflops\":{:.1},\"f64_gram_eig_1t_s\":{te:.5}}}",
        gram_kernel_name(),
        rayon::current_num_threads(),
        g(t1),
        g(tp),
        g(t64)
    );
}

//! The core test suite, written once and run three ways: natively (`tests/linalg.rs`) and as
//! wasm32 in Node and headless Chromium (`crate/wasm/tests/{node,browser}.rs`), for both the
//! baseline and the SIMD128 build. Each case is a plain `pub fn`; [`for_each_case`] lists them.
//!
//! Tolerances scale with ε, the size and the data's norm; `assert_close` reports the first
//! mismatch with its index.
#![allow(dead_code)]

pub mod metrics;
pub mod transform;

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};
use spectralab_core::linalg::{self, naive, GramParams, RandomizedSvdParams};
use spectralab_core::random::SeededRng;
use spectralab_core::{kernels, Error};

/// Lists every case; `$m!(name)` is expanded once per case.
#[macro_export]
macro_rules! for_each_case {
    ($m:ident) => {
        $m!(jacobi_eigen_hand_cases);
        $m!(jacobi_svd_hand_cases);
        $m!(eigenvalues_match_jacobi_many_shapes);
        $m!(eigen_vectors_reconstruct_and_are_orthogonal);
        $m!(eigenvalues_f32_match_f64);
        $m!(singular_values_match_jacobi_many_shapes);
        $m!(thin_svd_reconstructs_many_shapes);
        $m!(qr_reconstructs_and_is_orthogonal);
        $m!(gram_matches_naive_many_shapes);
        $m!(gram_f32_eigenvalues_match_f64_reference);
        $m!(gram_eigenvalues_equal_squared_singular_values);
        $m!(gram_parallel_equals_sequential);
        $m!(gram_strided_views);
        $m!(randomized_svd_recovers_low_rank);
        $m!(randomized_svd_is_seeded);
        $m!(adversarial_zeros_rank1_repeated);
        $m!(adversarial_extreme_scales);
        $m!(adversarial_non_finite_is_named_error);
        $m!(empty_and_degenerate_shapes);
        $m!(gram_tile_kernel_matches_definition);
        $m!(dot_kernel_matches_definition);
        $m!(widening_f16_bf16);
        $m!(marchenko_pastur_density_integrates_to_one);
        $m!(ks_scan_matches_definition);
        $m!(power_law_recovers_pareto_alpha);
        $m!(power_law_small_n_and_degenerate);
        $m!(hill_median_and_clip_xmax);
        $m!(farms_windows_and_alpha);
        $m!(layer_walk_gates_and_conv_slices);
    };
}

// ---------- helpers ----------

/// Panics at the first `|a[i] − b[i]| > tol`, naming the index and both values.
pub fn assert_close(what: &str, a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>, tol: f64) {
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: lengths {} vs {}",
        a.len(),
        b.len()
    );
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        assert!(
            (x - y).abs() <= tol,
            "{what}: first mismatch at {i}: {x:e} vs {y:e} (|Δ| = {:e} > tol {tol:e})",
            (x - y).abs()
        );
    }
}

fn max_abs_diff2(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b.iter())
        .fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

fn fro(a: ArrayView2<'_, f64>) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

const EPS: f64 = f64::EPSILON;

fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    SeededRng::new(seed).gaussian_matrix(rows, cols)
}

fn symmetric(n: usize, seed: u64) -> Array2<f64> {
    let g = gaussian(n, n, seed);
    (&g + &g.t()) * 0.5
}

/// Shapes covering 1, odd, powers of two, tall, wide and panel/tile edges (8, 9, 129).
pub const SHAPES: &[(usize, usize)] = &[
    (1, 1),
    (1, 5),
    (5, 1),
    (2, 2),
    (3, 7),
    (7, 3),
    (8, 8),
    (9, 9),
    (16, 5),
    (5, 16),
    (33, 17),
    (17, 33),
    (64, 64),
    (129, 40),
    (40, 129),
    (300, 37),
];

// ---------- rung 0: naive references against hand-computed cases ----------

pub fn jacobi_eigen_hand_cases() {
    // [[2,1],[1,2]] → 1, 3 with eigenvectors (1,-1)/√2, (1,1)/√2.
    let a = ndarray::array![[2.0, 1.0], [1.0, 2.0]];
    let (w, v) = naive::jacobi_eigen(a.view());
    assert_close("2x2", w.view(), ndarray::array![1.0, 3.0].view(), 1e-14);
    assert!((v[(0, 1)].abs() - 0.5f64.sqrt()).abs() < 1e-14);
    // Diagonal: eigenvalues are the sorted diagonal.
    let d = Array2::from_diag(&ndarray::array![3.0, -1.0, 2.0]);
    let (w, _) = naive::jacobi_eigen(d.view());
    assert_close(
        "diag",
        w.view(),
        ndarray::array![-1.0, 2.0, 3.0].view(),
        0.0,
    );
    // Path-graph Laplacian tridiag(−1, 2, −1) of size 3: 2 − √2, 2, 2 + √2.
    let t = ndarray::array![[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 2.0]];
    let (w, _) = naive::jacobi_eigen(t.view());
    let r2 = 2f64.sqrt();
    assert_close(
        "tridiag",
        w.view(),
        ndarray::array![2.0 - r2, 2.0, 2.0 + r2].view(),
        1e-14,
    );
}

pub fn jacobi_svd_hand_cases() {
    // [[3,0],[4,5]]: AᵀA = [[25,20],[20,25]] → σ² = 45, 5.
    let a = ndarray::array![[3.0, 0.0], [4.0, 5.0]];
    let s = naive::jacobi_svd(a.view());
    assert_close(
        "2x2",
        s.view(),
        ndarray::array![45f64.sqrt(), 5f64.sqrt()].view(),
        1e-14,
    );
    // Wide 1×3 row: one singular value, its norm.
    let r = ndarray::array![[1.0, 2.0, 2.0]];
    assert_close(
        "row",
        naive::jacobi_svd(r.view()).view(),
        ndarray::array![3.0].view(),
        1e-15,
    );
    // Gram by definition.
    let g = naive::gram_naive(a.view());
    assert_eq!(g, ndarray::array![[25.0, 20.0], [20.0, 25.0]]);
}

// ---------- rung 1: fast paths against the naive ones ----------

pub fn eigenvalues_match_jacobi_many_shapes() {
    for (k, &n) in [1usize, 2, 3, 5, 8, 9, 17, 33, 64, 100].iter().enumerate() {
        let a = symmetric(n, 100 + k as u64);
        let fast = linalg::symmetric_eigenvalues(a.view()).unwrap();
        let (slow, _) = naive::jacobi_eigen(a.view());
        let tol = 50.0 * n as f64 * EPS * fro(a.view()).max(1.0);
        assert_close(&format!("eigvals n={n}"), fast.view(), slow.view(), tol);
    }
}

pub fn eigen_vectors_reconstruct_and_are_orthogonal() {
    for &n in &[1usize, 4, 9, 40, 77] {
        let a = symmetric(n, 7 + n as u64);
        let e = linalg::symmetric_eigen(a.view()).unwrap();
        let v = &e.vectors;
        let rec = v.dot(&Array2::from_diag(&e.values)).dot(&v.t());
        let scale = fro(a.view()).max(1.0);
        assert!(
            max_abs_diff2(rec.view(), a.view()) <= 100.0 * n as f64 * EPS * scale,
            "V Λ Vᵀ ≠ A (n={n})"
        );
        let vtv = v.t().dot(v);
        assert!(
            max_abs_diff2(vtv.view(), Array2::eye(n).view()) <= 100.0 * n as f64 * EPS,
            "VᵀV ≠ I (n={n})"
        );
        assert!(
            e.values.windows(2).into_iter().all(|w| w[0] <= w[1]),
            "not ascending"
        );
    }
}

pub fn eigenvalues_f32_match_f64() {
    let n = 50;
    let a = symmetric(n, 3);
    let a32 = a.mapv(|v| v as f32);
    let w32 = linalg::symmetric_eigenvalues(a32.view())
        .unwrap()
        .mapv(|v| v as f64);
    let w64 = linalg::symmetric_eigenvalues(a32.mapv(|v| v as f64).view()).unwrap();
    let tol = 50.0 * n as f64 * f32::EPSILON as f64 * fro(a.view());
    assert_close("f32 vs f64 eigenvalues", w32.view(), w64.view(), tol);
}

pub fn singular_values_match_jacobi_many_shapes() {
    for (k, &(m, n)) in SHAPES.iter().enumerate() {
        let a = gaussian(m, n, 200 + k as u64);
        let fast = linalg::singular_values(a.view()).unwrap();
        let slow = naive::jacobi_svd(a.view());
        let tol = 50.0 * (m.max(n)) as f64 * EPS * fro(a.view()).max(1.0);
        assert_close(&format!("svals {m}x{n}"), fast.view(), slow.view(), tol);
    }
}

pub fn thin_svd_reconstructs_many_shapes() {
    for (k, &(m, n)) in SHAPES.iter().enumerate() {
        let a = gaussian(m, n, 300 + k as u64);
        let svd = linalg::thin_svd(a.view()).unwrap();
        let kk = m.min(n);
        assert_eq!(svd.u.dim(), (m, kk));
        assert_eq!(svd.vt.dim(), (kk, n));
        let rec = (&svd.u * &svd.s).dot(&svd.vt);
        let tol = 100.0 * m.max(n) as f64 * EPS * fro(a.view()).max(1.0);
        assert!(
            max_abs_diff2(rec.view(), a.view()) <= tol,
            "U S Vᵀ ≠ A ({m}x{n})"
        );
        let utu = svd.u.t().dot(&svd.u);
        let vvt = svd.vt.dot(&svd.vt.t());
        assert!(max_abs_diff2(utu.view(), Array2::eye(kk).view()) <= 100.0 * m.max(n) as f64 * EPS);
        assert!(max_abs_diff2(vvt.view(), Array2::eye(kk).view()) <= 100.0 * m.max(n) as f64 * EPS);
        assert!(
            svd.s.windows(2).into_iter().all(|w| w[0] >= w[1]),
            "not descending"
        );
        assert!(svd.s.iter().all(|&x| x >= 0.0));
    }
}

pub fn qr_reconstructs_and_is_orthogonal() {
    for (k, &(m, n)) in SHAPES.iter().enumerate() {
        let a = gaussian(m, n, 400 + k as u64);
        let qr = linalg::householder_qr(a.view()).unwrap();
        let kk = m.min(n);
        assert_eq!(qr.q.dim(), (m, kk));
        assert_eq!(qr.r.dim(), (kk, n));
        let tol = 100.0 * m.max(n) as f64 * EPS * fro(a.view()).max(1.0);
        assert!(
            max_abs_diff2(qr.q.dot(&qr.r).view(), a.view()) <= tol,
            "QR ≠ A ({m}x{n})"
        );
        let qtq = qr.q.t().dot(&qr.q);
        assert!(max_abs_diff2(qtq.view(), Array2::eye(kk).view()) <= 100.0 * m as f64 * EPS);
        for i in 0..kk {
            for j in 0..i.min(n) {
                assert_eq!(qr.r[(i, j)], 0.0, "R not upper triangular at ({i},{j})");
            }
        }
    }
}

pub fn gram_matches_naive_many_shapes() {
    for (k, &(m, n)) in SHAPES.iter().enumerate() {
        let a = gaussian(m, n, 500 + k as u64);
        let reference = if m >= n {
            naive::gram_naive(a.view())
        } else {
            naive::gram_naive(a.t())
        };
        // f64 path: near-exact.
        let g64 = linalg::gram(a.view(), &GramParams::default()).unwrap();
        let scale = fro(a.view()).powi(2).max(1.0);
        assert!(
            max_abs_diff2(g64.view(), reference.view()) <= 10.0 * m.max(n) as f64 * EPS * scale
        );
        // f32 path against the f64 Gram of the *same* f32 values: per-entry error of f32 sums
        // over ≤ 128 rows, bounded by 128·ε32·Σ|a_ri a_rj| ≤ 128·ε32·‖A‖_F².
        let a32 = a.mapv(|v| v as f32);
        let a32w = a32.mapv(|v| v as f64);
        let ref32 = if m >= n {
            naive::gram_naive(a32w.view())
        } else {
            naive::gram_naive(a32w.t())
        };
        let g32 = linalg::gram(a32.view(), &GramParams::default()).unwrap();
        let tol = 128.0 * f32::EPSILON as f64 * fro(a32w.view()).powi(2);
        assert!(
            max_abs_diff2(g32.view(), ref32.view()) <= tol,
            "f32 Gram {m}x{n}"
        );
        // Exactly symmetric.
        assert_eq!(g32, g32.t());
    }
}

pub fn gram_f32_eigenvalues_match_f64_reference() {
    // A tall 3000×96 matrix with a spread spectrum (columns scaled 1..1e-3), f32 storage.
    let (n, d) = (3000, 96);
    let mut a = gaussian(n, d, 11);
    for j in 0..d {
        let sc = 10f64.powf(-3.0 * j as f64 / (d - 1) as f64);
        a.column_mut(j).mapv_inplace(|v| v * sc);
    }
    let a32 = a.mapv(|v| v as f32);
    let fast = linalg::gram_eigenvalues(a32.view(), &GramParams::default()).unwrap();
    let exact =
        linalg::symmetric_eigenvalues(naive::gram_naive(a32.mapv(|v| v as f64).view()).view())
            .unwrap();
    let lmax = exact[d - 1];
    // Absolute error ≤ 1e-6·λ_max, and the smallest eigenvalues (1e-6 of λ_max) keep ≥ 3 digits.
    assert_close(
        "gram f32 eigenvalues",
        fast.view(),
        exact.view(),
        1e-6 * lmax,
    );
    for i in 0..d {
        let rel = (fast[i] - exact[i]).abs() / exact[i];
        assert!(
            rel < 1e-3,
            "eigenvalue {i}: {} vs {} (rel {rel:e})",
            fast[i],
            exact[i]
        );
    }
}

pub fn gram_eigenvalues_equal_squared_singular_values() {
    for &(m, n) in &[(120usize, 30usize), (30, 120), (50, 50)] {
        let a = gaussian(m, n, (m * 7 + n) as u64);
        let ev = linalg::gram_eigenvalues(a.view(), &GramParams::default()).unwrap();
        let sv = linalg::singular_values(a.view()).unwrap();
        let sq: Array1<f64> = sv.iter().rev().map(|s| s * s).collect();
        let tol = 1e-12 * sq[sq.len() - 1];
        assert_close(&format!("λ = σ² {m}x{n}"), ev.view(), sq.view(), tol);
    }
}

pub fn gram_parallel_equals_sequential() {
    let a = gaussian(2500, 70, 5).mapv(|v| v as f32);
    let p = linalg::gram(a.view(), &GramParams { parallel: true }).unwrap();
    let s = linalg::gram(a.view(), &GramParams { parallel: false }).unwrap();
    assert_eq!(p, s, "parallel split must not change any bit");
}

pub fn gram_strided_views() {
    // Transposed, sliced and stepped views give the same Gram as contiguous copies.
    let a = gaussian(90, 60, 9).mapv(|v| v as f32);
    let views: Vec<ndarray::ArrayView2<'_, f32>> =
        vec![a.t(), a.slice(s![5..80;2, 3..50]), a.slice(s![.., ..;3])];
    for (i, v) in views.into_iter().enumerate() {
        let owned = v.to_owned();
        let g1 = linalg::gram(v, &GramParams::default()).unwrap();
        let g2 = linalg::gram(owned.view(), &GramParams::default()).unwrap();
        assert_eq!(g1, g2, "view {i}");
    }
}

pub fn randomized_svd_recovers_low_rank() {
    // Exactly rank-8 60×45 matrix plus 1e-9 noise: top-8 singular values to ~1e-8 relative.
    let (m, n, r) = (60, 45, 8);
    let l = gaussian(m, r, 1);
    let rr = gaussian(r, n, 2);
    let a = l.dot(&rr) + gaussian(m, n, 3) * 1e-9;
    let exact = linalg::singular_values(a.view()).unwrap();
    let params = RandomizedSvdParams {
        rank: r,
        ..Default::default()
    };
    let approx = linalg::randomized_svd(a.view(), &params).unwrap();
    assert_eq!(approx.u.dim(), (m, r));
    assert_eq!(approx.vt.dim(), (r, n));
    assert_close(
        "rsvd σ",
        approx.s.view(),
        exact.slice(s![..r]),
        1e-7 * exact[0],
    );
    let rec = (&approx.u * &approx.s).dot(&approx.vt);
    assert!(max_abs_diff2(rec.view(), a.view()) < 1e-7 * exact[0]);
    // A full-rank Gaussian matrix: the top singular values are within a few % after 4 iterations.
    let g = gaussian(200, 150, 4);
    let ex = linalg::singular_values(g.view()).unwrap();
    let ap = linalg::randomized_svd(
        g.view(),
        &RandomizedSvdParams {
            rank: 5,
            ..Default::default()
        },
    )
    .unwrap();
    for i in 0..5 {
        assert!(ap.s[i] <= ex[i] * (1.0 + 1e-12), "σ{i} overestimated");
        assert!(ap.s[i] >= 0.95 * ex[i], "σ{i}: {} vs {}", ap.s[i], ex[i]);
    }
}

pub fn randomized_svd_is_seeded() {
    let a = gaussian(40, 30, 8);
    let p = RandomizedSvdParams {
        rank: 4,
        seed: 99,
        ..Default::default()
    };
    let x = linalg::randomized_svd(a.view(), &p).unwrap();
    let y = linalg::randomized_svd(a.view(), &p).unwrap();
    assert_eq!(x.s, y.s);
    assert!(matches!(
        linalg::randomized_svd(a.view(), &RandomizedSvdParams { rank: 0, ..p }),
        Err(Error::InvalidParameter { name: "rank", .. })
    ));
}

// ---------- rung 3: adversarial inputs ----------

pub fn adversarial_zeros_rank1_repeated() {
    // Zeros: all eigenvalues / singular values are exactly 0.
    let z = Array2::<f64>::zeros((7, 4));
    assert!(linalg::gram_eigenvalues(z.view(), &GramParams::default())
        .unwrap()
        .iter()
        .all(|&v| v == 0.0));
    assert!(linalg::singular_values(z.view())
        .unwrap()
        .iter()
        .all(|&v| v == 0.0));
    let z32 = Array2::<f32>::zeros((300, 20));
    assert!(linalg::gram_eigenvalues(z32.view(), &GramParams::default())
        .unwrap()
        .iter()
        .all(|&v| v == 0.0));
    // Rank 1: u vᵀ has one singular value ‖u‖‖v‖.
    let u = Array1::from_iter((0..50).map(|i| (i as f64 * 0.3).sin() + 0.1));
    let v = Array1::from_iter((0..20).map(|i| (i as f64 * 0.7).cos()));
    let a = u
        .view()
        .insert_axis(ndarray::Axis(1))
        .dot(&v.view().insert_axis(ndarray::Axis(0)));
    let s = linalg::singular_values(a.view()).unwrap();
    let expect = u.dot(&u).sqrt() * v.dot(&v).sqrt();
    assert!((s[0] - expect).abs() <= 1e-13 * expect);
    assert!(s.iter().skip(1).all(|&x| x <= 1e-13 * expect));
    // Repeated eigenvalues: Q diag(1,1,1,2,2,5) Qᵀ.
    let q = linalg::householder_qr(gaussian(6, 6, 77).view()).unwrap().q;
    let d = ndarray::array![1.0, 1.0, 1.0, 2.0, 2.0, 5.0];
    let a = (&q * &d).dot(&q.t());
    let w = linalg::symmetric_eigenvalues(a.view()).unwrap();
    assert_close("repeated", w.view(), d.view(), 1e-13);
    let e = linalg::symmetric_eigen(a.view()).unwrap();
    let vtv = e.vectors.t().dot(&e.vectors);
    assert!(
        max_abs_diff2(vtv.view(), Array2::eye(6).view()) < 1e-13,
        "eigenvectors of repeated λ not orthonormal"
    );
}

pub fn adversarial_extreme_scales() {
    for &scale in &[1e30f64, 1e-30] {
        let a = gaussian(200, 24, 21);
        let base32 =
            linalg::gram_eigenvalues(a.mapv(|v| v as f32).view(), &GramParams::default()).unwrap();
        let big32 = a.mapv(|v| (v * scale) as f32);
        let ev32 = linalg::gram_eigenvalues(big32.view(), &GramParams::default()).unwrap();
        // Reference in f64 from the same f32 values.
        let exact = linalg::symmetric_eigenvalues(
            naive::gram_naive(big32.mapv(|v| v as f64).view()).view(),
        )
        .unwrap();
        assert!(
            ev32.iter().all(|v| v.is_finite()),
            "f32 Gram overflowed/underflowed at scale {scale:e}"
        );
        assert_close(
            &format!("f32 gram at {scale:e}"),
            ev32.view(),
            exact.view(),
            1e-6 * exact[23],
        );
        // Same spectrum shape as the unscaled matrix (up to the f32 rounding of the scaled input).
        for i in 0..24 {
            let r = ev32[i] / (base32[i] * scale * scale);
            assert!((r - 1.0).abs() < 1e-5, "scale {scale:e}: λ{i} ratio {r}");
        }
        let a64 = &a * scale;
        let ev64 = linalg::gram_eigenvalues(a64.view(), &GramParams::default()).unwrap();
        let sv = linalg::singular_values(a64.view()).unwrap();
        assert!(
            (ev64[23] / (sv[0] * sv[0]) - 1.0).abs() < 1e-12,
            "f64 scale {scale:e}"
        );
        let w = linalg::symmetric_eigenvalues((symmetric(30, 1) * scale).view()).unwrap();
        let w1 = linalg::symmetric_eigenvalues(symmetric(30, 1).view()).unwrap();
        for i in 0..30 {
            assert!(
                (w[i] - w1[i] * scale).abs()
                    <= 1e-12 * scale * w1.iter().fold(0f64, |m, x| m.max(x.abs()))
            );
        }
    }
    // f64 entries near 1e150: the Gram (≈1e300·n) still fits after internal rescaling …
    let big = gaussian(40, 10, 2) * 1e150;
    let ev = linalg::gram_eigenvalues(big.view(), &GramParams::default()).unwrap();
    let sv = linalg::singular_values(big.view()).unwrap();
    assert!((ev[9] / (sv[0] * sv[0]) - 1.0).abs() < 1e-12);
    // … entries near 1e200 give eigenvalues near 1e400: a named overflow error, not Inf.
    let huge = gaussian(40, 10, 2) * 1e200;
    let err = linalg::gram_eigenvalues(huge.view(), &GramParams::default()).unwrap_err();
    assert!(matches!(err, Error::Overflow { .. }), "{err:?}");
    assert!(matches!(
        linalg::gram(huge.view(), &GramParams::default()),
        Err(Error::Overflow { .. })
    ));
    // Tiny f64 entries (1e-150): eigenvalues near 1e-298 keep full relative precision.
    let unit = gaussian(40, 10, 2);
    let sv1 = linalg::singular_values(unit.view()).unwrap();
    let ev = linalg::gram_eigenvalues((&unit * 1e-150).view(), &GramParams::default()).unwrap();
    for i in 0..10 {
        let r = ev[i] / (sv1[9 - i] * sv1[9 - i] * 1e-300);
        assert!((r - 1.0).abs() < 1e-10, "tiny: λ{i} ratio {r}");
    }
}

pub fn adversarial_non_finite_is_named_error() {
    let mut a = gaussian(10, 6, 1);
    a[(3, 2)] = f64::NAN;
    let err = linalg::gram_eigenvalues(a.view(), &GramParams::default()).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { row: 3, col: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("row 3, column 2"), "{err}");
    let mut b = gaussian(8, 8, 2).mapv(|v| v as f32);
    b[(7, 0)] = f32::INFINITY;
    assert!(matches!(
        linalg::gram(b.view(), &GramParams::default()),
        Err(Error::NonFinite { row: 7, col: 0, .. })
    ));
    assert!(matches!(
        linalg::singular_values(b.view()),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        linalg::symmetric_eigenvalues(b.view()),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        linalg::householder_qr(b.view()),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        linalg::thin_svd(b.view()),
        Err(Error::NonFinite { .. })
    ));
    let mut c = symmetric(5, 3);
    c[(4, 4)] = f64::NEG_INFINITY;
    assert!(matches!(
        linalg::symmetric_eigen(c.view()),
        Err(Error::NonFinite { row: 4, col: 4, .. })
    ));
}

pub fn empty_and_degenerate_shapes() {
    let e = Array2::<f64>::zeros((0, 5));
    assert!(matches!(
        linalg::gram(e.view(), &GramParams::default()),
        Err(Error::Empty { rows: 0, cols: 5 })
    ));
    assert!(matches!(
        linalg::gram_eigenvalues(Array2::<f32>::zeros((3, 0)).view(), &GramParams::default()),
        Err(Error::Empty { .. })
    ));
    assert_eq!(linalg::singular_values(e.view()).unwrap().len(), 0);
    let svd = linalg::thin_svd(e.view()).unwrap();
    assert_eq!(
        (svd.u.dim(), svd.s.len(), svd.vt.dim()),
        ((0, 0), 0, (0, 5))
    );
    assert_eq!(
        linalg::symmetric_eigenvalues(Array2::<f64>::zeros((0, 0)).view())
            .unwrap()
            .len(),
        0
    );
    assert!(matches!(
        linalg::symmetric_eigenvalues(Array2::<f64>::zeros((2, 3)).view()),
        Err(Error::Shape { .. })
    ));
    // 1×N and N×1: one eigenvalue, the squared norm.
    let row = ndarray::array![[3.0f32, 4.0, 0.0, 12.0]];
    let ev = linalg::gram_eigenvalues(row.view(), &GramParams::default()).unwrap();
    assert_eq!(ev.len(), 1);
    assert!((ev[0] - 169.0).abs() < 1e-9);
    let col = row.t().to_owned();
    assert!(
        (linalg::gram_eigenvalues(col.view(), &GramParams::default()).unwrap()[0] - 169.0).abs()
            < 1e-9
    );
    assert!(matches!(
        linalg::randomized_svd(
            Array2::<f64>::zeros((0, 3)).view(),
            &RandomizedSvdParams::default()
        ),
        Err(Error::Empty { .. })
    ));
}

// ---------- rung 4: kernels (scalar reference vs the build's dispatch, SIMD128 on wasm) ----------

pub fn gram_tile_kernel_matches_definition() {
    let mut rng = SeededRng::new(31);
    for kc in [0usize, 1, 2, 3, 7, 64, 127, 128] {
        for off in 0..3 {
            // Unaligned slices: offset the start by `off` elements.
            let a: Vec<f32> = (0..kc * 8 + 8 + off).map(|_| rng.normal() as f32).collect();
            let b: Vec<f32> = (0..kc * 8 + off).map(|_| rng.normal() as f32).collect();
            let mut out_fast = vec![0.5f64; 3 * 11 + 8];
            let mut out_ref = out_fast.clone();
            kernels::gram_tile_f32(&a[off..], &b[off..], kc, &mut out_fast, 11);
            kernels::scalar::gram_tile_f32(&a[off..], &b[off..], kc, &mut out_ref, 11);
            // Same grouping and no FMA on either side: bit-identical.
            assert_eq!(
                out_fast,
                out_ref,
                "kc={kc} off={off} ({})",
                kernels::gram_kernel_name()
            );
            for t in 0..4 {
                for c in 0..8 {
                    let exact: f64 = (0..kc)
                        .map(|r| a[off + r * 8 + t] as f64 * b[off + r * 8 + c] as f64)
                        .sum();
                    let bound: f64 = (0..kc)
                        .map(|r| (a[off + r * 8 + t] * b[off + r * 8 + c]).abs() as f64)
                        .sum();
                    let got = out_fast[t * 11 + c] - 0.5;
                    assert!(
                        (got - exact).abs()
                            <= (kc as f64 + 1.0) * f32::EPSILON as f64 * bound + 1e-15
                    );
                }
            }
        }
    }
}

pub fn dot_kernel_matches_definition() {
    let mut rng = SeededRng::new(32);
    for n in 0..=67usize {
        for off in 0..3 {
            let x: Vec<f32> = (0..n + off).map(|_| rng.normal() as f32).collect();
            let y: Vec<f32> = (0..n + off).map(|_| rng.normal() as f32).collect();
            let fast = kernels::dot_f32(&x[off..], &y[off..]);
            let slow = kernels::scalar::dot_f32(&x[off..], &y[off..]);
            assert_eq!(fast.to_bits(), slow.to_bits(), "n={n} off={off}");
            let exact: f64 = x[off..]
                .iter()
                .zip(&y[off..])
                .map(|(a, b)| *a as f64 * *b as f64)
                .sum();
            let bound: f64 = x[off..]
                .iter()
                .zip(&y[off..])
                .map(|(a, b)| (a * b).abs() as f64)
                .sum();
            assert!(
                (fast - exact).abs()
                    <= (n as f64 / 8.0 + 2.0) * f32::EPSILON as f64 * bound + 1e-30
            );
        }
    }
}

pub fn widening_f16_bf16() {
    use spectralab_core::dtype;
    // f16: 1.0 = 0x3C00, −2.0 = 0xC000, 65504 = 0x7BFF (max), smallest subnormal 0x0001 = 2^-24.
    let w = dtype::widen_f16(&[0x3C00, 0xC000, 0x7BFF, 0x0001, 0x0000]);
    assert_eq!(w, vec![1.0, -2.0, 65504.0, 2f32.powi(-24), 0.0]);
    // bf16: top 16 bits of the f32 pattern.
    let w = dtype::widen_bf16(&[0x3F80, 0xC040, 0x7F80]);
    assert_eq!(w, vec![1.0, -3.0, f32::INFINITY]);
    let back = dtype::narrow_f16(&[1.0, -2.0, 0.1]);
    assert_eq!(&back[..2], &[0x3C00, 0xC000]);
    assert!((dtype::widen_f16(&back[2..])[0] - 0.1).abs() < 1e-4);
}

pub fn marchenko_pastur_density_integrates_to_one() {
    use spectralab_core::spectrum;
    for &(n, m) in &[(2000usize, 500usize), (500, 2000), (1000, 1000)] {
        let (lo, hi) = spectrum::marchenko_pastur_bounds(n, m, 0.01);
        let k = 200_000;
        let xs: Vec<f64> = (0..k)
            .map(|i| lo + (hi - lo) * (i as f64 + 0.5) / k as f64)
            .collect();
        let integral: f64 = spectrum::marchenko_pastur_density(&xs, n, m, 0.01)
            .iter()
            .sum::<f64>()
            * (hi - lo)
            / k as f64;
        if n == m {
            // Q = 1: the density has an integrable 1/√λ pole at 0 that the midpoint rule under-counts.
            assert!((integral - 1.0).abs() < 2e-2, "{n}x{m}: {integral}");
        } else {
            assert!((integral - 1.0).abs() < 1e-4, "{n}x{m}: {integral}");
        }
    }
    // A Gaussian matrix's ESD lies in the MP bulk (edges within a few %).
    let w = SeededRng::new(3)
        .gaussian_matrix_f32(2000, 500)
        .mapv(|v| v * (1.0 / 2000f32).sqrt());
    let ev = linalg::gram_eigenvalues(w.view(), &GramParams::default()).unwrap();
    let (lo, hi) = spectrum::marchenko_pastur_bounds(2000, 500, 1.0 / 2000.0);
    assert!(
        (ev[0] / lo - 1.0).abs() < 0.1 && (ev[499] / hi - 1.0).abs() < 0.05,
        "{} {}",
        ev[0],
        ev[499]
    );
    let h = spectrum::histogram(ev.as_slice().unwrap(), 30, false).unwrap();
    assert_eq!(h.counts.iter().sum::<u64>(), 500);
    assert_eq!(h.edges.len(), 31);
}

// ---------- spectrum: power-law fits, FARMS, layer walk ----------

use spectralab_core::spectrum::farms::{farms_layer, window_starts, FarmsParams};
use spectralab_core::spectrum::layers::{layer_esd, plan_layers, LayerKind, WalkParams};
use spectralab_core::spectrum::power_law::{
    fit_clipped_power_law, fit_power_law, ks_distance, ks_distance_naive, ks_scan_naive,
    PowerLawParams, XminMethod,
};

fn pareto(n: usize, alpha: f64, xmin: f64, seed: u64) -> Vec<f64> {
    // Inverse CDF: x = xmin·u^(−1/(α−1)), density ∝ x^(−α).
    let mut rng = SeededRng::new(seed);
    (0..n)
        .map(|_| xmin * (1.0 - rng.uniform()).powf(-1.0 / (alpha - 1.0)))
        .collect()
}

pub fn ks_scan_matches_definition() {
    for (k, &n) in [2usize, 3, 19, 20, 21, 64, 65, 200, 700].iter().enumerate() {
        // A bulk (uniform) plus a Pareto tail, sorted, as an ESD looks.
        let mut x: Vec<f64> = SeededRng::new(k as u64)
            .gaussian_matrix(n, 1)
            .iter()
            .map(|v| v.abs() + 0.1)
            .collect();
        x.extend(pareto(n / 4 + 1, 2.5, 3.0, 50 + k as u64));
        x.sort_by(f64::total_cmp);
        let small = x.len() < 20;
        let naive = ks_scan_naive(&x, small);
        let params = PowerLawParams {
            evals_thresh: None,
            keep_scan: true,
            ..Default::default()
        };
        let fit = fit_power_law(&x, &params).unwrap();
        let scan = fit.scan.clone().unwrap();
        assert_eq!(scan.len(), naive.len());
        for (i, ((_, a, d), (an, dn))) in scan.iter().zip(&naive).enumerate() {
            assert_eq!(a, an, "α({i}) n={n}");
            assert!((d - dn).abs() <= 1e-14, "D({i}) n={n}: {d} vs {dn}");
        }
        let best = naive
            .iter()
            .enumerate()
            .fold(0, |b, (i, v)| if v.1 < naive[b].1 { i } else { b });
        assert_eq!(fit.xmin_index, best, "argmin D, n={n}");
        // Blocked D equals the definition on long tails too.
        for i in [0usize, x.len() / 3, x.len() / 2] {
            if i + 1 < x.len() {
                let al = 2.3;
                assert!((ks_distance(&x, i, al) - ks_distance_naive(&x, i, al)).abs() <= 1e-15);
            }
        }
    }
}

pub fn power_law_recovers_pareto_alpha() {
    let x = pareto(20000, 2.5, 1.0, 7);
    let fit = fit_power_law(&x, &PowerLawParams::default()).unwrap();
    assert!((fit.alpha - 2.5).abs() < 0.06, "α = {}", fit.alpha);
    assert!(fit.d < 0.02, "D = {}", fit.d);
    assert_eq!(fit.n_tail, x.iter().filter(|&&v| v >= fit.xmin).count());
    assert!((fit.sigma - (fit.alpha - 1.0) / (fit.n_tail as f64).sqrt()).abs() < 1e-15);
    // Eigenvalues at or below 1e-5 are dropped before the fit (WW's EVALS_THRESH).
    let mut y = x.clone();
    y.extend([0.0, 1e-6, 1e-5]);
    let fy = fit_power_law(&y, &PowerLawParams::default()).unwrap();
    assert_eq!((fy.alpha, fy.n_fitted), (fit.alpha, fit.n_fitted));
}

pub fn power_law_small_n_and_degenerate() {
    // n = 12 < 20: bias-corrected α over tails ≥ 8, chosen by argmin D (WW 0.7.7).
    let x = pareto(12, 3.0, 1.0, 3);
    let mut xs = x.clone();
    xs.sort_by(f64::total_cmp);
    let fit = fit_power_law(&x, &PowerLawParams::default()).unwrap();
    assert!(fit.small_n);
    assert!(fit.n_tail >= 8);
    let i = fit.xmin_index;
    let k = (12 - i) as f64;
    let s: f64 = xs[i..].iter().map(|v| (v / xs[i]).ln()).sum();
    assert!((fit.alpha - (1.0 + (k - 1.0) / s)).abs() < 1e-12);
    let naive = ks_scan_naive(&xs, true);
    let best = naive
        .iter()
        .enumerate()
        .fold(0, |b, (j, v)| if v.1 < naive[b].1 { j } else { b });
    assert_eq!(i, best);
    // Fewer than 2 eigenvalues above the threshold: a named failure, not α = −1.
    assert!(fit_power_law(&[1.0], &PowerLawParams::default()).is_err());
    assert!(fit_power_law(&[1e-7, 1e-8, 2.0], &PowerLawParams::default()).is_err());
    assert!(fit_power_law(&[1.0, f64::NAN, 2.0], &PowerLawParams::default()).is_err());
    // n < 8: the whole sample from x₀ (WW's fallback).
    let f5 = fit_power_law(&[1.0, 2.0, 3.0, 5.0, 9.0], &PowerLawParams::default()).unwrap();
    assert_eq!(f5.xmin_index, 0);
}

pub fn hill_median_and_clip_xmax() {
    let x = pareto(1001, 3.0, 2.0, 11);
    let mut xs = x.clone();
    xs.sort_by(f64::total_cmp);
    let p = PowerLawParams {
        xmin_method: XminMethod::Median,
        evals_thresh: None,
        keep_scan: false,
    };
    let f = fit_power_law(&x, &p).unwrap();
    assert_eq!(f.xmin_index, 500);
    let k = 501.0;
    let s: f64 = xs[500..].iter().map(|v| (v / xs[500]).ln()).sum();
    assert!((f.alpha - (1.0 + k / s)).abs() < 1e-12);
    // clip_xmax on a tail with two huge "fingers": removing them lowers α by > 1.
    let mut y = pareto(300, 4.5, 1.0, 5);
    y.extend([1e6, 2e6]);
    let (fit, nf, raw) = fit_clipped_power_law(&y, &PowerLawParams::default(), 10, 1.0).unwrap();
    assert!(fit.alpha <= raw.alpha);
    assert!(
        nf == 0 || fit.alpha + 1.0 < raw.alpha,
        "fingers {nf}: {} vs raw {}",
        fit.alpha,
        raw.alpha
    );
}

pub fn farms_windows_and_alpha() {
    // Evenly spread starts, last one clamped to the edge (official fixed_sampling).
    assert_eq!(
        window_starts(384, 100, 9),
        vec![0, 35, 70, 105, 140, 175, 210, 245, 280]
    );
    assert_eq!(window_starts(100, 100, 9), vec![0]);
    assert_eq!(window_starts(105, 100, 9), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(window_starts(1000, 100, 1), vec![0]);
    // FARMS removes aspect-ratio bias: Gaussian matrices of Q = 1 and Q = 8 get close FARMS α,
    // while their plain Hill α differ more.
    let sq = SeededRng::new(1).gaussian_matrix_f32(400, 400).into_dyn();
    let tall = SeededRng::new(2).gaussian_matrix_f32(3200, 400).into_dyn();
    let fp = FarmsParams::default();
    let fa = farms_layer(sq.view(), LayerKind::Dense, &fp, &GramParams::default()).unwrap();
    let fb = farms_layer(tall.view(), LayerKind::Dense, &fp, &GramParams::default()).unwrap();
    assert_eq!(
        (fa.window_rows, fa.window_cols, fa.num_windows),
        (100, 100, 81)
    );
    assert_eq!(fa.num_evals, 8100);
    let hill = |w: &ndarray::ArrayD<f32>| {
        let e = layer_esd(w.view(), LayerKind::Dense, &GramParams::default()).unwrap();
        let p = PowerLawParams {
            xmin_method: XminMethod::Median,
            evals_thresh: None,
            keep_scan: false,
        };
        fit_power_law(&e.evals, &p).unwrap().alpha
    };
    let (ha, hb) = (hill(&sq), hill(&tall));
    assert!(
        (fa.alpha - fb.alpha).abs() < 0.5 * (ha - hb).abs(),
        "FARMS {} vs {}, Hill {ha} vs {hb}",
        fa.alpha,
        fb.alpha
    );
}

pub fn layer_walk_gates_and_conv_slices() {
    let t = |n: &str, s: &[usize]| (n.to_string(), s.to_vec(), None::<String>);
    let plans = plan_layers(
        &[
            t("embeddings.token_type_embeddings.weight", &[2, 384]),
            t("encoder.layer.0.attention.self.query.weight", &[384, 384]),
            t("encoder.layer.0.attention.self.query.bias", &[384]),
            t("conv.weight", &[64, 32, 3, 3]),
            t("huge.weight", &[60000, 20]),
            t("wide.weight", &[10, 20000]),
            (
                "odd.weight".into(),
                vec![8, 8],
                Some("unsupported dtype I64".into()),
            ),
        ],
        &WalkParams::default(),
    );
    assert!(plans[0].skip.as_ref().unwrap().contains("min_evals"));
    assert!(plans[1].skip.is_none() && plans[1].kind == Some(LayerKind::Dense));
    assert!(plans[2].skip.as_ref().unwrap().contains("not a `.weight`"));
    assert_eq!((plans[3].n, plans[3].m, plans[3].rf), (64, 32, 9));
    assert!(plans[4].skip.as_ref().unwrap().contains("max_N"));
    assert!(plans[5].skip.is_none());
    assert!(plans[6].skip.as_ref().unwrap().contains("I64"));
    // Conv ESD: 9 slices of 64×32 → 288 eigenvalues, each slice's ×½.
    let w = SeededRng::new(4)
        .gaussian_matrix_f32(64 * 32, 9)
        .into_shape_with_order((64, 32, 3, 3))
        .unwrap()
        .into_dyn();
    let esd = layer_esd(w.view(), LayerKind::Conv2d, &GramParams::default()).unwrap();
    assert_eq!(esd.evals.len(), 288);
    let s00 = w.slice(s![.., .., 0, 0]).to_owned();
    let ev00 = linalg::gram_eigenvalues(s00.view(), &GramParams::default()).unwrap();
    for v in ev00.iter() {
        assert!(esd
            .evals
            .iter()
            .any(|e| (e - 0.5 * v).abs() <= 1e-12 * v.abs().max(1.0)));
    }
}

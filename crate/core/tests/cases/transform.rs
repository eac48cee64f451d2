//! Shared transform cases (run natively by `tests/linalg.rs` and as wasm32 by
//! `crate/wasm/tests/suite.rs`). Each case is a plain `pub fn`; [`for_each_transform_case`] lists them.
//!
//! Tolerances: an FFT-type transform of `x` errs per coefficient by about `ε·log₂n·‖x‖₂`; the
//! O(n²) references add about `ε·√n·‖x‖₂`. SIMD128 and scalar WHT kernels use the same butterfly
//! pairing and order, so they must agree bit for bit.
#![allow(dead_code)]

use ndarray::{s, Array2};
use spectralab_core::kernels;
use spectralab_core::random::SeededRng;
use spectralab_core::transform::dct::{DctBackend, DctKind, DctPlan};
use spectralab_core::transform::fft::{next_fast_len, RealFftPlan};
use spectralab_core::transform::hadamard::{
    fwht, fwht_rows, RandomizedHadamard, WhtOrder, WhtParams,
};
use spectralab_core::transform::{
    self, naive, Complex, FftDirection, FftPlan, HouseholderProduct, TestSignal,
};

/// Lists every transforms case; `$m!(name)` is expanded once per case.
#[macro_export]
macro_rules! for_each_transform_case {
    ($m:ident) => {
        $m!(naive_references_hand_cases);
        $m!(fft_matches_dft_every_length_to_1024);
        $m!(fft_f32_matches_dft);
        $m!(fft_roundtrip_parseval_linearity_batched);
        $m!(rfft_matches_fft_and_roundtrips);
        $m!(fft2_matches_row_column_dft);
        $m!(convolution_matches_direct_sum);
        $m!(wht_matches_dense_matrices);
        $m!(wht_simd_kernel_equals_scalar_twin);
        $m!(wht_properties_and_errors);
        $m!(randomized_hadamard_orthogonal_and_seeded);
        $m!(dct_matches_definition_both_backends);
        $m!(dct_roundtrips_and_preserves_norm);
        $m!(householder_wy_matches_explicit_product);
        $m!(random_orthogonal_is_orthogonal_and_seeded);
        $m!(compaction_curves_properties);
        $m!(test_signals_are_deterministic);
    };
}

const EPS: f64 = f64::EPSILON;
const EPS32: f64 = f32::EPSILON as f64;

fn cz(re: f64, im: f64) -> Complex<f64> {
    Complex::new(re, im)
}

fn crandom(n: usize, seed: u64) -> Vec<Complex<f64>> {
    let mut r = SeededRng::new(seed);
    (0..n).map(|_| cz(r.normal(), r.normal())).collect()
}

fn rrandom(n: usize, seed: u64) -> Vec<f64> {
    let mut r = SeededRng::new(seed);
    (0..n).map(|_| r.normal()).collect()
}

fn cnorm(x: &[Complex<f64>]) -> f64 {
    x.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt()
}

fn rnorm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn log2n(n: usize) -> f64 {
    (n.max(2) as f64).log2()
}

/// Panics at the first `|a_i − b_i| > tol` (complex).
fn assert_cclose(what: &str, a: &[Complex<f64>], b: &[Complex<f64>], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let d = (x - y).norm();
        assert!(
            d <= tol,
            "{what}: first mismatch at {i}: {x} vs {y} (|Δ| = {d:e} > tol {tol:e})"
        );
    }
}

/// Panics at the first `|a_i − b_i| > tol` (real).
fn assert_rclose(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol,
            "{what}: first mismatch at {i}: {x:e} vs {y:e} (|Δ| = {:e} > tol {tol:e})",
            (x - y).abs()
        );
    }
}

fn fft_tol(n: usize, norm: f64, eps: f64) -> f64 {
    8.0 * eps * (log2n(n) + (n as f64).sqrt()) * norm.max(1e-300)
}

// ---------- rung 0 ----------

pub fn naive_references_hand_cases() {
    // DFT of an impulse is all ones; of a constant, n at k = 0.
    let d = naive::dft(
        &[cz(1.0, 0.0), cz(0.0, 0.0), cz(0.0, 0.0), cz(0.0, 0.0)],
        false,
    );
    assert_cclose("impulse", &d, &[cz(1.0, 0.0); 4], 1e-15);
    let d = naive::dft(&[cz(1.0, 0.0); 4], false);
    assert_cclose(
        "constant",
        &d,
        &[cz(4.0, 0.0), cz(0.0, 0.0), cz(0.0, 0.0), cz(0.0, 0.0)],
        1e-15,
    );
    // x = (0, 1, 0, 0): X_k = e^{−2πik/4} = (1, −i, −1, i).
    let d = naive::dft(
        &[cz(0.0, 0.0), cz(1.0, 0.0), cz(0.0, 0.0), cz(0.0, 0.0)],
        false,
    );
    assert_cclose(
        "shift",
        &d,
        &[cz(1.0, 0.0), cz(0.0, -1.0), cz(-1.0, 0.0), cz(0.0, 1.0)],
        1e-15,
    );
    // H_4 and its Walsh reordering (sequency 0, 1, 2, 3).
    let h = naive::hadamard_matrix(4);
    assert_eq!(
        h,
        ndarray::array![
            [1.0, 1.0, 1.0, 1.0],
            [1.0, -1.0, 1.0, -1.0],
            [1.0, 1.0, -1.0, -1.0],
            [1.0, -1.0, -1.0, 1.0]
        ]
    );
    let w = naive::walsh_matrix(4);
    assert_eq!(
        w,
        ndarray::array![
            [1.0, 1.0, 1.0, 1.0],
            [1.0, 1.0, -1.0, -1.0],
            [1.0, -1.0, -1.0, 1.0],
            [1.0, -1.0, 1.0, -1.0]
        ]
    );
    // Orthonormal DCT-II of a constant: √n at k = 0 only.
    let d = naive::dct2(&[1.0; 8]);
    assert!((d[0] - 8f64.sqrt()).abs() < 1e-14 && d[1..].iter().all(|v| v.abs() < 1e-14));
    // DCT-II of length 2: [(a+b)/√2, (a−b)/√2].
    assert_rclose(
        "dct2 n=2",
        &naive::dct2(&[3.0, 1.0]),
        &[4.0 / 2f64.sqrt(), 2.0 / 2f64.sqrt()],
        1e-15,
    );
    // DCT-IV of length 1 is the identity: √2·cos(π/4) = 1.
    assert_rclose("dct4 n=1", &naive::dct4(&[5.0]), &[5.0], 1e-14);
    // Reflector of e_1 with β = 2 flips the first axis.
    let q = naive::householder_product(&ndarray::array![[1.0, 0.0, 0.0]], &[2.0]);
    assert_eq!(q, Array2::from_diag(&ndarray::array![-1.0, 1.0, 1.0]));
}

// ---------- FFT ----------

pub fn fft_matches_dft_every_length_to_1024() {
    for n in 0..=1024usize {
        let x = crandom(n, n as u64);
        let fast = transform::fft(&x);
        let slow = naive::dft(&x, false);
        assert_cclose(
            &format!("fft n={n}"),
            &fast,
            &slow,
            fft_tol(n, cnorm(&x), EPS),
        );
        // Inverse against the inverse DFT of the same spectrum on a subset (cost).
        if n % 7 == 0 || n.is_power_of_two() || n > 1010 {
            let fi = transform::ifft(&slow);
            let si = naive::dft(&slow, true);
            assert_cclose(&format!("ifft n={n}"), &fi, &si, fft_tol(n, cnorm(&x), EPS));
        }
    }
}

pub fn fft_f32_matches_dft() {
    for &n in &[
        1usize, 2, 3, 5, 8, 16, 17, 31, 64, 97, 128, 255, 256, 360, 512, 1000, 1021, 1024,
    ] {
        let x = crandom(n, 77 + n as u64);
        let x32: Vec<Complex<f32>> = x
            .iter()
            .map(|z| Complex::new(z.re as f32, z.im as f32))
            .collect();
        let xw: Vec<Complex<f64>> = x32.iter().map(|z| cz(z.re as f64, z.im as f64)).collect();
        let mut y = x32.clone();
        FftPlan::new(n, FftDirection::Forward).process(&mut y);
        let yw: Vec<Complex<f64>> = y.iter().map(|z| cz(z.re as f64, z.im as f64)).collect();
        let slow = naive::dft(&xw, false);
        let tol = 8.0 * EPS32 * (log2n(n) + 1.0) * cnorm(&xw) + fft_tol(n, cnorm(&xw), EPS);
        assert_cclose(&format!("fft f32 n={n}"), &yw, &slow, tol);
    }
}

pub fn fft_roundtrip_parseval_linearity_batched() {
    for &n in &[1usize, 2, 7, 64, 100, 128, 243, 1000, 4096, 65536] {
        let x = crandom(n, 5 + n as u64);
        let nx = cnorm(&x);
        let y = transform::fft(&x);
        // Parseval: ‖X‖² = n‖x‖².
        let ny = cnorm(&y);
        assert!(
            (ny * ny - n as f64 * nx * nx).abs() <= 16.0 * EPS * log2n(n) * n as f64 * nx * nx,
            "Parseval n={n}"
        );
        let back = transform::ifft(&y);
        assert_cclose(
            &format!("roundtrip n={n}"),
            &back,
            &x,
            8.0 * EPS * log2n(n) * nx,
        );
        // Linearity: F(2x + 3iz) = 2F(x) + 3iF(z).
        let z = crandom(n, 900 + n as u64);
        let comb: Vec<_> = x
            .iter()
            .zip(&z)
            .map(|(a, b)| a * 2.0 + b * cz(0.0, 3.0))
            .collect();
        let fz = transform::fft(&z);
        let lhs = transform::fft(&comb);
        let rhs: Vec<_> = y
            .iter()
            .zip(&fz)
            .map(|(a, b)| a * 2.0 + b * cz(0.0, 3.0))
            .collect();
        let tol = 32.0 * EPS * log2n(n) * (n as f64).sqrt() * (nx + cnorm(&z));
        assert_cclose(&format!("linearity n={n}"), &lhs, &rhs, tol);
    }
    // Batched: one call on 5 rows equals 5 single calls; plans are cached and reusable.
    let n = 48;
    let x = crandom(5 * n, 3);
    let plan = FftPlan::<f64>::new(n, FftDirection::Forward);
    let mut all = x.clone();
    let mut scratch = vec![cz(0.0, 0.0); plan.scratch_len()];
    plan.process_with_scratch(&mut all, &mut scratch);
    for r in 0..5 {
        assert_eq!(
            &all[r * n..(r + 1) * n],
            &transform::fft(&x[r * n..(r + 1) * n])[..]
        );
    }
    // Length 0 is a no-op.
    assert!(transform::fft::<f64>(&[]).is_empty());
}

pub fn rfft_matches_fft_and_roundtrips() {
    let lengths: Vec<usize> = (0..=130)
        .chain([255, 256, 257, 1000, 1023, 1024, 4096])
        .collect();
    for &n in &lengths {
        let x = rrandom(n, 40 + n as u64);
        let xc: Vec<_> = x.iter().map(|&v| cz(v, 0.0)).collect();
        let full = transform::fft(&xc);
        let half = transform::rfft(&x);
        assert_eq!(half.len(), if n == 0 { 0 } else { n / 2 + 1 });
        let tol = 8.0 * EPS * (log2n(n) + 2.0) * rnorm(&x).max(1e-300) * 4.0;
        assert_cclose(&format!("rfft n={n}"), &half, &full[..half.len()], tol);
        let back = transform::irfft(&half, n);
        assert_rclose(&format!("irfft n={n}"), &back, &x, tol);
        // f32 round trip.
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let plan = RealFftPlan::<f32>::new(n);
        let b32 = plan.inverse(&plan.forward(&x32));
        let b: Vec<f64> = b32.iter().map(|&v| v as f64).collect();
        let xw: Vec<f64> = x32.iter().map(|&v| v as f64).collect();
        assert_rclose(
            &format!("irfft f32 n={n}"),
            &b,
            &xw,
            16.0 * EPS32 * (log2n(n) + 2.0) * rnorm(&xw).max(1e-30),
        );
    }
}

pub fn fft2_matches_row_column_dft() {
    for &(m, n) in &[
        (1usize, 1usize),
        (1, 7),
        (7, 1),
        (4, 4),
        (3, 5),
        (8, 6),
        (16, 33),
        (31, 17),
    ] {
        let x = crandom(m * n, (m * 100 + n) as u64);
        let mut y = x.clone();
        transform::fft2_inplace(&mut y, m, n, FftDirection::Forward);
        // Reference: DFT of rows, then of columns.
        let mut r = Vec::with_capacity(m * n);
        for i in 0..m {
            r.extend(naive::dft(&x[i * n..(i + 1) * n], false));
        }
        let mut refm = r.clone();
        for j in 0..n {
            let col: Vec<_> = (0..m).map(|i| r[i * n + j]).collect();
            for (i, v) in naive::dft(&col, false).into_iter().enumerate() {
                refm[i * n + j] = v;
            }
        }
        let tol = fft_tol(m * n, cnorm(&x), EPS) * 4.0;
        assert_cclose(&format!("fft2 {m}x{n}"), &y, &refm, tol);
        transform::fft2_inplace(&mut y, m, n, FftDirection::Inverse);
        assert_cclose(&format!("ifft2 {m}x{n}"), &y, &x, tol);
    }
}

pub fn convolution_matches_direct_sum() {
    for &(na, nb) in &[
        (0usize, 5usize),
        (1, 1),
        (3, 50),
        (33, 33),
        (40, 1),
        (100, 257),
        (1000, 999),
        (513, 64),
    ] {
        let a = rrandom(na, na as u64);
        let b = rrandom(nb, 1000 + nb as u64);
        let y = transform::convolve(&a, &b);
        if na == 0 || nb == 0 {
            assert!(y.is_empty());
            continue;
        }
        let mut r = vec![0.0; na + nb - 1];
        for i in 0..na {
            for j in 0..nb {
                r[i + j] += a[i] * b[j];
            }
        }
        let n = next_fast_len(na + nb - 1);
        assert!(n >= na + nb - 1 && n.is_multiple_of(2));
        let tol = 32.0 * EPS * log2n(n) * rnorm(&a) * rnorm(&b) * (n as f64).sqrt();
        assert_rclose(&format!("conv {na}*{nb}"), &y, &r, tol);
        // f32 against the f64 result.
        let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
        let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
        let y32: Vec<f64> = transform::convolve(&a32, &b32)
            .iter()
            .map(|&v| v as f64)
            .collect();
        let tol32 = 32.0 * EPS32 * log2n(n) * rnorm(&a) * rnorm(&b) * (n as f64).sqrt();
        assert_rclose(&format!("conv f32 {na}*{nb}"), &y32, &r, tol32);
    }
    assert_eq!(next_fast_len(1), 2);
    assert_eq!(next_fast_len(7), 8);
    assert_eq!(next_fast_len(11), 12);
    assert_eq!(next_fast_len(1001), 1024);
    assert_eq!(next_fast_len(1025), 1080);
}

// ---------- Walsh–Hadamard ----------

pub fn wht_matches_dense_matrices() {
    for p in 0..=10u32 {
        let n = 1usize << p;
        let x = rrandom(n, p as u64);
        let xa = ndarray::Array1::from(x.clone());
        for (order, dense) in [
            (WhtOrder::Natural, naive::hadamard_matrix(n)),
            (WhtOrder::Sequency, naive::walsh_matrix(n)),
        ] {
            for ortho in [false, true] {
                let params = WhtParams {
                    order,
                    orthonormal: ortho,
                };
                let mut y = x.clone();
                fwht(&mut y, &params).unwrap();
                let sc = if ortho { 1.0 / (n as f64).sqrt() } else { 1.0 };
                let r = dense.dot(&xa) * sc;
                let tol = 4.0 * EPS * (p as f64 + 1.0) * rnorm(&x) * (n as f64).sqrt() * sc;
                assert_rclose(
                    &format!("wht n={n} {order:?} ortho={ortho}"),
                    &y,
                    r.as_slice().unwrap(),
                    tol,
                );
                // f32.
                let mut y32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                fwht(&mut y32, &params).unwrap();
                let y32: Vec<f64> = y32.iter().map(|&v| v as f64).collect();
                let tol32 = 4.0 * EPS32 * (p as f64 + 1.0) * rnorm(&x) * (n as f64).sqrt() * sc;
                assert_rclose(
                    &format!("wht f32 n={n} {order:?}"),
                    &y32,
                    r.as_slice().unwrap(),
                    tol32,
                );
            }
        }
    }
}

pub fn wht_simd_kernel_equals_scalar_twin() {
    // Sizes across the 16-value register step, the in-cache block (4096 f32 / 2048 f64) and the
    // radix-8/4/2 leftovers; unaligned starts (offset 1 into the buffer).
    for p in 0..=16u32 {
        let n = 1usize << p;
        for off in [0usize, 1] {
            let base = rrandom(n + off, 10 + p as u64);
            let b32: Vec<f32> = base.iter().map(|&v| v as f32).collect();
            let mut a = b32.clone();
            let mut b = b32.clone();
            kernels::wht_f32(&mut a[off..], 0.5);
            kernels::wht_scalar::wht_f32(&mut b[off..], 0.5);
            assert_eq!(a, b, "wht f32 SIMD vs scalar n={n} off={off}");
            let mut a = base.clone();
            let mut b = base.clone();
            kernels::wht_f64(&mut a[off..], 0.25);
            kernels::wht_scalar::wht_f64(&mut b[off..], 0.25);
            assert_eq!(a, b, "wht f64 SIMD vs scalar n={n} off={off}");
        }
    }
    // And the 2^16 f64 result is right: H·H = n·I.
    let n = 1usize << 16;
    let x = rrandom(n, 1);
    let mut y = x.clone();
    kernels::wht_f64(&mut y, 1.0);
    kernels::wht_f64(&mut y, 1.0 / n as f64);
    assert_rclose("H·H/n", &y, &x, 64.0 * EPS * 16.0 * rnorm(&x));
}

pub fn wht_properties_and_errors() {
    for p in [0u32, 1, 3, 7, 12, 14] {
        let n = 1usize << p;
        let x = rrandom(n, 300 + p as u64);
        let nx = rnorm(&x);
        // H·H = n·I.
        let mut y = x.clone();
        fwht(&mut y, &WhtParams::default()).unwrap();
        fwht(&mut y, &WhtParams::default()).unwrap();
        let scaled: Vec<f64> = x.iter().map(|v| v * n as f64).collect();
        assert_rclose(
            &format!("HH=nI n={n}"),
            &y,
            &scaled,
            8.0 * EPS * (p as f64 + 1.0) * n as f64 * nx,
        );
        // Orthonormal: Parseval, self-inverse; sequency: same energies, a permutation.
        for order in [WhtOrder::Natural, WhtOrder::Sequency] {
            let params = WhtParams {
                order,
                orthonormal: true,
            };
            let mut y = x.clone();
            fwht(&mut y, &params).unwrap();
            assert!(
                (rnorm(&y) - nx).abs() <= 8.0 * EPS * (p as f64 + 1.0) * nx,
                "Parseval"
            );
            if order == WhtOrder::Natural {
                fwht(&mut y, &params).unwrap();
                assert_rclose("self-inverse", &y, &x, 8.0 * EPS * (p as f64 + 1.0) * nx);
            }
        }
    }
    // Batched rows equal single rows.
    let n = 256;
    let x = rrandom(7 * n, 4);
    let params = WhtParams {
        order: WhtOrder::Sequency,
        orthonormal: true,
    };
    let mut all = x.clone();
    fwht_rows(&mut all, n, &params).unwrap();
    for r in 0..7 {
        let mut row = x[r * n..(r + 1) * n].to_vec();
        fwht(&mut row, &params).unwrap();
        assert_eq!(&all[r * n..(r + 1) * n], &row[..]);
    }
    // Errors, not panics.
    assert!(fwht(&mut [0.0f64; 6], &WhtParams::default()).is_err());
    assert!(fwht_rows(&mut [0.0f64; 10], 4, &WhtParams::default()).is_err());
    assert!(fwht_rows(&mut [0.0f64; 12], 3, &WhtParams::default()).is_err());
    let mut e: [f32; 0] = [];
    fwht(&mut e, &WhtParams::default()).unwrap();
}

pub fn randomized_hadamard_orthogonal_and_seeded() {
    let n = 512;
    let rh = RandomizedHadamard::new(n, 42).unwrap();
    assert_eq!(rh, RandomizedHadamard::new(n, 42).unwrap());
    assert_ne!(rh, RandomizedHadamard::new(n, 43).unwrap());
    let signs = rh.signs::<f64>();
    let neg = signs.iter().filter(|&&s| s < 0.0).count();
    assert!(
        neg > n / 3 && neg < 2 * n / 3,
        "signs look random: {neg} of {n}"
    );
    let x = rrandom(3 * n, 8);
    let mut y = x.clone();
    rh.apply(&mut y).unwrap();
    // Row 0 by definition: (1/√n) H (D x).
    let dx: Vec<f64> = x[..n].iter().zip(&signs).map(|(a, s)| a * s).collect();
    let r = naive::hadamard_matrix(n).dot(&ndarray::Array1::from(dx)) / (n as f64).sqrt();
    assert_rclose("RHT row 0", &y[..n], r.as_slice().unwrap(), 1e-12);
    for row in 0..3 {
        let a = rnorm(&x[row * n..(row + 1) * n]);
        let b = rnorm(&y[row * n..(row + 1) * n]);
        assert!((a - b).abs() < 1e-12 * a, "norm kept");
    }
    rh.inverse(&mut y).unwrap();
    assert_rclose("RHT inverse", &y, &x, 1e-12);
    assert!(RandomizedHadamard::new(12, 1).is_err());
    assert!(rh.apply(&mut [0.0f64; 100]).is_err());
}

// ---------- DCT ----------

fn dct_ref(kind: DctKind, x: &[f64]) -> Vec<f64> {
    match kind {
        DctKind::Dct2 => naive::dct2(x),
        DctKind::Dct3 => naive::dct3(x),
        DctKind::Dct4 => naive::dct4(x),
    }
}

pub fn dct_matches_definition_both_backends() {
    let lengths: Vec<usize> = (1..=40)
        .chain([63, 64, 65, 100, 127, 128, 255, 256, 512, 1000, 1024])
        .collect();
    for &n in &lengths {
        let x = rrandom(n, 7 * n as u64);
        for kind in [DctKind::Dct2, DctKind::Dct3, DctKind::Dct4] {
            let r = dct_ref(kind, &x);
            for backend in [DctBackend::Fft, DctBackend::RustDct] {
                let plan = DctPlan::<f64>::with_backend(kind, n, backend);
                let mut y = x.clone();
                plan.process(&mut y).unwrap();
                let tol = 8.0 * EPS * (log2n(n) + (n as f64).sqrt()) * rnorm(&x);
                assert_rclose(&format!("{kind:?} {backend:?} n={n}"), &y, &r, tol);
                let p32 = DctPlan::<f32>::with_backend(kind, n, backend);
                let mut y32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                p32.process(&mut y32).unwrap();
                let y32: Vec<f64> = y32.iter().map(|&v| v as f64).collect();
                let tol32 = 16.0 * EPS32 * (log2n(n) + 1.0) * rnorm(&x) + tol;
                assert_rclose(&format!("{kind:?} {backend:?} f32 n={n}"), &y32, &r, tol32);
            }
        }
    }
    // Empty length and shape errors.
    let p = DctPlan::<f64>::new(DctKind::Dct2, 0);
    p.process(&mut []).unwrap();
    assert!(p.process(&mut [1.0]).is_err());
    assert!(DctPlan::<f64>::new(DctKind::Dct2, 4)
        .process(&mut [0.0; 6])
        .is_err());
}

pub fn dct_roundtrips_and_preserves_norm() {
    for &n in &[1usize, 2, 3, 8, 15, 16, 100, 1024, 4096] {
        let rows = 3;
        let x = rrandom(rows * n, 3 + n as u64);
        let nx = rnorm(&x);
        let tol = 16.0 * EPS * log2n(n) * nx;
        for backend in [DctBackend::Fft, DctBackend::RustDct] {
            let mut y = x.clone();
            DctPlan::<f64>::with_backend(DctKind::Dct2, n, backend)
                .process(&mut y)
                .unwrap();
            assert!((rnorm(&y) - nx).abs() <= tol, "DCT-II norm n={n}");
            DctPlan::<f64>::with_backend(DctKind::Dct3, n, backend)
                .process(&mut y)
                .unwrap();
            assert_rclose(&format!("III(II(x)) n={n} {backend:?}"), &y, &x, tol);
            DctPlan::<f64>::with_backend(DctKind::Dct4, n, backend)
                .process(&mut y)
                .unwrap();
            assert!((rnorm(&y) - nx).abs() <= tol, "DCT-IV norm n={n}");
            DctPlan::<f64>::with_backend(DctKind::Dct4, n, backend)
                .process(&mut y)
                .unwrap();
            assert_rclose(&format!("IV(IV(x)) n={n} {backend:?}"), &y, &x, tol);
        }
        // Batched rows agree with one row at a time; the free function too.
        let mut all = x.clone();
        transform::dct_rows(&mut all, n, DctKind::Dct2).unwrap();
        let mut row = x[n..2 * n].to_vec();
        transform::dct_rows(&mut row, n, DctKind::Dct2).unwrap();
        assert_eq!(&all[n..2 * n], &row[..]);
    }
}

// ---------- Householder ----------

fn max_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

pub fn householder_wy_matches_explicit_product() {
    let mut rng = SeededRng::new(5);
    for &(n, k) in &[
        (1usize, 1usize),
        (2, 1),
        (4, 0),
        (5, 3),
        (8, 8),
        (16, 5),
        (33, 40),
        (64, 16),
    ] {
        let vecs = rng.gaussian_matrix(k, n);
        let betas: Vec<f64> = (0..k).map(|_| 2.0 * rng.uniform()).collect();
        let h = HouseholderProduct::new(vecs.view(), &betas).unwrap();
        let q = h.to_dense();
        let r = naive::householder_product(&vecs, &betas);
        let tol = 64.0 * EPS * (k as f64 + 1.0) * (n as f64).sqrt();
        assert!(
            max_diff(&q, &r) <= tol,
            "WY vs explicit n={n} k={k}: {}",
            max_diff(&q, &r)
        );
        let (w, y) = h.wy();
        let qw = Array2::<f64>::eye(n) - w.dot(&y.t());
        assert!(max_diff(&qw, &r) <= tol, "I − WYᵀ n={n} k={k}");
        // T is upper triangular with β on the diagonal.
        for (i, &b) in betas.iter().enumerate() {
            assert_eq!(h.t()[(i, i)], b);
            for j in 0..i {
                assert_eq!(h.t()[(i, j)], 0.0);
            }
        }
        // apply / apply_transpose / apply_right on a rectangular matrix.
        let a = rng.gaussian_matrix(n, 3);
        let mut qa = a.clone();
        h.apply(qa.view_mut()).unwrap();
        assert!(max_diff(&qa, &r.dot(&a)) <= tol * 4.0);
        let mut qta = a.clone();
        h.apply_transpose(qta.view_mut()).unwrap();
        assert!(max_diff(&qta, &r.t().dot(&a)) <= tol * 4.0);
        let at = a.t().to_owned();
        let mut aq = at.clone();
        h.apply_right(aq.view_mut()).unwrap();
        assert!(max_diff(&aq, &at.dot(&r)) <= tol * 4.0);
        // β = 2 everywhere: orthogonal, and the inverse is the transpose.
        let o = HouseholderProduct::orthogonal(vecs.view())
            .unwrap()
            .to_dense();
        assert!(max_diff(&o.t().dot(&o), &Array2::eye(n)) <= tol);
    }
    // f32 agrees with f64.
    let v = SeededRng::new(9).gaussian_matrix(4, 10);
    let q64 = HouseholderProduct::orthogonal(v.view()).unwrap().to_dense();
    let q32 = HouseholderProduct::orthogonal(v.mapv(|x| x as f32).view())
        .unwrap()
        .to_dense();
    assert!(max_diff(&q32.mapv(|x| x as f64), &q64) < 1e-5);
    // Zero vector → identity factor; errors for β, shapes and NaN.
    let z = Array2::<f64>::zeros((1, 3));
    assert_eq!(
        HouseholderProduct::orthogonal(z.view()).unwrap().to_dense(),
        Array2::<f64>::eye(3)
    );
    assert!(HouseholderProduct::new(v.view(), &[1.0, 2.5, 0.0, 1.0]).is_err());
    assert!(HouseholderProduct::new(v.view(), &[1.0]).is_err());
    let mut bad = v.clone();
    bad[(1, 2)] = f64::NAN;
    assert!(HouseholderProduct::orthogonal(bad.view()).is_err());
    let h = HouseholderProduct::orthogonal(v.view()).unwrap();
    assert!(h.apply(Array2::<f64>::zeros((3, 3)).view_mut()).is_err());
}

pub fn random_orthogonal_is_orthogonal_and_seeded() {
    for &n in &[0usize, 1, 2, 5, 32, 100] {
        let q = transform::random_orthogonal::<f64>(n, 7);
        assert_eq!(q.dim(), (n, n));
        let tol = 64.0 * EPS * (n as f64 + 1.0);
        assert!(
            max_diff(&q.t().dot(&q), &Array2::eye(n)) <= tol,
            "QᵀQ n={n}"
        );
        assert_eq!(q, transform::random_orthogonal::<f64>(n, 7));
        if n > 1 {
            assert_ne!(q, transform::random_orthogonal::<f64>(n, 8));
        }
    }
    // Haar: E[Q_ij²] = 1/n; the mean over 200 draws of Q_00² (n = 8) is near 1/8 (sd ≈ 0.008).
    let n = 8;
    let m: f64 = (0..200)
        .map(|s| transform::random_orthogonal::<f64>(n, 1000 + s)[(0, 0)].powi(2))
        .sum::<f64>()
        / 200.0;
    assert!((m - 0.125).abs() < 0.04, "mean Q00² = {m}");
}

// ---------- compaction and signals ----------

fn check_curve(c: &[f64], len: usize) {
    assert_eq!(c.len(), len);
    assert!(c.windows(2).all(|w| w[0] <= w[1] + 1e-15), "non-decreasing");
    if let Some(&last) = c.last() {
        assert!((last - 1.0).abs() < 1e-12, "ends at 1: {last}");
    }
}

pub fn compaction_curves_properties() {
    // A cosine on an integer bin: two FFT coefficients hold everything.
    let n = 64;
    let x: Vec<f64> = (0..n)
        .map(|j| (2.0 * std::f64::consts::PI * 5.0 * j as f64 / n as f64).cos())
        .collect();
    let c = transform::energy_compaction_signal(&x).unwrap();
    check_curve(&c.fft, n);
    check_curve(&c.dct, n);
    check_curve(&c.wht, n);
    assert!(c.svd.is_empty());
    assert!(c.fft[1] > 1.0 - 1e-12 && c.fft[0] < 0.51);
    // A constant: one DCT coefficient; a Walsh row: one WHT coefficient.
    let c = transform::energy_compaction_signal(&[3.0; 10]).unwrap();
    assert!(c.dct[0] > 1.0 - 1e-12);
    check_curve(&c.wht, 16);
    let w = naive::walsh_matrix(32).row(9).to_vec();
    let c = transform::energy_compaction_signal(&w).unwrap();
    assert!(c.wht[0] > 1.0 - 1e-12);
    assert!(c.fft[0] < 0.9);
    // Matrix: rank 1 → SVD captures all in one; all four curves end at 1.
    let u = SeededRng::new(1).gaussian_matrix(12, 1);
    let v = SeededRng::new(2).gaussian_matrix(1, 9);
    let a = u.dot(&v);
    let c = transform::energy_compaction_matrix(a.view()).unwrap();
    check_curve(&c.fft, 108);
    check_curve(&c.dct, 108);
    check_curve(&c.wht, 16 * 16);
    check_curve(&c.svd, 9);
    assert!(c.svd[0] > 1.0 - 1e-10);
    // A smooth matrix compacts better under DCT than noise does.
    let smooth = Array2::from_shape_fn((16, 16), |(i, j)| ((i + j) as f64 / 8.0).sin());
    let noise = SeededRng::new(3).gaussian_matrix(16, 16);
    let cs = transform::energy_compaction_matrix(smooth.view()).unwrap();
    let cn = transform::energy_compaction_matrix(noise.view()).unwrap();
    assert!(cs.dct[7] > cn.dct[7]);
    // Zeros and NaN.
    let z = transform::energy_compaction_signal(&[0.0; 4]).unwrap();
    assert!(z.fft.iter().all(|&v| v == 1.0));
    assert!(transform::energy_compaction_signal(&[1.0, f64::NAN]).is_err());
    let e = transform::energy_compaction_matrix(Array2::<f64>::zeros((0, 3)).view()).unwrap();
    assert!(e.fft.is_empty() && e.svd.is_empty());
    let _ = s![..];
}

pub fn test_signals_are_deterministic() {
    let fs = 1000.0;
    let noise = transform::test_signal(&TestSignal::Noise { seed: 4 }, 256, fs).unwrap();
    assert_eq!(
        noise,
        transform::test_signal(&TestSignal::Noise { seed: 4 }, 256, fs).unwrap()
    );
    assert_ne!(
        noise,
        transform::test_signal(&TestSignal::Noise { seed: 5 }, 256, fs).unwrap()
    );
    let mean = noise.iter().sum::<f64>() / 256.0;
    assert!(mean.abs() < 0.3);
    // Square wave, 10 Hz at 1 kHz, duty 0.25: 25 samples +1 then 75 samples −1.
    let sq = transform::test_signal(
        &TestSignal::Square {
            freq: 10.0,
            duty: 0.25,
        },
        200,
        fs,
    )
    .unwrap();
    assert_eq!(sq.iter().filter(|&&v| v == 1.0).count(), 50);
    assert!(sq[..25].iter().all(|&v| v == 1.0) && sq[25..100].iter().all(|&v| v == -1.0));
    // Tones: 50 Hz at amplitude 2 over 1 s → the rFFT peaks at bin 50 with |X| = n.
    let n = 1000;
    let t = transform::test_signal(
        &TestSignal::Tones {
            freqs: vec![50.0, 120.0],
            amps: vec![2.0, 0.5],
            phases: vec![],
        },
        n,
        fs,
    )
    .unwrap();
    let spec = transform::rfft(&t);
    assert!((spec[50].norm() - n as f64).abs() < 1e-9 * n as f64);
    assert!((spec[120].norm() - 0.25 * n as f64).abs() < 1e-9 * n as f64);
    assert!(spec[80].norm() < 1e-9 * n as f64);
    // Chirp: starts at 0, stays in [−1, 1]; its energy spreads between f0 and f1.
    let ch = transform::test_signal(
        &TestSignal::Chirp {
            f0: 50.0,
            f1: 250.0,
        },
        n,
        fs,
    )
    .unwrap();
    assert_eq!(ch[0], 0.0);
    assert!(ch.iter().all(|v| v.abs() <= 1.0));
    let sp = transform::rfft(&ch);
    let inband: f64 = sp[40..=260].iter().map(|z| z.norm_sqr()).sum();
    let total: f64 = sp.iter().map(|z| z.norm_sqr()).sum();
    assert!(
        inband > 0.95 * total,
        "chirp band energy {}",
        inband / total
    );
    // Errors.
    assert!(transform::test_signal(&TestSignal::Noise { seed: 1 }, 4, 0.0).is_err());
    assert!(transform::test_signal(
        &TestSignal::Square {
            freq: 1.0,
            duty: 1.5
        },
        4,
        fs
    )
    .is_err());
    assert!(transform::test_signal(
        &TestSignal::Tones {
            freqs: vec![1.0],
            amps: vec![],
            phases: vec![]
        },
        4,
        fs
    )
    .is_err());
}

//! Shared metrics cases (run natively by `tests/linalg.rs` and as wasm32 by
//! `crate/wasm/tests/suite.rs`). Each case is a plain `pub fn`; [`for_each_metrics_case`] lists them.
//! In-memory data only (no file I/O: these also run in Node and Chromium).
//!
//! Tolerances: the metrics are computed in f64 from eigenvalues accurate to ~n·ε·λ_max, so
//! identities (primal = dual, invariances, closed forms) hold to ~1e-12 relative; 1e-10 is used.
#![allow(dead_code)]

use ndarray::{array, s, Array2, Axis};
use spectralab_core::metrics::*;
use spectralab_core::random::SeededRng;
use spectralab_core::Error;

/// Lists every metrics case; `$m!(name)` is expanded once per case.
#[macro_export]
macro_rules! for_each_metrics_case {
    ($m:ident) => {
        $m!(renyi_entropy_hand_cases);
        $m!(vendi_identical_items_is_one);
        $m!(vendi_orthogonal_items_is_n);
        $m!(vendi_monotone_in_q_and_bounded);
        $m!(vendi_permutation_invariant);
        $m!(vendi_primal_equals_dual_many_shapes);
        $m!(vendi_duplicating_every_row_changes_nothing);
        $m!(vendi_weights);
        $m!(vendi_similarity_validation);
        $m!(linear_vendi_identities);
        $m!(matrix_entropy_properties);
        $m!(mnn_bounds_and_exact_norm);
        $m!(uncomp_properties);
        $m!(dse_bounds_and_limits);
        $m!(nystrom_with_all_landmarks_is_exact);
        $m!(edge_single_row);
        $m!(edge_zero_matrix);
        $m!(edge_duplicate_rows);
        $m!(edge_non_finite_is_named_error);
        $m!(edge_empty_is_error);
        $m!(metrics_report_is_consistent);
        $m!(per_class_vendi);
        $m!(csv_tables);
    };
}

const TOL: f64 = 1e-10;

fn gaussian(n: usize, d: usize, seed: u64) -> Array2<f64> {
    SeededRng::new(seed).gaussian_matrix(n, d)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn assert_rel(what: &str, a: f64, b: f64, tol: f64) {
    assert!(
        rel(a, b) <= tol,
        "{what}: {a:.15e} vs {b:.15e} (rel {:.2e} > {tol:e})",
        rel(a, b)
    );
}

const QS: [f64; 7] = [0.0, 0.5, 1.0, 1.0 + 1e-9, 2.0, 7.5, f64::INFINITY];

fn kernels() -> [Kernel; 3] {
    [
        Kernel::Cosine,
        Kernel::Linear,
        Kernel::Rbf { bandwidth: 1.5 },
    ]
}

fn spec(x: &Array2<f64>, kernel: Kernel) -> VendiSpectrum {
    vendi_spectrum(
        x.view(),
        &VendiParams {
            kernel,
            ..Default::default()
        },
    )
    .unwrap()
}

fn is_invalid(e: Error) -> bool {
    matches!(e, Error::InvalidParameter { .. })
}

pub fn renyi_entropy_hand_cases() {
    // Uniform over k: every order gives ln k.
    let u = vec![0.25; 4];
    for q in QS {
        assert_rel(
            &format!("uniform q={q}"),
            renyi_entropy(&u, q).unwrap(),
            4f64.ln(),
            1e-14,
        );
    }
    // (0.75, 0.25, 0): H0 = ln 2, H1 = Shannon, H2 = −ln(0.625), H∞ = −ln 0.75.
    let p = [0.75, 0.25, 0.0];
    let h1 = -(0.75f64 * 0.75f64.ln() + 0.25 * 0.25f64.ln());
    assert_rel("H0", renyi_entropy(&p, 0.0).unwrap(), 2f64.ln(), 1e-15);
    assert_rel("H1", renyi_entropy(&p, 1.0).unwrap(), h1, 1e-15);
    assert_rel(
        "H2",
        renyi_entropy(&p, 2.0).unwrap(),
        -(0.625f64).ln(),
        1e-14,
    );
    assert_rel(
        "H∞",
        renyi_entropy(&p, f64::INFINITY).unwrap(),
        -(0.75f64).ln(),
        1e-15,
    );
    // Continuity through the Shannon band, and huge q (no underflow).
    for dq in [1e-3, 1e-5, 1e-7] {
        assert!((renyi_entropy(&p, 1.0 + dq).unwrap() - h1).abs() < 2.0 * dq);
        assert!((renyi_entropy(&p, 1.0 - dq).unwrap() - h1).abs() < 2.0 * dq);
    }
    assert_rel(
        "H_1e6",
        renyi_entropy(&p, 1e6).unwrap(),
        -(0.75f64).ln(),
        1e-5,
    );
    assert!(is_invalid(renyi_entropy(&p, -1.0).unwrap_err()));
    assert!(is_invalid(renyi_entropy(&p, f64::NAN).unwrap_err()));
    assert_eq!(renyi_entropy(&[], 1.0).unwrap(), 0.0);
    assert_rel("hill", hill_number(&u, 2.0).unwrap(), 4.0, 1e-14);
    // An unnormalised spectrum with negative round-off: same as the normalised one.
    let raw = [3.0, 1.0, -1e-17, 0.0];
    for q in QS {
        assert_rel(
            &format!("spectrum q={q}"),
            spectrum_entropy(&raw, q).unwrap(),
            renyi_entropy(&p, q).unwrap(),
            1e-14,
        );
    }
    assert!(matches!(
        spectrum_entropy(&[1.0, f64::NAN], 1.0).unwrap_err(),
        Error::NonFinite { row: 1, .. }
    ));
    assert!(is_invalid(spectrum_entropy(&[0.0, -1.0], 1.0).unwrap_err()));
}

pub fn vendi_identical_items_is_one() {
    let row = gaussian(1, 7, 3);
    let x = row.broadcast((25, 7)).unwrap().to_owned();
    for k in kernels() {
        let s = spec(&x, k);
        assert_eq!(s.rank(), 1, "{k:?}");
        for q in QS {
            assert_rel(&format!("{k:?} q={q}"), s.score(q).unwrap(), 1.0, 1e-12);
        }
    }
}

pub fn vendi_orthogonal_items_is_n() {
    // Rows: n orthogonal directions with different norms (cosine ignores norms), n < d and n > d
    // impossible for orthogonality, so n ≤ d; primal and dual.
    let n = 9;
    let q = spectralab_core::linalg::householder_qr(gaussian(16, n, 5).view())
        .unwrap()
        .q;
    let mut x = q.t().to_owned(); // 9 × 16, orthonormal rows
    for (i, mut r) in x.rows_mut().into_iter().enumerate() {
        r *= 1.0 + i as f64;
    }
    for path in [VendiPath::Auto, VendiPath::Primal, VendiPath::Dual] {
        let s = vendi_spectrum(
            x.view(),
            &VendiParams {
                path,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.rank(), n);
        for q in QS {
            assert_rel(
                &format!("cosine {path:?} q={q}"),
                s.score(q).unwrap(),
                n as f64,
                1e-12,
            );
        }
    }
    // Linear needs equal norms; RBF with a tiny bandwidth sees K = I for any distinct items.
    let xu = q.t().to_owned();
    let rbf = spec(&(&xu * 10.0), Kernel::Rbf { bandwidth: 0.05 });
    for q_ in QS {
        assert_rel(
            "linear",
            spec(&xu, Kernel::Linear).score(q_).unwrap(),
            n as f64,
            1e-12,
        );
        assert_rel("rbf", rbf.score(q_).unwrap(), n as f64, 1e-12);
    }
}

pub fn vendi_monotone_in_q_and_bounded() {
    let x = gaussian(40, 12, 7);
    for k in kernels() {
        let s = spec(&x, k);
        let r = s.rank() as f64;
        let mut prev = f64::INFINITY;
        let mut qs = default_q_grid();
        qs.push(f64::INFINITY);
        for q in qs {
            let v = s.score(q).unwrap();
            assert!(
                v <= prev * (1.0 + 1e-12),
                "{k:?}: not non-increasing at q={q}"
            );
            assert!(
                (1.0 - 1e-12..=r * (1.0 + 1e-12)).contains(&v),
                "{k:?} q={q}: {v} ∉ [1, {r}]"
            );
            prev = v;
        }
        assert_rel("q=0 is the rank", s.score(0.0).unwrap(), r, 1e-14);
        let prof = vendi_profile(
            x.view(),
            &VendiParams {
                kernel: k,
                ..Default::default()
            },
            &[0.0, 1.0, 2.0],
        )
        .unwrap();
        assert_rel("profile", prof[1].vendi, s.score(1.0).unwrap(), 1e-15);
    }
}

pub fn vendi_permutation_invariant() {
    let x = gaussian(30, 8, 11);
    let perm: Vec<usize> = (0..30).map(|i| (i * 7 + 3) % 30).collect();
    let xp = x.select(Axis(0), &perm);
    let w: Vec<f64> = (0..30).map(|i| 1.0 + (i % 4) as f64).collect();
    let wp: Vec<f64> = perm.iter().map(|&i| w[i]).collect();
    for k in kernels() {
        for (a, b) in [(None, None), (Some(w.clone()), Some(wp.clone()))] {
            let sa = vendi_spectrum(
                x.view(),
                &VendiParams {
                    kernel: k,
                    weights: a,
                    ..Default::default()
                },
            )
            .unwrap();
            let sb = vendi_spectrum(
                xp.view(),
                &VendiParams {
                    kernel: k,
                    weights: b,
                    ..Default::default()
                },
            )
            .unwrap();
            for q in QS {
                assert_rel(
                    &format!("{k:?} q={q}"),
                    sa.score(q).unwrap(),
                    sb.score(q).unwrap(),
                    TOL,
                );
            }
        }
    }
}

pub fn vendi_primal_equals_dual_many_shapes() {
    for (i, &(n, d)) in [
        (1, 1),
        (2, 5),
        (5, 2),
        (17, 3),
        (3, 17),
        (40, 40),
        (64, 9),
        (9, 64),
        (50, 20),
    ]
    .iter()
    .enumerate()
    {
        // Low-rank as well as full-rank inputs.
        let x = if i % 2 == 0 {
            gaussian(n, d, i as u64)
        } else {
            let r = n.min(d).div_ceil(2);
            gaussian(n, r, i as u64).dot(&gaussian(r, d, 100 + i as u64))
        };
        let w: Vec<f64> = (0..n).map(|j| 0.5 + ((j * 13) % 7) as f64).collect();
        for kernel in [Kernel::Cosine, Kernel::Linear] {
            for weights in [None, Some(w.clone())] {
                let run = |path| {
                    vendi_spectrum(
                        x.view(),
                        &VendiParams {
                            kernel,
                            weights: weights.clone(),
                            path,
                            ..Default::default()
                        },
                    )
                    .unwrap()
                };
                let (p, du, a) = (
                    run(VendiPath::Primal),
                    run(VendiPath::Dual),
                    run(VendiPath::Auto),
                );
                assert_eq!(p.path, VendiPath::Primal);
                assert_eq!(du.path, VendiPath::Dual);
                assert_eq!(
                    a.path,
                    if d <= n {
                        VendiPath::Dual
                    } else {
                        VendiPath::Primal
                    }
                );
                assert_eq!(p.rank(), du.rank(), "{n}×{d} {kernel:?} rank");
                for q in QS {
                    let what = format!("{n}×{d} {kernel:?} w={} q={q}", weights.is_some());
                    assert_rel(&what, p.score(q).unwrap(), du.score(q).unwrap(), TOL);
                    assert_rel(&what, a.score(q).unwrap(), du.score(q).unwrap(), TOL);
                }
            }
        }
    }
}

pub fn vendi_duplicating_every_row_changes_nothing() {
    // [X; X] has K₂/2n = [[K, K], [K, K]]/2n with the spectrum of K/n (plus zeros).
    let x = gaussian(15, 6, 21);
    let xx = ndarray::concatenate![Axis(0), x, x];
    for k in kernels() {
        for q in QS {
            assert_rel(
                &format!("{k:?} q={q}"),
                spec(&xx, k).score(q).unwrap(),
                spec(&x, k).score(q).unwrap(),
                TOL,
            );
        }
    }
}

pub fn vendi_weights() {
    let x = gaussian(20, 5, 31);
    let s0 = spec(&x, Kernel::Cosine);
    // Uniform weights (any scale) = unweighted.
    let s1 = vendi_spectrum(
        x.view(),
        &VendiParams {
            weights: Some(vec![3.0; 20]),
            ..Default::default()
        },
    )
    .unwrap();
    for q in QS {
        assert_rel(
            "uniform weights",
            s1.score(q).unwrap(),
            s0.score(q).unwrap(),
            TOL,
        );
    }
    // All mass on one item: Vendi 1; mass split evenly on two of the rows = Vendi of those two.
    let mut w = vec![0.0; 20];
    w[4] = 1.0;
    let s = vendi_spectrum(
        x.view(),
        &VendiParams {
            weights: Some(w.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_rel("point mass", s.score(1.0).unwrap(), 1.0, 1e-12);
    w[9] = 1.0;
    let s = vendi_spectrum(
        x.view(),
        &VendiParams {
            weights: Some(w),
            ..Default::default()
        },
    )
    .unwrap();
    let two = x.select(Axis(0), &[4, 9]);
    assert_rel(
        "two items",
        s.score(1.0).unwrap(),
        spec(&two, Kernel::Cosine).score(1.0).unwrap(),
        TOL,
    );
    // Bad weights are named errors.
    for bad in [
        vec![1.0; 19],
        vec![-1.0; 20],
        vec![0.0; 20],
        vec![f64::NAN; 20],
    ] {
        let e = vendi_spectrum(
            x.view(),
            &VendiParams {
                weights: Some(bad),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::Shape { .. } | Error::InvalidParameter { .. }),
            "{e:?}"
        );
    }
}

pub fn vendi_similarity_validation() {
    let x = gaussian(12, 4, 41);
    let s = spec(&x, Kernel::Cosine);
    let mut xn = x.clone();
    for mut r in xn.rows_mut() {
        let n = r.dot(&r).sqrt();
        r /= n;
    }
    let k = xn.dot(&xn.t());
    for q in QS {
        let (r, sp) = vendi_from_similarity(
            k.view(),
            &VendiParams {
                q,
                ..Default::default()
            },
        )
        .unwrap();
        assert_rel(&format!("K q={q}"), r.score, s.score(q).unwrap(), TOL);
        assert_eq!(sp.rank(), 4);
    }
    // f32 similarity accepted (round-off in symmetry/diagonal/PSD).
    let k32 = k.mapv(|v| v as f32);
    assert!(vendi_from_similarity(k32.view(), &VendiParams::default()).is_ok());
    let mut bad = k.clone();
    bad[(0, 1)] += 0.1;
    assert!(is_invalid(
        vendi_from_similarity(bad.view(), &VendiParams::default()).unwrap_err()
    ));
    let mut bad = k.clone();
    bad[(2, 2)] = 2.0;
    assert!(is_invalid(
        vendi_from_similarity(bad.view(), &VendiParams::default()).unwrap_err()
    ));
    let not_psd = array![[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]];
    assert!(is_invalid(
        vendi_from_similarity(not_psd.view(), &VendiParams::default()).unwrap_err()
    ));
    assert!(matches!(
        vendi_from_similarity(gaussian(3, 4, 1).view(), &VendiParams::default()).unwrap_err(),
        Error::Shape { .. }
    ));
}

pub fn linear_vendi_identities() {
    // Linear trace-normalised Vendi: q=∞ is the stable rank, q=1 the σ²-effective rank.
    let x = gaussian(30, 10, 51).dot(&ndarray::Array2::from_diag(&ndarray::Array1::from_iter(
        (1..=10).map(|k| 1.0 / k as f64),
    )));
    let s = spec(&x, Kernel::Linear);
    assert_rel(
        "q=∞ = stable rank",
        s.score(f64::INFINITY).unwrap(),
        stable_rank(x.view()).unwrap(),
        TOL,
    );
    let sv = spectralab_core::linalg::singular_values(x.view()).unwrap();
    let f2: f64 = sv.iter().map(|v| v * v).sum();
    let p: Vec<f64> = sv.iter().map(|v| v * v / f2).collect();
    assert_rel(
        "q=1 = σ² erank",
        s.score(1.0).unwrap(),
        hill_number(&p, 1.0).unwrap(),
        TOL,
    );
    // Roy–Vetterli on σ = 1/k (closed form) and scale invariance.
    let u = spectralab_core::linalg::householder_qr(gaussian(20, 8, 52).view())
        .unwrap()
        .q;
    let a = &u * &ndarray::Array1::from_iter((1..=8).map(|k| 1.0 / k as f64));
    let h8: f64 = (1..=8).map(|k| 1.0 / k as f64).sum();
    let h: f64 = (1..=8)
        .map(|k| {
            let pk = 1.0 / (k as f64 * h8);
            -pk * pk.ln()
        })
        .sum();
    assert_rel(
        "roy-vetterli 1/k",
        roy_vetterli_erank(a.view()).unwrap(),
        h.exp(),
        1e-12,
    );
    assert_rel("nuclear 1/k", nuclear_norm(a.view()).unwrap(), h8, 1e-12);
    assert_rel(
        "scale",
        roy_vetterli_erank((&a * 1e-30).view()).unwrap(),
        h.exp(),
        1e-12,
    );
}

pub fn matrix_entropy_properties() {
    let x = gaussian(50, 10, 61);
    let m = matrix_entropy(x.view()).unwrap();
    // Row scaling and an orthogonal change of features leave it unchanged.
    let mut xs = x.clone();
    for (i, mut r) in xs.rows_mut().into_iter().enumerate() {
        r *= 1.0 + i as f64;
    }
    // Row scaling changes the mean, so only scale all rows by one factor for invariance.
    let m_scaled = matrix_entropy((&x * 1e6).view()).unwrap();
    assert_rel("global scale", m_scaled.entropy, m.entropy, TOL);
    let qo = spectralab_core::linalg::householder_qr(gaussian(10, 10, 62).view())
        .unwrap()
        .q;
    let m_rot = matrix_entropy(x.dot(&qo).view()).unwrap();
    assert_rel("rotation", m_rot.entropy, m.entropy, TOL);
    assert!(m.erank >= 1.0 && m.erank <= 10.0 + 1e-9);
    assert!((0.0..=1.0).contains(&m.normalized_entropy));
    assert_rel("erank = exp H", m.erank, m.entropy.exp(), 1e-15);
    // N − 1 < d: erank ≤ N − 1 (centring removes a dimension).
    let few = gaussian(5, 20, 63);
    assert!(matrix_entropy(few.view()).unwrap().erank <= 4.0 + 1e-9);
    // f32 input agrees with f64 of the same values.
    let x32 = x.mapv(|v| v as f32);
    let m32 = matrix_entropy(x32.view()).unwrap();
    let m64 = matrix_entropy(x32.mapv(|v| v as f64).view()).unwrap();
    assert_eq!(m32.entropy, m64.entropy);
    let _ = xs;
}

pub fn mnn_bounds_and_exact_norm() {
    for (n, d, seed) in [(40, 8, 71), (100, 30, 72), (30, 30, 73)] {
        let x = gaussian(n, d, seed);
        let m = matrix_nuclear_norm(x.view()).unwrap();
        let nf = n as f64;
        assert!(m.mnn >= 1.0 / nf.sqrt() - 1e-12 && m.mnn <= (d as f64 / nf).sqrt() + 1e-12);
        // ‖A‖_* ≤ Σ column norms (all d columns counted when N ≥ d).
        assert!(m.nuclear_norm <= m.l12 * (1.0 + 1e-12));
        assert_rel("mnn = l12/N", m.mnn, m.l12 / nf, 1e-15);
    }
    // One-hot-like rows (disjoint column support): the proxy is exact.
    let mut x = Array2::<f64>::zeros((40, 4));
    for i in 0..40 {
        x[(i, i % 4)] = 1.0 + (i / 4) as f64 * 0.01;
    }
    let m = matrix_nuclear_norm(x.view()).unwrap();
    assert!(m.nuclear_norm_over_n <= m.mnn * (1.0 + 1e-12));
}

pub fn uncomp_properties() {
    let x = gaussian(60, 16, 81);
    let full = matrix_entropy(x.view()).unwrap();
    let mut prev = 0.0;
    for k in 1..=16 {
        let u = uncomp_entropy(x.view(), &UncompParams { k: Some(k) }).unwrap();
        assert!(u.normalized_entropy >= prev, "non-decreasing in k");
        assert!(u.normalized_entropy <= 1.0);
        prev = u.normalized_entropy;
    }
    // k = d is the full entropy up to the 1e-10 I shift (≤ d·1e-10·|ln 1e-10|·... ~ 1e-7).
    let u = uncomp_entropy(x.view(), &UncompParams { k: Some(100) }).unwrap();
    assert_eq!(u.k, 16);
    assert!((u.entropy - full.entropy).abs() < 1e-7);
    assert_eq!(
        uncomp_entropy(x.view(), &UncompParams::default())
            .unwrap()
            .k,
        4
    );
    assert!(is_invalid(
        uncomp_entropy(x.view(), &UncompParams { k: Some(0) }).unwrap_err()
    ));
}

pub fn dse_bounds_and_limits() {
    let x = gaussian(30, 5, 91);
    let log2n = 30f64.log2();
    for sigma in [0.3, 1.0, 10.0] {
        for t in [0.0, 1.0, 3.0] {
            let r = diffusion_spectral_entropy(
                x.view(),
                &DseParams {
                    sigma,
                    t,
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(
                r.entropy_bits > -1e-12 && r.entropy_bits <= log2n + 1e-9,
                "σ={sigma} t={t}"
            );
            assert!((r.eigenvalues[0] - 1.0).abs() < 1e-12, "λ_max = 1");
        }
    }
    // σ → 0: G = I, every |λ| = 1, DSE = log₂ n. Constant rows: λ = (1, 0, …), DSE ≈ 0.
    let tiny = diffusion_spectral_entropy(
        (&x * 1e3).view(),
        &DseParams {
            sigma: 1e-3,
            ..Default::default()
        },
    )
    .unwrap();
    assert!((tiny.entropy_bits - log2n).abs() < 1e-9);
    let same = Array2::<f64>::ones((30, 5));
    let z = diffusion_spectral_entropy(same.view(), &DseParams::default()).unwrap();
    assert!(z.entropy_bits.abs() < 1e-10, "{}", z.entropy_bits);
    // Subsampling caps n.
    let r = diffusion_spectral_entropy(
        x.view(),
        &DseParams {
            max_n: 10,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.n_used, 10);
    assert!(is_invalid(
        diffusion_spectral_entropy(
            x.view(),
            &DseParams {
                sigma: 0.0,
                ..Default::default()
            }
        )
        .unwrap_err()
    ));
}

pub fn nystrom_with_all_landmarks_is_exact() {
    let x = gaussian(40, 6, 101);
    let p = VendiParams {
        kernel: Kernel::Rbf { bandwidth: 2.0 },
        ..Default::default()
    };
    let exact = vendi_spectrum(x.view(), &p).unwrap();
    let a = nystrom_vendi(
        x.view(),
        &p,
        &NystromParams {
            landmarks: 40,
            seed: 3,
        },
    )
    .unwrap();
    assert_eq!(a.landmarks, 40);
    for q in [1.0, 2.0, f64::INFINITY] {
        assert_rel(
            &format!("q={q}"),
            a.spectrum.score(q).unwrap(),
            exact.score(q).unwrap(),
            1e-8,
        );
    }
    let cos = VendiParams::default();
    assert!(is_invalid(
        nystrom_vendi(x.view(), &cos, &NystromParams::default()).unwrap_err()
    ));
}

pub fn edge_single_row() {
    let x = array![[0.3f32, -1.0, 2.0]];
    for k in kernels() {
        for q in QS {
            let r = vendi_score(
                x.view(),
                &VendiParams {
                    q,
                    kernel: k,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(r.score, 1.0, "{k:?} q={q}");
        }
    }
    assert!(is_invalid(matrix_entropy(x.view()).unwrap_err()));
    assert!(is_invalid(matrix_nuclear_norm(x.view()).unwrap_err()));
    assert!(is_invalid(
        uncomp_entropy(x.view(), &UncompParams::default()).unwrap_err()
    ));
    assert_rel("erank", roy_vetterli_erank(x.view()).unwrap(), 1.0, 1e-15);
    assert_rel("stable rank", stable_rank(x.view()).unwrap(), 1.0, 1e-15);
    let dse = diffusion_spectral_entropy(x.view(), &DseParams::default()).unwrap();
    assert!(dse.entropy_bits.abs() < 1e-15);
    let rep = metrics_report(x.view(), &MetricsParams::default()).unwrap();
    assert_eq!(rep.vendi_cosine.as_ref().unwrap().q1, 1.0);
    assert!(rep.matrix_entropy.is_none() && rep.mnn.is_none() && rep.uncomp.is_none());
    assert!(
        rep.notes.iter().any(|n| n.contains("centred")),
        "{:?}",
        rep.notes
    );
}

pub fn edge_zero_matrix() {
    let x = Array2::<f32>::zeros((10, 4));
    for k in [Kernel::Cosine, Kernel::Linear] {
        let e = vendi_score(
            x.view(),
            &VendiParams {
                kernel: k,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(is_invalid(e), "{k:?}");
    }
    // RBF: all items at one point are one item.
    let r = vendi_score(
        x.view(),
        &VendiParams {
            kernel: Kernel::Rbf { bandwidth: 1.0 },
            ..Default::default()
        },
    )
    .unwrap();
    assert_rel("rbf zero", r.score, 1.0, 1e-12);
    assert!(is_invalid(roy_vetterli_erank(x.view()).unwrap_err()));
    assert!(is_invalid(stable_rank(x.view()).unwrap_err()));
    assert!(is_invalid(matrix_entropy(x.view()).unwrap_err()));
    assert_eq!(nuclear_norm(x.view()).unwrap(), 0.0);
    // A single zero row is enough to make the cosine kernel undefined.
    let mut y = gaussian(6, 3, 1).mapv(|v| v as f32);
    y.row_mut(2).fill(0.0);
    let e = vendi_score(y.view(), &VendiParams::default()).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { reason, .. } if reason.contains("row 2")),
        "{e:?}"
    );
    let rep = metrics_report(x.view(), &MetricsParams::default()).unwrap();
    assert!(rep.vendi_cosine.is_none() && rep.vendi_linear.is_none() && rep.spectrum.is_empty());
    assert!(rep.roy_vetterli_erank.is_none() && rep.stable_rank.is_none());
    assert_eq!(rep.nuclear_norm, 0.0);
    assert!(rep.dse_bits.unwrap().abs() < 1e-10);
    assert!(rep.notes.len() >= 4, "{:?}", rep.notes);
}

pub fn edge_duplicate_rows() {
    // Two distinct rows, each repeated: cosine/linear rank 2 and q=0 exactly 2 (thresholded).
    let a = gaussian(2, 5, 111);
    let x = ndarray::concatenate![Axis(0), a, a, a, a, a];
    for k in kernels() {
        let s = spec(&x, k);
        assert_eq!(s.rank(), 2, "{k:?}");
        assert_eq!(s.score(0.0).unwrap(), 2.0);
        assert_rel(
            &format!("{k:?} = Vendi of the 2 distinct rows"),
            s.score(1.0).unwrap(),
            spec(&a, k).score(1.0).unwrap(),
            TOL,
        );
    }
    // Identical rows: centring is degenerate (a named error, not the anchor's round-off value).
    let same = a.slice(s![0..1, ..]).broadcast((8, 5)).unwrap().to_owned();
    let e = matrix_entropy(same.view()).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { reason, .. } if reason.contains("mean")),
        "{e:?}"
    );
}

pub fn edge_non_finite_is_named_error() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut x = gaussian(6, 4, 121).mapv(|v| v as f32);
        x[(3, 2)] = bad;
        let named = |e: Error| matches!(e, Error::NonFinite { row: 3, col: 2, .. });
        for k in kernels() {
            assert!(named(
                vendi_score(
                    x.view(),
                    &VendiParams {
                        kernel: k,
                        ..Default::default()
                    }
                )
                .unwrap_err()
            ));
        }
        assert!(named(matrix_entropy(x.view()).unwrap_err()));
        assert!(named(
            uncomp_entropy(x.view(), &UncompParams::default()).unwrap_err()
        ));
        assert!(named(matrix_nuclear_norm(x.view()).unwrap_err()));
        assert!(named(nuclear_norm(x.view()).unwrap_err()));
        assert!(named(roy_vetterli_erank(x.view()).unwrap_err()));
        assert!(named(stable_rank(x.view()).unwrap_err()));
        assert!(named(
            diffusion_spectral_entropy(x.view(), &DseParams::default()).unwrap_err()
        ));
        assert!(named(
            metrics_report(x.view(), &MetricsParams::default()).unwrap_err()
        ));
        assert!(named(
            vendi_per_class(x.view(), &[0; 6], &VendiParams::default()).unwrap_err()
        ));
        let p = VendiParams {
            kernel: Kernel::Rbf { bandwidth: 1.0 },
            ..Default::default()
        };
        assert!(named(
            nystrom_vendi(x.view(), &p, &NystromParams::default()).unwrap_err()
        ));
    }
    // Extreme but finite scales give the same answers as unit scale.
    let y = gaussian(8, 3, 123);
    for scale in [1e-300, 1e-30, 1e30, 1e300] {
        let ys = &y * scale;
        for k in [Kernel::Cosine, Kernel::Linear] {
            for q in QS {
                assert_rel(
                    &format!("{k:?} scale {scale:e} q={q}"),
                    spec(&ys, k).score(q).unwrap(),
                    spec(&y, k).score(q).unwrap(),
                    1e-10,
                );
            }
        }
        assert_rel(
            &format!("erank scale {scale:e}"),
            matrix_entropy(ys.view()).unwrap().erank,
            matrix_entropy(y.view()).unwrap().erank,
            1e-10,
        );
    }
    // Bad orders and bandwidths.
    let x = gaussian(6, 4, 122);
    for q in [-0.5, f64::NAN] {
        assert!(is_invalid(
            vendi_score(
                x.view(),
                &VendiParams {
                    q,
                    ..Default::default()
                }
            )
            .unwrap_err()
        ));
    }
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let p = VendiParams {
            kernel: Kernel::Rbf { bandwidth: h },
            ..Default::default()
        };
        assert!(is_invalid(vendi_score(x.view(), &p).unwrap_err()));
    }
}

pub fn edge_empty_is_error() {
    for (n, d) in [(0, 4), (4, 0), (0, 0)] {
        let x = Array2::<f32>::zeros((n, d));
        let empty = |e: Error| matches!(e, Error::Empty { .. });
        assert!(empty(
            vendi_score(x.view(), &VendiParams::default()).unwrap_err()
        ));
        assert!(empty(matrix_entropy(x.view()).unwrap_err()));
        assert!(empty(matrix_nuclear_norm(x.view()).unwrap_err()));
        assert!(empty(roy_vetterli_erank(x.view()).unwrap_err()));
        assert!(empty(
            diffusion_spectral_entropy(x.view(), &DseParams::default()).unwrap_err()
        ));
        assert!(empty(
            metrics_report(x.view(), &MetricsParams::default()).unwrap_err()
        ));
    }
    assert!(matches!(
        vendi_from_similarity(Array2::<f64>::zeros((0, 0)).view(), &VendiParams::default())
            .unwrap_err(),
        Error::Empty { .. }
    ));
}

pub fn metrics_report_is_consistent() {
    let x = gaussian(80, 12, 131).mapv(|v| v as f32);
    let p = MetricsParams {
        rbf_bandwidth: Some(3.0),
        ..Default::default()
    };
    let r = metrics_report(x.view(), &p).unwrap();
    assert_eq!((r.n, r.d), (80, 12));
    assert_eq!(r.vendi_path, VendiPath::Dual);
    assert_eq!(r.spectrum.len(), 12);
    assert!(r.spectrum.windows(2).all(|w| w[0] >= w[1]), "descending");
    assert_rel("unit trace", r.spectrum.iter().sum::<f64>(), 1.0, 1e-12);
    let vc = r.vendi_cosine.as_ref().unwrap();
    let one = vendi_score(x.view(), &VendiParams::default()).unwrap();
    assert_rel("q1", vc.q1, one.score, 1e-15);
    assert!(vc.q0 >= vc.q_half && vc.q_half >= vc.q1 && vc.q1 >= vc.q2 && vc.q2 >= vc.q_inf);
    assert_eq!(r.q_profile.len(), default_q_grid().len());
    assert_rel(
        "rbf q2",
        r.vendi_rbf.as_ref().unwrap().q2,
        vendi_score(
            x.view(),
            &VendiParams {
                q: 2.0,
                kernel: Kernel::Rbf { bandwidth: 3.0 },
                ..Default::default()
            },
        )
        .unwrap()
        .score,
        1e-15,
    );
    assert_eq!(r.rbf_method.as_deref(), Some("exact"));
    assert_rel(
        "erank",
        r.matrix_entropy.as_ref().unwrap().erank,
        matrix_entropy(x.view()).unwrap().erank,
        1e-15,
    );
    assert_rel(
        "roy-vetterli",
        r.roy_vetterli_erank.unwrap(),
        roy_vetterli_erank(x.view()).unwrap(),
        1e-12,
    );
    assert_rel(
        "uncomp",
        r.uncomp.as_ref().unwrap().normalized_entropy,
        uncomp_entropy(x.view(), &UncompParams::default())
            .unwrap()
            .normalized_entropy,
        1e-15,
    );
    assert!(r.dse_bits.is_some() && r.notes.is_empty(), "{:?}", r.notes);
    // Above rbf_exact_max_n the RBF row switches to Nyström, and says so.
    let r2 = metrics_report(
        x.view(),
        &MetricsParams {
            rbf_exact_max_n: 50,
            nystrom: NystromParams {
                landmarks: 80,
                seed: 0,
            },
            ..p
        },
    )
    .unwrap();
    assert_eq!(r2.rbf_method.as_deref(), Some("nystrom"));
    assert_rel(
        "nystrom m = n",
        r2.vendi_rbf.unwrap().q1,
        r.vendi_rbf.unwrap().q1,
        1e-8,
    );
    assert!(r2.notes.iter().any(|n| n.contains("Nyström")));
    // Infinite profile orders are rejected (the profile is finite; q=∞ is in VendiOrders).
    let bad = MetricsParams {
        q_profile: vec![1.0, f64::INFINITY],
        ..Default::default()
    };
    assert!(is_invalid(metrics_report(x.view(), &bad).unwrap_err()));
}

pub fn per_class_vendi() {
    // Class 0: 10 copies of one point (Vendi 1); class 1: 6 orthogonal directions (Vendi 6).
    let mut x = Array2::<f64>::zeros((16, 8));
    let mut labels = vec![0i64; 16];
    for i in 0..10 {
        x[(i, 7)] = 1.0 + i as f64;
    }
    for j in 0..6 {
        x[(10 + j, j)] = 1.0;
        labels[10 + j] = 1;
    }
    let r = vendi_per_class(x.view(), &labels, &VendiParams::default()).unwrap();
    assert_eq!(r.classes.len(), 2);
    assert_eq!((r.classes[0].label, r.classes[0].count), (0, 10));
    assert_rel("class 0", r.classes[0].score, 1.0, 1e-12);
    assert_rel("class 1", r.classes[1].score, 6.0, 1e-12);
    assert!(r.all.score > r.classes[0].score);
    assert!(matches!(
        vendi_per_class(x.view(), &labels[..5], &VendiParams::default()).unwrap_err(),
        Error::Shape { .. }
    ));
}

pub fn csv_tables() {
    let t = parse_table("a,b,c\n1,2,3\n\n# comment\n4,5.5,-6e-1\n").unwrap();
    assert_eq!(
        t.header.as_deref(),
        Some(&["a".to_string(), "b".into(), "c".into()][..])
    );
    assert_eq!(t.data, array![[1.0, 2.0, 3.0], [4.0, 5.5, -0.6]]);
    let t = parse_table("1\t2\r\n3\t4\r\n").unwrap();
    assert!(t.header.is_none());
    assert_eq!(t.data, array![[1.0, 2.0], [3.0, 4.0]]);
    let t = parse_table("\"x\";\"y\"\n1;2\n").unwrap();
    assert_eq!(t.data, array![[1.0, 2.0]]);
    let t = parse_table("1 2 3\n4 5 6\n").unwrap();
    assert_eq!(t.data.dim(), (2, 3));
    assert!(
        matches!(parse_table("1,2\n3\n").unwrap_err(), Error::Format { what } if what.contains("line 2"))
    );
    assert!(matches!(
        parse_table("1,2\n3,x\n").unwrap_err(),
        Error::Format { .. }
    ));
    assert!(matches!(
        parse_table("a,b\n").unwrap_err(),
        Error::Empty { .. }
    ));
    assert!(matches!(parse_table("").unwrap_err(), Error::Empty { .. }));
    // NaN parses, then the metrics name it.
    let t = parse_table("1,nan\n2,3\n").unwrap();
    assert!(matches!(
        vendi_score(t.data.view(), &VendiParams::default()).unwrap_err(),
        Error::NonFinite { row: 0, col: 1, .. }
    ));
    // Labels from an in-memory .npy (int32, as numpy writes digits-labels.npy).
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let mut header = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
    npy.extend_from_slice(header.as_bytes());
    for v in [7i32, -2, 0] {
        npy.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(read_labels(&npy, "l.npy").unwrap(), vec![7, -2, 0]);
}

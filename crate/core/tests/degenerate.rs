//! Degenerate layers keep WeightWatcher's numbers but get `degenerate:*` warning tags; layers
//! that cannot be analysed are error rows whose measured CSV cells are empty.

use spectralab_core::random::SeededRng;
use spectralab_core::session::{AnalyzeOptions, ModelSession};
use spectralab_core::spectrum::analyze::{to_csv, LayerReport, ModelReport};

fn analyse(rows: usize, cols: usize, data: &[f32]) -> ModelReport {
    let mut s =
        ModelSession::from_matrix("w", rows, cols, data, AnalyzeOptions::default()).expect("opens");
    s.analyze_all(1, |_, _, _, _, _| true)
}

fn only(r: &ModelReport) -> &LayerReport {
    assert_eq!(r.layers.len(), 1, "{:?}", r.skipped);
    &r.layers[0]
}

fn tags(l: &LayerReport) -> Vec<&str> {
    l.warning.split(';').filter(|t| !t.is_empty()).collect()
}

#[test]
fn identity_matrix_alpha_inf_is_flagged() {
    let n = 64;
    let mut data = vec![0f32; n * n];
    for i in 0..n {
        data[i * n + i] = 1.0;
    }
    let r = analyse(n, n, &data);
    let l = only(&r);
    assert_eq!(l.status, "success", "{:?}", l.reason);
    // WW's number is kept; the tag says not to trust it.
    assert!(
        l.alpha.is_some_and(|a| a.is_infinite()),
        "α = {:?}",
        l.alpha
    );
    assert!(tags(l).contains(&"degenerate:alpha-inf"), "{}", l.warning);
    // WW's own warning stays first.
    assert!(l.warning.starts_with("under-trained;"), "{}", l.warning);
}

#[test]
fn rank_one_matrix_entropy_out_of_range_is_flagged() {
    let (n, m) = (64, 48);
    // Exactly rank 1 (every entry 1): WW's entropy divides by ln(1 + 1e-10).
    let data = vec![1f32; n * m];
    let r = analyse(n, m, &data);
    let l = only(&r);
    assert!(
        !(0.0..=1.0).contains(&l.entropy),
        "entropy {} (WW's formula on rank 1)",
        l.entropy
    );
    assert!(
        tags(l).contains(&"degenerate:entropy-range"),
        "{}",
        l.warning
    );
}

#[test]
fn healthy_random_layer_has_no_degenerate_tag() {
    let (n, m) = (300, 200);
    let w = SeededRng::new(7).gaussian_matrix_f32(n, m);
    let data: Vec<f32> = w.iter().copied().collect();
    let r = analyse(n, m, &data);
    let l = only(&r);
    assert_eq!(l.status, "success");
    assert!(!l.warning.contains("degenerate"), "{}", l.warning);
}

#[test]
fn nan_weight_is_an_error_row_with_empty_numeric_cells() {
    let (n, m) = (64, 48);
    let mut data: Vec<f32> = SeededRng::new(3)
        .gaussian_matrix_f32(n, m)
        .iter()
        .copied()
        .collect();
    data[5] = f32::NAN;
    let r = analyse(n, m, &data);
    let l = only(&r);
    assert_eq!(l.status, "error", "{l:?}");
    let csv = to_csv(&r);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cell = |c: &str| row[header.iter().position(|h| *h == c).unwrap()];
    assert_eq!(cell("status"), "error");
    assert_eq!(cell("N"), "64");
    assert_eq!(cell("M"), "48");
    assert!(!cell("reason").is_empty());
    for c in [
        "alpha",
        "num_evals",
        "sv_max",
        "lambda_max",
        "norm",
        "log_norm",
        "stable_rank",
        "matrix_rank",
        "entropy",
        "rank_loss",
    ] {
        assert_eq!(cell(c), "", "{c} of an error row must be empty");
    }
}

/// A 1100×1024 slice with a near-duplicate column: its smallest singular value (≈ 1e-6·σ_max)
/// is below the exact Gram's noise floor, so the ESD comes from the two-stage SVD (smaller side
/// ≥ 1000). Its σ_min must match faer's SVD of the same f64 matrix.
#[test]
fn ill_conditioned_large_slice_takes_the_two_stage_svd() {
    use spectralab_core::linalg::{singular_values, GramParams};
    use spectralab_core::spectrum::layers::slice_esd;
    let (rows, cols) = (1100, 1024);
    let mut rng = SeededRng::new(41);
    let mut w = ndarray::Array2::<f32>::from_shape_fn((rows, cols), |_| rng.normal() as f32);
    for i in 0..rows {
        w[(i, cols - 1)] = w[(i, 0)] + 1e-6 * rng.normal() as f32;
    }
    let ev = slice_esd(w.view(), &GramParams { parallel: false }, true).unwrap();
    let sv = singular_values(w.mapv(f64::from).view()).unwrap(); // descending
    assert_eq!(ev.len(), cols);
    let (smin, smax) = (sv[cols - 1], sv[0]);
    assert!(
        smin < 1e-5 * smax,
        "the test matrix must be below the floor: {smin} vs {smax}"
    );
    assert!(
        (ev[0].sqrt() - smin).abs() < 1e-6 * smin,
        "σ_min {} vs faer {smin}",
        ev[0].sqrt()
    );
    for (k, l) in ev.iter().enumerate() {
        let want = sv[cols - 1 - k] * sv[cols - 1 - k];
        assert!(
            (l - want).abs() < 1e-12 * smax * smax,
            "λ_{k}: {l} vs {want}"
        );
    }
}

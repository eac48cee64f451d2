//! `compare`: closed-form intruder cases, properties (self-comparison, rotations, scaling,
//! adapter = merged checkpoint), the numpy golden of `tests/goldens/compare/`, MiniLM F32 vs
//! its F16 encoder, and bad inputs.

use ndarray::Array2;
use spectralab_core::compare::{
    compare_adapter, compare_low_rank, compare_matrices, compare_sessions, compare_sessions_with,
    low_rank_singular_values, CompareParams, CompareReport, LayerComparison, LoraAdapter,
};
use spectralab_core::formats::ByteSource;
use spectralab_core::linalg::{householder_qr, singular_values};
use spectralab_core::random::SeededRng;
use spectralab_core::session::model::safetensors_bytes;
use spectralab_core::session::{AnalyzeOptions, ModelSession};
use std::path::{Path, PathBuf};

fn goldens() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/goldens/compare")
}

fn open_file(path: &Path) -> ModelSession {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ModelSession::open(
        vec![(
            path.display().to_string(),
            Box::new(bytes) as Box<dyn ByteSource>,
        )],
        AnalyzeOptions::default(),
    )
    .unwrap()
}

fn session(tensors: &[(&str, &[usize], &[f32])]) -> ModelSession {
    let bytes = safetensors_bytes(tensors);
    ModelSession::open(
        vec![(
            "m.safetensors".into(),
            Box::new(bytes) as Box<dyn ByteSource>,
        )],
        AnalyzeOptions::default(),
    )
    .unwrap()
}

fn adapter(
    config: &str,
    tensors: &[(&str, &[usize], &[f32])],
) -> spectralab_core::Result<LoraAdapter> {
    let mut files: Vec<(String, Box<dyn ByteSource>)> = vec![(
        "adapter/adapter_model.safetensors".into(),
        Box::new(safetensors_bytes(tensors)),
    )];
    if !config.is_empty() {
        files.push((
            "adapter/adapter_config.json".into(),
            Box::new(config.as_bytes().to_vec()),
        ));
    }
    LoraAdapter::open(files)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_infinite() && a == b) || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

/// Asserts every numeric column of two rows agrees to `tol` (relative, floor 1).
fn assert_rows_close(a: &LayerComparison, b: &LayerComparison, tol: f64) {
    let f = |l: &LayerComparison| {
        vec![
            ("base_fro", l.base_fro),
            ("delta_fro", l.delta_fro),
            ("delta_rel_fro", l.delta_rel_fro),
            ("delta_spectral_norm", l.delta_spectral_norm),
            ("delta_spectral_rel", l.delta_spectral_rel),
            ("delta_stable_rank", l.delta_stable_rank),
            ("delta_erank", l.delta_erank),
            ("overlap_left", l.overlap_left),
            ("overlap_right", l.overlap_right),
            ("chance_level", l.chance_level),
            ("sqnr_db", l.sqnr_db),
            ("alpha_base", l.alpha_base.unwrap_or(-1.0)),
            ("alpha_other", l.alpha_other.unwrap_or(-1.0)),
            ("farms_alpha_base", l.farms_alpha_base.unwrap_or(-1.0)),
            ("farms_alpha_other", l.farms_alpha_other.unwrap_or(-1.0)),
        ]
    };
    for ((n, x), (_, y)) in f(a).into_iter().zip(f(b)) {
        assert!(close(x, y, tol), "{}: {n} {x} vs {y}", a.name);
    }
    assert_eq!(a.intruders, b.intruders, "{}", a.name);
    assert_eq!(a.intruders_right, b.intruders_right, "{}", a.name);
    assert_eq!(a.intruder_sweep, b.intruder_sweep, "{}", a.name);
    for (x, y) in a.intruder_sims.iter().zip(&b.intruder_sims) {
        assert!(close(*x, *y, tol), "{}: c {x} vs {y}", a.name);
    }
    for (x, y) in a.intruder_sims_right.iter().zip(&b.intruder_sims_right) {
        assert!(close(*x, *y, tol), "{}: c_right {x} vs {y}", a.name);
    }
}

// ---------------------------------------------------------------- closed form (notes §5.4)

fn w0() -> Array2<f64> {
    let mut w = Array2::zeros((6, 4));
    for (i, v) in [4.0, 3.0, 2.0, 1.0].into_iter().enumerate() {
        w[(i, i)] = v;
    }
    w
}

/// LoRA r = 1, s = 2: B = (λ/2)e₅ (6×1), A = e₄ᵀ (1×4), ΔW = λ·e₅e₄ᵀ.
fn factors(lambda: f64) -> (Array2<f64>, Array2<f64>) {
    let mut b = Array2::zeros((6, 1));
    b[(4, 0)] = lambda / 2.0;
    let mut a = Array2::zeros((1, 4));
    a[(0, 3)] = 1.0;
    (b, a)
}

fn both_paths(lambda: f64, p: &CompareParams) -> (LayerComparison, LayerComparison) {
    let (b, a) = factors(lambda);
    let w = w0();
    let w1 = &w + &(b.dot(&a) * 2.0);
    let dense = compare_matrices(w.view(), w1.view(), p).unwrap();
    let low = compare_low_rank(w.view(), b.view(), a.view(), 2.0, p).unwrap();
    (dense, low)
}

#[test]
fn closed_form_lambda_10_top_vector_is_an_intruder() {
    let with_eps = |eps: f64| CompareParams {
        eps,
        ..Default::default()
    };
    let c = 1.0 / 101f64.sqrt(); // 0.0995
    for eps in [0.1, 0.5, 0.95] {
        let (d, l) = both_paths(10.0, &with_eps(eps));
        for r in [&d, &l] {
            assert_eq!(r.intruders, 1, "ε = {eps}");
            assert_eq!(r.intruders_right, 0, "ε = {eps}");
            assert!(
                (r.intruder_sims[0] - c).abs() < 1e-12,
                "{:?}",
                r.intruder_sims
            );
            assert!(r.intruder_sims[1..]
                .iter()
                .all(|&x| (x - 1.0).abs() < 1e-12));
            assert_eq!(r.intruder_sims.len(), 4); // k = 10 clipped to min(m, n)
            assert!((r.delta_spectral_norm - 10.0).abs() < 1e-12);
            assert!((r.delta_stable_rank - 1.0).abs() < 1e-12);
            assert!((r.delta_erank - 1.0).abs() < 1e-12);
            assert!((r.delta_spectral_rel - 2.5).abs() < 1e-12);
            assert!((r.sqnr_db - 10.0 * (30.0f64 / 100.0).log10()).abs() < 1e-12);
            assert!((r.chance_level - (2.0 * 6f64.ln() / 6.0).sqrt()).abs() < 1e-15);
            assert_eq!(r.intruder_sweep, vec![1; 9]);
            // Heatmap: W₁'s top vector (e₄ + 10e₅)/√101 meets only the base's 4th vector e₄;
            // W₁'s next vectors are e₁, e₂, e₃ exactly.
            let want = [
                [0.0, 0.0, 0.0, c],
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
            ];
            assert_eq!(r.overlap_matrix.len(), 4);
            for (row, w) in r.overlap_matrix.iter().zip(want) {
                for (x, y) in row.iter().zip(w) {
                    assert!((x - y).abs() < 1e-12, "{:?}", r.overlap_matrix);
                }
            }
            for (e, w) in r.evals_base.iter().zip([16.0, 9.0, 4.0, 1.0]) {
                assert!((e - w).abs() < 1e-12, "{:?}", r.evals_base);
            }
            for (e, w) in r.evals_other.iter().zip([101.0, 16.0, 9.0, 4.0]) {
                assert!((e - w).abs() < 1e-12, "{:?}", r.evals_other);
            }
        }
        assert_rows_close(&d, &l, 1e-12);
    }
    let (d, _) = both_paths(10.0, &with_eps(0.05));
    assert_eq!((d.intruders, d.intruders_right), (0, 0));
}

#[test]
fn closed_form_lambda_half_intruder_sits_at_rank_4() {
    let p = |eps: f64, k: usize| CompareParams {
        eps,
        k,
        ..Default::default()
    };
    let (d, l) = both_paths(0.5, &p(0.5, 10));
    for r in [&d, &l] {
        assert_eq!((r.intruders, r.intruders_right), (0, 0));
        let want = [1.0, 1.0, 1.0, 1.0 / 1.25f64.sqrt()];
        for (x, w) in r.intruder_sims.iter().zip(want) {
            assert!((x - w).abs() < 1e-12, "{:?}", r.intruder_sims);
        }
        assert_eq!(r.intruder_sweep, vec![0, 0, 0, 0, 0, 0, 0, 0, 1]);
    }
    let (d, l) = both_paths(0.5, &p(0.9, 10));
    assert_eq!((d.intruders, l.intruders, d.intruders_right), (1, 1, 0));
    // k = 3 does not see the rank-4 vector.
    let (d, l) = both_paths(0.5, &p(0.9, 3));
    assert_eq!((d.intruders, l.intruders), (0, 0));
}

#[test]
fn scaled_and_negated_base_has_no_intruders() {
    let p = CompareParams {
        eps: 0.99,
        ..Default::default()
    };
    let w = w0();
    for f in [1.0, 3.0, -1.0] {
        let r = compare_matrices(w.view(), (&w * f).view(), &p).unwrap();
        assert_eq!((r.intruders, r.intruders_right), (0, 0), "×{f}");
        assert!((r.overlap_left - 1.0).abs() < 1e-12 && (r.overlap_right - 1.0).abs() < 1e-12);
    }
}

#[test]
fn low_rank_core_matches_dense_svd_and_scales_linearly() {
    let mut rng = SeededRng::new(7);
    let b = rng.gaussian_matrix(40, 4);
    let a = rng.gaussian_matrix(4, 25);
    let dense = singular_values((b.dot(&a) * 1.5).view()).unwrap();
    let core = low_rank_singular_values(b.view(), a.view(), 1.5).unwrap();
    assert_eq!(core.len(), 4);
    for (x, y) in core.iter().zip(dense.iter()) {
        assert!((x - y).abs() < 1e-12 * dense[0], "{x} vs {y}");
    }
    // s ×2 → σ(ΔW) ×2; stable and effective ranks unchanged.
    let w = rng.gaussian_matrix(40, 25);
    let p = CompareParams::default();
    let r1 = compare_low_rank(w.view(), b.view(), a.view(), 0.1, &p).unwrap();
    let r2 = compare_low_rank(w.view(), b.view(), a.view(), 0.2, &p).unwrap();
    assert!((r2.delta_spectral_norm - 2.0 * r1.delta_spectral_norm).abs() < 1e-12);
    assert!((r2.delta_fro - 2.0 * r1.delta_fro).abs() < 1e-12);
    assert!((r2.delta_stable_rank - r1.delta_stable_rank).abs() < 1e-12);
    assert!((r2.delta_erank - r1.delta_erank).abs() < 1e-12);
    // r = 4, α = 8: α/r = 2 and α/√r = 4 (rsLoRA) — the ΔW spectrum doubles.
    let cfg =
        |rs: bool| format!(r#"{{"peft_type":"LORA","r":4,"lora_alpha":8,"use_rslora":{rs}}}"#);
    let base = session(&[(
        "l.weight",
        &[40, 25],
        &w.mapv(|v| v as f32).into_raw_vec_and_offset().0,
    )]);
    let af: Vec<f32> = a.iter().map(|&v| v as f32).collect();
    let bf: Vec<f32> = b.iter().map(|&v| v as f32).collect();
    let mk = |rs: bool| {
        adapter(
            &cfg(rs),
            &[
                ("base_model.model.l.lora_A.weight", &[4, 25], &af),
                ("base_model.model.l.lora_B.weight", &[40, 4], &bf),
            ],
        )
        .unwrap()
    };
    let plain = compare_adapter(&base, &mk(false), &p).unwrap();
    let rs = compare_adapter(&base, &mk(true), &p).unwrap();
    assert_eq!(plain.layers[0].lora_scale, Some(2.0));
    assert_eq!(rs.layers[0].lora_scale, Some(4.0));
    assert!(
        (rs.layers[0].delta_spectral_norm - 2.0 * plain.layers[0].delta_spectral_norm).abs()
            < 1e-9 * plain.layers[0].delta_spectral_norm
    );
}

// ---------------------------------------------------------------- properties

#[test]
fn self_comparison_is_zero_with_no_intruders() {
    let mut rng = SeededRng::new(3);
    let a = rng.gaussian_matrix_f32(30, 20).into_raw_vec_and_offset().0;
    let b = rng.gaussian_matrix_f32(12, 30).into_raw_vec_and_offset().0;
    let t: [(&str, &[usize], &[f32]); 2] =
        [("x.weight", &[30, 20], &a), ("y.weight", &[12, 30], &b)];
    let s1 = session(&t);
    let s2 = session(&t);
    let r = compare_sessions(&s1, &s2, &CompareParams::default()).unwrap();
    assert_eq!(r.layers.len(), 2);
    assert!(r.unmatched.is_empty());
    for l in &r.layers {
        assert_eq!(l.delta_fro, 0.0);
        assert_eq!(l.delta_spectral_norm, 0.0);
        assert_eq!((l.delta_stable_rank, l.delta_erank), (0.0, 0.0));
        assert_eq!(l.sqnr_db, f64::INFINITY);
        assert_eq!((l.intruders, l.intruders_right), (0, 0));
        assert!((l.overlap_left - 1.0).abs() < 1e-9);
        assert_eq!(l.delta_alpha, Some(0.0));
    }
    assert_eq!(r.summary.intruders, 0);
    assert_eq!(r.summary.sqnr_db_total, f64::INFINITY);
    let mean_chance = (r.layers[0].chance_level + r.layers[1].chance_level) / 2.0;
    assert!((r.summary.chance_level - mean_chance).abs() < 1e-15);
    // The heatmap of a model against itself is the identity (up to signs; distinct σ).
    for l in &r.layers {
        let k = l.overlap_matrix.len();
        assert_eq!(k, 10.min(l.shape[0]).min(l.shape[1]));
        for (j, row) in l.overlap_matrix.iter().enumerate() {
            for (i, x) in row.iter().enumerate() {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((x - want).abs() < 1e-9, "{}: [{j}][{i}] = {x}", l.name);
            }
            // Row maxima never exceed c_j (which also looks past the base's top k).
            let mx = row.iter().fold(0.0f64, |m, v| m.max(*v));
            assert!(mx <= l.intruder_sims[j] + 1e-12);
        }
        assert_eq!(l.evals_base, l.evals_other);
        assert_eq!(l.evals_base.len(), l.shape[0].min(l.shape[1]));
    }

    // JSON: +∞ becomes null, never an invalid number.
    let j = serde_json::to_string(&r).unwrap();
    assert!(j.contains("\"sqnr_db\":null"));
    // The ESDs stay out of the JSON; the heatmap is in it.
    assert!(!j.contains("evals_base"));
    assert!(j.contains("overlap_matrix"));
}

#[test]
fn size_guard_and_progress() {
    let mut rng = SeededRng::new(5);
    let a = rng.gaussian_matrix_f32(30, 20).into_raw_vec_and_offset().0;
    let b = rng.gaussian_matrix_f32(12, 30).into_raw_vec_and_offset().0;
    let t: [(&str, &[usize], &[f32]); 2] =
        [("x.weight", &[30, 20], &a), ("y.weight", &[12, 30], &b)];
    let (s1, s2) = (session(&t), session(&t));
    let p = CompareParams {
        max_elements: 500,
        ..Default::default()
    };
    let mut calls = Vec::new();
    let r = compare_sessions_with(&s1, &s2, &p, &mut |d, n, name| {
        calls.push((d, n, name.to_string()))
    })
    .unwrap();
    assert_eq!(
        calls,
        vec![
            (0, 2, "x.weight".to_string()),
            (1, 2, "y.weight".to_string()),
            (2, 2, String::new())
        ]
    );
    assert_eq!(r.layers.len(), 1);
    assert_eq!(r.layers[0].name, "y.weight");
    assert_eq!(r.unmatched.len(), 1);
    let u = &r.unmatched[0];
    assert_eq!((u.name.as_str(), u.side.as_str()), ("x.weight", "both"));
    assert!(
        u.reason
            .contains("30×20 = 600 elements > maxElements = 500"),
        "{}",
        u.reason
    );
    // The adapter path has the same guard.
    let (base, ad) = golden_adapter();
    let small = CompareParams {
        max_elements: 1,
        ..Default::default()
    };
    let e = compare_adapter(&base, &ad, &small).unwrap_err().to_string();
    assert!(e.contains("too large to compare"), "{e}");
    // Options: maxElements parses; 0 is refused.
    assert_eq!(
        CompareParams::from_json(r#"{"maxElements": 77}"#)
            .unwrap()
            .max_elements,
        77
    );
    assert!(CompareParams::from_json(r#"{"maxElements": 0}"#).is_err());
}

fn orthogonal(n: usize, seed: u64) -> Array2<f64> {
    householder_qr(SeededRng::new(seed).gaussian_matrix(n, n).view())
        .unwrap()
        .q
}

#[test]
fn orthogonal_rotations_of_both_models_change_nothing() {
    let mut rng = SeededRng::new(11);
    let (m, n) = (40, 24);
    let w = rng.gaussian_matrix(m, n) / (n as f64).sqrt();
    let b = rng.gaussian_matrix(m, 3);
    let a = rng.gaussian_matrix(3, n) * 0.4;
    let w1 = &w + &b.dot(&a);
    let (q1, q2) = (orthogonal(m, 1), orthogonal(n, 2));
    let rot = |x: &Array2<f64>| q1.dot(x).dot(&q2.t());
    let p = CompareParams::default();
    let r = compare_matrices(w.view(), w1.view(), &p).unwrap();
    let rr = compare_matrices(rot(&w).view(), rot(&w1).view(), &p).unwrap();
    assert_rows_close(&r, &rr, 1e-9);
    assert!(
        r.intruders > 0,
        "the test should exercise intruders: {:?}",
        r.intruder_sims
    );
    // The low-rank path with rotated factors too.
    let rl = compare_low_rank(
        rot(&w).view(),
        q1.dot(&b).view(),
        a.dot(&q2.t()).view(),
        1.0,
        &p,
    )
    .unwrap();
    assert_rows_close(&r, &rl, 1e-9);
}

// ---------------------------------------------------------------- the numpy golden

fn golden_adapter() -> (ModelSession, LoraAdapter) {
    let dir = goldens().join("adapter");
    let files = ["adapter_config.json", "adapter_model.safetensors"]
        .iter()
        .map(|f| {
            let p = dir.join(f);
            (
                p.display().to_string(),
                Box::new(std::fs::read(&p).unwrap()) as Box<dyn ByteSource>,
            )
        })
        .collect();
    (
        open_file(&goldens().join("base.safetensors")),
        LoraAdapter::open(files).unwrap(),
    )
}

#[test]
fn adapter_matches_numpy_golden() {
    let (base, ad) = golden_adapter();
    let r = compare_adapter(&base, &ad, &CompareParams::default()).unwrap();
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(goldens().join("golden.json")).unwrap()).unwrap();
    let gl = g["layers"].as_object().unwrap();
    assert_eq!(r.layers.len(), gl.len(), "{:?}", r.unmatched);
    assert!(r.unmatched.is_empty(), "{:?}", r.unmatched);
    for l in &r.layers {
        let w = &gl[&l.name];
        let v = serde_json::to_value(l).unwrap();
        assert_eq!(l.kind, w["kind"].as_str().unwrap(), "{}", l.name);
        for col in [
            "base_fro",
            "delta_fro",
            "delta_rel_fro",
            "delta_spectral_norm",
            "delta_spectral_rel",
            "delta_stable_rank",
            "delta_erank",
            "overlap_left",
            "overlap_right",
            "chance_level",
            "sqnr_db",
        ] {
            let (x, y) = (v[col].as_f64().unwrap(), w[col].as_f64().unwrap());
            assert!(close(x, y, 1e-6), "{} {col}: {x} vs numpy {y}", l.name);
        }
        for col in [
            "intruders",
            "intruders_right",
            "intruder_sweep",
            "shape",
            "lora_rank",
        ] {
            assert_eq!(v[col], w[col], "{} {col}", l.name);
        }
        for col in ["intruder_sims", "intruder_sims_right"] {
            let (x, y) = (v[col].as_array().unwrap(), w[col].as_array().unwrap());
            assert_eq!(x.len(), y.len());
            for (a, b) in x.iter().zip(y) {
                let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
                assert!((a - b).abs() < 1e-6, "{} {col}: {a} vs {b}", l.name);
            }
        }
        // The k×k heatmap, entry by entry.
        let (x, y) = (&l.overlap_matrix, w["overlap_matrix"].as_array().unwrap());
        assert_eq!(x.len(), y.len(), "{} overlap_matrix rows", l.name);
        for (rx, ry) in x.iter().zip(y) {
            let ry = ry.as_array().unwrap();
            assert_eq!(rx.len(), ry.len());
            for (a, b) in rx.iter().zip(ry) {
                let b = b.as_f64().unwrap();
                assert!(
                    (a - b).abs() < 1e-6,
                    "{} overlap_matrix: {a} vs {b}",
                    l.name
                );
            }
        }
        if let Some(s) = w["lora_scale"].as_f64() {
            assert!((l.lora_scale.unwrap() - s).abs() < 1e-12);
        }
    }
    assert_eq!(
        r.summary.intruders as u64,
        g["summary"]["intruders"].as_u64().unwrap()
    );
    assert!(r.summary.intruders > 0);
    // The weak update has none, the strong one has some.
    let by = |n: &str| r.layers.iter().find(|l| l.name.contains(n)).unwrap();
    assert_eq!(by("v_proj").intruders, 0);
    assert!(by("q_proj").intruders > 0);
    eprintln!(
        "golden adapter: intruders per layer {:?}, total {}",
        r.layers
            .iter()
            .map(|l| (l.name.as_str(), l.intruders))
            .collect::<Vec<_>>(),
        r.summary.intruders
    );
}

#[test]
fn adapter_path_equals_merged_checkpoint_path() {
    let (base, ad) = golden_adapter();
    let merged = open_file(&goldens().join("merged.safetensors"));
    let p = CompareParams {
        farms: true,
        ..Default::default()
    };
    let ra = compare_adapter(&base, &ad, &p).unwrap();
    let rm = compare_sessions(&base, &merged, &p).unwrap();
    // The merged file also holds the untouched layers (ΔW = 0): compare the adapter's layers.
    for l in &ra.layers {
        let m = rm.layers.iter().find(|m| m.name == l.name).unwrap();
        assert_rows_close(l, m, 1e-6);
    }
    let untouched = rm
        .layers
        .iter()
        .find(|m| m.name.contains("up_proj"))
        .unwrap();
    assert_eq!(untouched.delta_fro, 0.0);
    assert_eq!(ra.summary.intruders, rm.summary.intruders);
    assert!(ra.layers.iter().any(|l| l.farms_alpha_other.is_some()));
    // The unchanged layer does not turn the mean SQNR into +∞.
    assert!(rm.summary.sqnr_db.is_finite());
}

// ---------------------------------------------------------------- MiniLM F32 vs F16

#[test]
fn minilm_f32_vs_f16_encoder() {
    let Ok(path) = std::env::var("SPECTRALAB_MINILM_F32") else {
        eprintln!("SPECTRALAB_MINILM_F32 unset: skipping MiniLM F32 vs F16");
        return;
    };
    let f32m = open_file(Path::new(&path));
    let f16m = open_file(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../static/examples/minilm-l6-encoder-f16.safetensors"),
    );
    let r: CompareReport = compare_sessions(&f32m, &f16m, &CompareParams::default()).unwrap();
    eprintln!(
        "MiniLM F32 vs F16: {} layers, {} unmatched, SQNR mean {:.2} dB, min {:.2} dB, total {:.2} dB, \
         max delta_rel_fro {:.3e}, intruders {}, sweep {:?}, max |Δα| {:.2e}",
        r.layers.len(),
        r.unmatched.len(),
        r.summary.sqnr_db,
        r.layers.iter().map(|l| l.sqnr_db).fold(f64::INFINITY, f64::min),
        r.summary.sqnr_db_total,
        r.layers.iter().map(|l| l.delta_rel_fro).fold(0.0, f64::max),
        r.summary.intruders,
        r.summary.intruder_sweep,
        r.layers
            .iter()
            .filter_map(|l| l.delta_alpha)
            .fold(0.0f64, |m, x| m.max(x.abs()))
    );
    assert_eq!(r.layers.len(), 36);
    // The F32 checkpoint's embeddings and pooler are not in the encoder file: listed, not paired.
    let names: Vec<&str> = r.unmatched.iter().map(|u| u.name.as_str()).collect();
    assert!(names.contains(&"pooler.dense.weight"), "{names:?}");
    assert!(
        names.iter().all(|n| !n.starts_with("encoder.")),
        "{names:?}"
    );
    assert!(r.unmatched.iter().all(|u| u.side == "base"));
    for l in &r.layers {
        assert!(l.sqnr_db > 60.0, "{}: {} dB", l.name, l.sqnr_db);
        assert_eq!(l.intruders, 0, "{}", l.name);
    }
    assert_eq!(r.summary.intruder_sweep, vec![0; 9]);
}

// ---------------------------------------------------------------- bad inputs

const CFG: &str = r#"{"peft_type":"LORA","r":2,"lora_alpha":4}"#;

fn small_base() -> ModelSession {
    let w: Vec<f32> = (0..8 * 6).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
    session(&[("model.layers.0.q.weight", &[8, 6], &w)])
}

fn err_text<T>(r: spectralab_core::Result<T>) -> String {
    match r {
        Ok(_) => panic!("should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_adapters_get_clear_errors() {
    let a = vec![0.5f32; 2 * 6];
    let b = vec![0.25f32; 8 * 2];
    let ok: [(&str, &[usize], &[f32]); 2] = [
        (
            "base_model.model.model.layers.0.q.lora_A.weight",
            &[2, 6],
            &a,
        ),
        (
            "base_model.model.model.layers.0.q.lora_B.weight",
            &[8, 2],
            &b,
        ),
    ];
    let base = small_base();
    let p = CompareParams::default();
    // Sanity: the good adapter works.
    let r = compare_adapter(&base, &adapter(CFG, &ok).unwrap(), &p).unwrap();
    assert_eq!(r.layers.len(), 1);
    assert_eq!(r.layers[0].lora_scale, Some(2.0));
    // Missing config.
    let e = err_text(adapter("", &ok));
    assert!(e.contains("no adapter_config.json"), "{e}");
    // r = 0.
    let e = err_text(adapter(r#"{"peft_type":"LORA","r":0,"lora_alpha":4}"#, &ok));
    assert!(e.contains("r = 0"), "{e}");
    // DoRA, by config and by tensor.
    let e = err_text(adapter(
        r#"{"peft_type":"LORA","r":2,"use_dora":true}"#,
        &ok,
    ));
    assert!(e.contains("DoRA adapters are not supported"), "{e}");
    let mag = vec![1.0f32; 8];
    let e = err_text(adapter(
        CFG,
        &[
            ok[0],
            ok[1],
            (
                "base_model.model.model.layers.0.q.lora_magnitude_vector",
                &[8],
                &mag,
            ),
        ],
    ));
    assert!(e.contains("DoRA adapters are not supported"), "{e}");
    // Another PEFT method.
    let e = err_text(adapter(r#"{"peft_type":"LOHA","r":2}"#, &ok));
    assert!(e.contains("only LoRA"), "{e}");
    // Regex pattern keys are refused, not guessed.
    let e = err_text(adapter(
        r#"{"peft_type":"LORA","r":2,"rank_pattern":{"^model.*q$":4}}"#,
        &ok,
    ));
    assert!(e.contains("regular expression"), "{e}");
    // Rank disagreeing with the config: unmatched with the reason → nothing compared → error.
    let e = err_text(compare_adapter(
        &base,
        &adapter(r#"{"peft_type":"LORA","r":4,"lora_alpha":4}"#, &ok).unwrap(),
        &p,
    ));
    assert!(e.contains("rank r = 4"), "{e}");
    // Shapes that do not fit the base.
    let a7 = vec![0.5f32; 2 * 7];
    let e = err_text(compare_adapter(
        &base,
        &adapter(
            CFG,
            &[
                (
                    "base_model.model.model.layers.0.q.lora_A.weight",
                    &[2, 7],
                    &a7,
                ),
                ok[1],
            ],
        )
        .unwrap(),
        &p,
    ));
    assert!(e.contains("shape") && e.contains("8×6"), "{e}");
    // Modules absent from the base: listed; if nothing fits, an error naming the module.
    let absent: [(&str, &[usize], &[f32]); 2] = [
        (
            "base_model.model.model.layers.0.k.lora_A.weight",
            &[2, 6],
            &a,
        ),
        (
            "base_model.model.model.layers.0.k.lora_B.weight",
            &[8, 2],
            &b,
        ),
    ];
    let e = err_text(compare_adapter(&base, &adapter(CFG, &absent).unwrap(), &p));
    assert!(e.contains("match none") && e.contains("layers.0.k"), "{e}");
    // A config naming a module the adapter has no tensors for: a note.
    let r = compare_adapter(
        &base,
        &adapter(
            r#"{"peft_type":"LORA","r":2,"lora_alpha":4,"target_modules":["q","gate_proj"]}"#,
            &ok,
        )
        .unwrap(),
        &p,
    )
    .unwrap();
    assert!(
        r.notes.iter().any(|n| n.contains("`gate_proj`"))
            && !r.notes.iter().any(|n| n.contains("`q`")),
        "{:?}",
        r.notes
    );
    let mixed = [ok[0], ok[1], absent[0], absent[1]];
    let r = compare_adapter(&base, &adapter(CFG, &mixed).unwrap(), &p).unwrap();
    assert_eq!(r.layers.len(), 1);
    assert_eq!(r.unmatched.len(), 1);
    assert_eq!(r.unmatched[0].side, "adapter");
    assert!(r.unmatched[0].reason.contains("layers.0.k.weight"));
    // Only A, no B.
    let r = compare_adapter(
        &base,
        &adapter(CFG, &[ok[0], ok[1], absent[0]]).unwrap(),
        &p,
    );
    assert!(r.is_ok());
    // Bad parameters.
    let e = err_text(compare_adapter(
        &base,
        &adapter(CFG, &ok).unwrap(),
        &CompareParams {
            eps: 0.0,
            ..Default::default()
        },
    ));
    assert!(e.contains("eps"), "{e}");
}

#[test]
fn unrelated_or_mismatched_models() {
    let x = vec![1.0f32; 8 * 6];
    let y = vec![1.0f32; 9 * 6];
    let a = session(&[("encoder.a.weight", &[8, 6], &x)]);
    let b = session(&[("decoder.b.weight", &[8, 6], &x)]);
    let e = err_text(compare_sessions(&a, &b, &CompareParams::default()));
    assert!(
        e.contains("unrelated") && e.contains("encoder.a.weight"),
        "{e}"
    );
    // Shape mismatch: listed with both shapes, never paired.
    let c = session(&[
        ("encoder.a.weight", &[9, 6], &y),
        ("encoder.z.weight", &[8, 6], &x),
    ]);
    let d = session(&[
        ("encoder.a.weight", &[8, 6], &x),
        ("encoder.z.weight", &[8, 6], &x),
    ]);
    let r = compare_sessions(&c, &d, &CompareParams::default()).unwrap();
    assert_eq!(r.layers.len(), 1);
    assert_eq!(r.unmatched.len(), 1);
    assert!(r.unmatched[0].reason.contains("9×6") && r.unmatched[0].reason.contains("8×6"));
    // A transposed copy is transposed back and flagged.
    let t = session(&[
        ("model.encoder.a.weight", &[6, 9], &y),
        ("encoder.z.weight", &[8, 6], &x),
    ]);
    let r = compare_sessions(&c, &t, &CompareParams::default()).unwrap();
    let l = r
        .layers
        .iter()
        .find(|l| l.name == "encoder.a.weight")
        .unwrap();
    assert!(l.transposed);
}

#[test]
fn prefixes_and_suffix_fallback_pair_names() {
    let x: Vec<f32> = (0..8 * 6).map(|i| (i % 5) as f32).collect();
    let a = session(&[
        ("bert.encoder.layer.0.q.weight", &[8, 6], &x),
        ("bert.pooler.weight", &[8, 6], &x),
    ]);
    let b = session(&[
        ("encoder.layer.0.q.weight", &[8, 6], &x),
        ("classifier.weight", &[8, 6], &x),
    ]);
    let r = compare_sessions(&a, &b, &CompareParams::default()).unwrap();
    assert_eq!(r.layers.len(), 1);
    assert_eq!(r.layers[0].other_name, "encoder.layer.0.q.weight");
    let mut un: Vec<(&str, &str)> = r
        .unmatched
        .iter()
        .map(|u| (u.name.as_str(), u.side.as_str()))
        .collect();
    un.sort();
    assert_eq!(
        un,
        vec![
            ("bert.pooler.weight", "base"),
            ("classifier.weight", "other")
        ]
    );
}

// ---------------------------------------------------------------- GGUF ↔ Hugging Face

/// A GGUF v3 file of F32 tensors `(name, rows, cols, row-major data)` with string/u32 metadata.
fn gguf_bytes(
    arch: &str,
    heads: (u32, u32),
    tensors: &[(&str, usize, usize, Vec<f32>)],
) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    let s = |out: &mut Vec<u8>, x: &str| {
        out.extend((x.len() as u64).to_le_bytes());
        out.extend(x.as_bytes());
    };
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend(3u64.to_le_bytes());
    s(&mut out, "general.architecture");
    out.extend(8u32.to_le_bytes());
    s(&mut out, arch);
    for (k, v) in [
        (format!("{arch}.attention.head_count"), heads.0),
        (format!("{arch}.attention.head_count_kv"), heads.1),
    ] {
        s(&mut out, &k);
        out.extend(4u32.to_le_bytes());
        out.extend(v.to_le_bytes());
    }
    let mut offset = 0u64;
    for (name, rows, cols, _) in tensors {
        s(&mut out, name);
        out.extend(2u32.to_le_bytes());
        out.extend((*cols as u64).to_le_bytes()); // ne0 = row length
        out.extend((*rows as u64).to_le_bytes());
        out.extend(0u32.to_le_bytes()); // F32
        out.extend(offset.to_le_bytes());
        offset += (rows * cols * 4) as u64;
        offset = offset.div_ceil(32) * 32;
    }
    while !out.len().is_multiple_of(32) {
        out.push(0);
    }
    for (_, _, _, data) in tensors {
        for v in data {
            out.extend(v.to_le_bytes());
        }
        while !out.len().is_multiple_of(32) {
            out.push(0);
        }
    }
    out
}

/// llama.cpp's converter permutation: HF row h·d + t·d/2 + j → GGUF row h·d + 2j + t.
fn permute_rows(w: &[f32], rows: usize, cols: usize, heads: usize) -> Vec<f32> {
    let d = rows / heads;
    let mut out = vec![0.0; w.len()];
    for h in 0..heads {
        for j in 0..d / 2 {
            for t in 0..2 {
                let (g, f) = (h * d + 2 * j + t, h * d + t * d / 2 + j);
                out[g * cols..(g + 1) * cols].copy_from_slice(&w[f * cols..(f + 1) * cols]);
            }
        }
    }
    out
}

#[test]
fn gguf_llama_pairs_with_hf_names_and_unpermutes_q_k() {
    let mut rng = SeededRng::new(5);
    let mut m = |r: usize, c: usize| rng.gaussian_matrix_f32(r, c).into_raw_vec_and_offset().0;
    let (q, k, o, emb, head) = (m(16, 8), m(8, 8), m(8, 16), m(12, 8), m(12, 8));
    let hf = session(&[
        ("model.embed_tokens.weight", &[12, 8], &emb),
        ("model.layers.0.self_attn.q_proj.weight", &[16, 8], &q),
        ("model.layers.0.self_attn.k_proj.weight", &[8, 8], &k),
        ("model.layers.0.self_attn.o_proj.weight", &[8, 16], &o),
        ("lm_head.weight", &[12, 8], &head),
    ]);
    let open_gguf = |arch: &str| {
        let bytes = gguf_bytes(
            arch,
            (2, 1),
            &[
                ("token_embd.weight", 12, 8, emb.clone()),
                ("blk.0.attn_q.weight", 16, 8, permute_rows(&q, 16, 8, 2)),
                ("blk.0.attn_k.weight", 8, 8, permute_rows(&k, 8, 8, 1)),
                ("blk.0.attn_output.weight", 8, 16, o.clone()),
                ("output.weight", 12, 8, head.clone()),
            ],
        );
        ModelSession::open(
            vec![("m.gguf".into(), Box::new(bytes) as Box<dyn ByteSource>)],
            AnalyzeOptions::default(),
        )
        .unwrap()
    };
    let p = CompareParams::default();
    let r = compare_sessions(&hf, &open_gguf("llama"), &p).unwrap();
    assert_eq!(r.layers.len(), 5, "{:?}", r.unmatched);
    assert!(r.unmatched.is_empty());
    for l in &r.layers {
        assert_eq!(l.delta_fro, 0.0, "{}", l.name);
        assert_eq!(
            l.unpermuted,
            l.name.contains("q_proj") || l.name.contains("k_proj")
        );
    }
    let q_row = r.layers.iter().find(|l| l.name.contains("q_proj")).unwrap();
    assert_eq!(q_row.other_name, "blk.0.attn_q.weight");
    // GGUF as the base works the same way.
    let r = compare_sessions(&open_gguf("llama"), &hf, &p).unwrap();
    assert!(r.layers.iter().all(|l| l.delta_fro == 0.0));
    // Another architecture is not un-permuted: the permuted Q differs element-wise (but has the
    // same singular values).
    let r = compare_sessions(&hf, &open_gguf("qwen2"), &p).unwrap();
    let q_row = r.layers.iter().find(|l| l.name.contains("q_proj")).unwrap();
    assert!(!q_row.unpermuted && q_row.delta_fro > 0.1);
}

#[test]
fn fan_in_fan_out_adapter_matches_its_merged_conv1d_weight() {
    // GPT-2 Conv1D stores (in, out); PEFT forces fan_in_fan_out and ΔW = s·(BA)ᵀ as stored.
    let mut rng = SeededRng::new(9);
    let (inp, out, r) = (12usize, 20usize, 3usize);
    let w_io = rng.gaussian_matrix(inp, out);
    let a = rng.gaussian_matrix(r, inp).mapv(|v| (v as f32) as f64);
    let b = rng
        .gaussian_matrix(out, r)
        .mapv(|v| (0.5 * v as f32) as f64);
    let s = 4.0 / r as f64;
    let merged = &w_io + &(b.dot(&a).t().to_owned() * s);
    let f = |x: &Array2<f64>| x.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    let base = session(&[("transformer.h.0.attn.c_attn.weight", &[inp, out], &f(&w_io))]);
    let ad = adapter(
        r#"{"peft_type":"LORA","r":3,"lora_alpha":4,"fan_in_fan_out":true}"#,
        &[
            (
                "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                &[r, inp],
                &f(&a),
            ),
            (
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
                &[out, r],
                &f(&b),
            ),
        ],
    )
    .unwrap();
    let p = CompareParams::default();
    let ra = compare_adapter(&base, &ad, &p).unwrap();
    let w0 = w_io.mapv(|v| (v as f32) as f64);
    let merged = &w0 + &(&merged - &w_io);
    let rm = compare_matrices(w0.view(), merged.view(), &p).unwrap();
    assert_eq!(ra.layers.len(), 1);
    assert_eq!(ra.layers[0].shape, vec![inp, out]);
    assert_rows_close(&ra.layers[0], &rm, 1e-9);
    // Without fan_in_fan_out the factors do not fit the (in, out) base: listed, then an error.
    let ad = adapter(
        r#"{"peft_type":"LORA","r":3,"lora_alpha":4}"#,
        &[
            (
                "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                &[r, inp],
                &f(&a),
            ),
            (
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
                &[out, r],
                &f(&b),
            ),
        ],
    )
    .unwrap();
    let e = err_text(compare_adapter(&base, &ad, &p));
    assert!(e.contains("12×20"), "{e}");
}

#[test]
fn options_parse_from_json() {
    let p =
        CompareParams::from_json(r#"{"k": 5, "eps": 0.3, "farms": true, "layers": ["q_proj"]}"#)
            .unwrap();
    assert_eq!((p.k, p.eps, p.alpha, p.farms), (5, 0.3, true, true));
    assert_eq!(p.layers, vec!["q_proj".to_string()]);
    assert_eq!(
        CompareParams::from_json("{}").unwrap(),
        CompareParams::default()
    );
    for bad in [
        r#"{"kk": 1}"#,
        r#"{"k": 0}"#,
        r#"{"eps": 1.5}"#,
        r#"{"eps": "x"}"#,
        "[]",
    ] {
        assert!(CompareParams::from_json(bad).is_err(), "{bad}");
    }
}

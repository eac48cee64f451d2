//! CI exit codes of `spectralab analyze`: 0 ok, 1 gate matched, 2 analysis errors, 3 bad input.

use spectralab_core::session::model::safetensors_bytes;
use std::path::PathBuf;
use std::process::{Command, Output};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spectralab-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .args(args)
        .output()
        .unwrap()
}

fn gaussian(n: usize, m: usize, seed: u64) -> Vec<f32> {
    spectralab_core::random::SeededRng::new(seed)
        .gaussian_matrix_f32(n, m)
        .iter()
        .copied()
        .collect()
}

/// Two healthy layers and one with a NaN weight.
fn model_with_nan() -> PathBuf {
    let (n, m) = (120, 80);
    let a = gaussian(n, m, 1);
    let mut b = gaussian(n, m, 2);
    b[17] = f32::NAN;
    let c = gaussian(n, m, 3);
    let p = tmp("nan.safetensors");
    std::fs::write(
        &p,
        safetensors_bytes(&[
            ("l0.weight", &[n, m], &a),
            ("l1.weight", &[n, m], &b),
            ("l2.weight", &[n, m], &c),
        ]),
    )
    .unwrap();
    p
}

/// A healthy layer and an identity matrix (α = inf: degenerate).
fn model_with_identity() -> PathBuf {
    let n = 64;
    let mut eye = vec![0f32; n * n];
    for i in 0..n {
        eye[i * n + i] = 1.0;
    }
    let g = gaussian(200, 100, 4);
    let p = tmp("identity.safetensors");
    std::fs::write(
        &p,
        safetensors_bytes(&[("eye.weight", &[n, n], &eye), ("g.weight", &[200, 100], &g)]),
    )
    .unwrap();
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn error_rows_fail_the_run_with_exit_2_unless_allowed() {
    let p = model_with_nan();
    let f = p.to_str().unwrap();
    let out = run(&["analyze", f, "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("l1.weight"), "{}", stderr(&out));
    // The error line names the layer once (the core's reason already starts with it).
    assert!(
        !stderr(&out).contains("l1.weight: l1.weight"),
        "{}",
        stderr(&out)
    );
    // The table is still written; the error row has empty measured cells.
    let csv = String::from_utf8(out.stdout).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.contains("l1.weight"))
        .unwrap()
        .split(',')
        .collect();
    let col = |c: &str| row[header.iter().position(|h| *h == c).unwrap()];
    assert_eq!(col("status"), "error");
    assert_eq!(col("alpha"), "");
    assert_eq!(col("norm"), "");
    assert_eq!(col("lambda_max"), "");

    // A gate that never matches must not hide the error.
    let gated = run(&["analyze", f, "--fail-if", "alpha>100"]);
    assert_eq!(gated.status.code(), Some(2), "{}", stderr(&gated));
    // Errors win over a matching gate too (the gate did not see every layer).
    let both = run(&["analyze", f, "--fail-if", "alpha>0"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    assert!(stderr(&both).contains("--fail-if matched"));

    let allowed = run(&["analyze", f, "--allow-errors", "--fail-if", "alpha>100"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    // With --allow-errors the gate decides; error rows are never gated (`norm<1` would match
    // a made-up 0).
    let gate = run(&["analyze", f, "--allow-errors", "--fail-if", "alpha>0"]);
    assert_eq!(gate.status.code(), Some(1), "{}", stderr(&gate));
    let norm = run(&["analyze", f, "--allow-errors", "--fail-if", "norm<1"]);
    assert_eq!(norm.status.code(), Some(0), "{}", stderr(&norm));
}

#[test]
fn degenerate_warning_can_be_gated() {
    let p = model_with_identity();
    let f = p.to_str().unwrap();
    let out = run(&["analyze", f, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let eye = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "eye.weight")
        .unwrap();
    assert_eq!(eye["status"], "success");
    let w = eye["warning"].as_str().unwrap();
    assert!(w.contains("degenerate:alpha-inf"), "{w}");

    for gate in [
        "warning==degenerate",
        "warning=degenerate",
        "warning==degenerate:alpha-inf",
        "warning==under-trained",
    ] {
        let o = run(&["analyze", f, "--fail-if", gate]);
        assert_eq!(o.status.code(), Some(1), "{gate}: {}", stderr(&o));
        assert!(stderr(&o).contains("eye.weight"), "{gate}: {}", stderr(&o));
    }
    // α = inf is above any bound (not an empty cell).
    let o = run(&["analyze", f, "--fail-if", "alpha>1000"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("eye.weight: alpha = inf"),
        "{}",
        stderr(&o)
    );
    // A tag prefix must end at `:`; `!=` negates.
    let o = run(&["analyze", f, "--fail-if", "warning==degen"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["analyze", f, "--fail-if", "status!=success"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn bad_input_exits_3() {
    let p = model_with_identity();
    let f = p.to_str().unwrap();
    for args in [
        vec!["analyze"],
        vec!["analyze", f, "--fail-if", "alpha~3"],
        vec!["analyze", f, "--fail-if", "alpha>big"],
        vec!["analyze", f, "--fail-if", "nosuchcolumn>1"],
        vec!["analyze", f, "--bogus"],
        vec!["analyze", "/nonexistent/model.safetensors"],
        vec!["frobnicate"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
    }
    let help = run(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("exit codes") && text.contains("--allow-errors"),
        "{text}"
    );
}

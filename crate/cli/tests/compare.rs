//! `spectralab compare`: base + adapter equals base vs merged checkpoint, `--fail-if` gating,
//! usage and input errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn goldens() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/goldens/compare")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .arg("compare")
        .args(args)
        .output()
        .unwrap()
}

fn path(p: &str) -> String {
    goldens().join(p).display().to_string()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn adapter_equals_merged_checkpoint() {
    let base = path("base.safetensors");
    let ad = json(&run(&[
        &base,
        "--adapter",
        &path("adapter"),
        "--format",
        "json",
    ]));
    let mg = json(&run(&[
        &base,
        &path("merged.safetensors"),
        "--format",
        "json",
    ]));
    let al = ad["layers"].as_array().unwrap();
    assert_eq!(al.len(), 5);
    let ml = mg["layers"].as_array().unwrap();
    for l in al {
        let m = ml.iter().find(|m| m["name"] == l["name"]).unwrap();
        for col in [
            "delta_fro",
            "delta_rel_fro",
            "delta_spectral_norm",
            "delta_spectral_rel",
            "delta_stable_rank",
            "delta_erank",
            "alpha_base",
            "alpha_other",
            "overlap_left",
            "overlap_right",
            "sqnr_db",
        ] {
            let (x, y) = (l[col].as_f64().unwrap(), m[col].as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-6 * x.abs().max(1.0),
                "{} {col}: {x} vs {y}",
                l["name"]
            );
        }
        for col in ["intruders", "intruders_right", "intruder_sweep", "shape"] {
            assert_eq!(l[col], m[col], "{} {col}", l["name"]);
        }
    }
    assert_eq!(ad["summary"]["intruders"], mg["summary"]["intruders"]);
    assert_eq!(ad["summary"]["intruders"], 11);
    assert!(ad["unmatched"].as_array().unwrap().is_empty());
}

#[test]
fn csv_and_fail_if() {
    let base = path("base.safetensors");
    let adapter = path("adapter");
    let o = run(&[&base, "--adapter", &adapter]);
    assert!(o.status.success());
    let csv = String::from_utf8(o.stdout).unwrap();
    assert!(csv.starts_with("name,other_name,shape,kind,"));
    assert_eq!(csv.lines().count(), 6);
    // Gate: exit 1 and the offending layers on stderr.
    let o = run(&[&base, "--adapter", &adapter, "--fail-if", "intruders>0"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("q_proj") && !err.contains("v_proj.weight: intruders"),
        "{err}"
    );
    let o = run(&[&base, "--adapter", &adapter, "--fail-if", "intruders>5"]);
    assert_eq!(o.status.code(), Some(0));
    // A stricter ε finds fewer intruders.
    let o = run(&[
        &base,
        "--adapter",
        &adapter,
        "--eps",
        "0.1",
        "--fail-if",
        "intruders>0",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // --layers keeps a subset.
    let v = json(&run(&[
        &base,
        "--adapter",
        &adapter,
        "--layers",
        "v_proj",
        "--format",
        "json",
    ]));
    assert_eq!(v["layers"].as_array().unwrap().len(), 1);
    // A filter that keeps no adapted layer: an empty table, not an error.
    let v = json(&run(&[
        &base,
        "--adapter",
        &adapter,
        "--layers",
        "up_proj",
        "--format",
        "json",
    ]));
    assert!(v["layers"].as_array().unwrap().is_empty());
    // FARMS α columns with --farms.
    let v = json(&run(&[
        &base,
        "--adapter",
        &adapter,
        "--farms",
        "--format",
        "json",
    ]));
    assert!(
        v["layers"][0]["farms_alpha_base"].is_number(),
        "{}",
        v["layers"][0]
    );
    // --max-elements: the 1600- and 2048-element layers are listed as unmatched, the rest
    // compared; progress lines name each layer on stderr (not a terminal here).
    let o = run(&[
        &base,
        "--adapter",
        &adapter,
        "--max-elements",
        "1536",
        "--format",
        "json",
    ]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let v = json(&o);
    assert_eq!(v["layers"].as_array().unwrap().len(), 3, "{v}");
    let big: Vec<&str> = v["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            u["reason"]
                .as_str()
                .unwrap()
                .contains("too large to compare")
        })
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(big.len(), 2, "{v}");
    assert!(err.contains("[1/5] ") && err.contains("[5/5] "), "{err}");
    // The heatmap is in the JSON: k×k (k clipped to min(m, n)).
    let q = &v["layers"][0]["overlap_matrix"];
    assert!(!q.as_array().unwrap().is_empty(), "{}", v["layers"][0]);
    // Unknown column: usage error (exit 3, bad input).
    let o = run(&[&base, "--adapter", &adapter, "--fail-if", "nope>0"]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn usage_and_input_errors() {
    let base = path("base.safetensors");
    // Usage errors and bad input both exit 3.
    assert_eq!(run(&[&base]).status.code(), Some(3));
    assert_eq!(run(&[&base, &base, "--k", "0"]).status.code(), Some(3));
    assert_eq!(run(&[&base, &base, "--eps", "2"]).status.code(), Some(3));
    // A folder without an adapter.
    let o = run(&[&base, "--adapter", &goldens().display().to_string()]);
    assert_eq!(o.status.code(), Some(3));
    // An unrelated model (MiniLM's encoder): nothing pairs by name.
    let minilm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../static/examples/minilm-l6-encoder-f16.safetensors")
        .display()
        .to_string();
    let o = run(&[&base, &minilm]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unrelated"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

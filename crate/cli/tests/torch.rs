//! `spectralab analyze` on PyTorch checkpoints (fixtures from tests/fixtures/torch/make_fixtures.py).

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/torch")
        .join(name)
}

fn analyze(name: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .args([
            "analyze",
            fixture(name).to_str().unwrap(),
            "--format",
            "csv",
        ])
        .output()
        .unwrap()
}

#[test]
fn analyze_torch_checkpoint_gives_rows() {
    let out = analyze("cli.pt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let names: Vec<&str> = rows.iter().map(|r| r[col("name")]).collect();
    assert_eq!(names, ["layer1.weight", "layer2.weight"]);
    for r in &rows {
        assert_eq!(r[col("status")], "success", "{r:?}");
        assert_eq!((r[col("N")], r[col("M")]), ("40", "20"), "{r:?}");
        let alpha: f64 = r[col("alpha")].parse().unwrap();
        assert!(alpha.is_finite() && alpha > 1.0, "{r:?}");
    }
}

#[test]
fn analyze_small_state_dict_lists_every_tensor() {
    let out = analyze("state_dict.pt");
    let csv = String::from_utf8(out.stdout).unwrap();
    // 12 tensors, one row each (all below the size gates), plus the header.
    assert_eq!(csv.lines().count(), 13, "{csv}");
}

#[test]
fn legacy_and_malicious_checkpoints_fail_clearly() {
    let out = analyze("legacy.pt");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("legacy torch.save format (PyTorch < 1.6)"),
        "{err}"
    );
    let out = analyze("malicious/os_system.pt");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to load: pickle calls posix.system"),
        "{err}"
    );
}

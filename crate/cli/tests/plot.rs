//! `spectralab analyze FILE --plot DIR` on the F16 MiniLM example.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn plot_writes_alpha_esd_and_rank_svgs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = root.join("static/examples/minilm-l6-encoder-f16.safetensors");
    let dir = std::env::temp_dir().join(format!("spectralab-plot-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .args([
            "analyze",
            model.to_str().unwrap(),
            "--format",
            "json",
            "--plot",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let layers = report["layers"].as_array().unwrap();
    assert!(layers.len() > 10);
    // The ESDs were kept only for the charts.
    assert!(layers.iter().all(|l| l.get("evals").is_none()));

    let is_svg = |p: PathBuf| {
        let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(
            s.contains("<svg") && s.trim_end().ends_with("</svg>"),
            "{}",
            p.display()
        );
        s
    };
    let alpha = is_svg(dir.join("alpha.svg"));
    assert!(alpha.contains("α per layer"));
    for l in layers {
        let name = l["name"].as_str().unwrap();
        let stem: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let esd = is_svg(dir.join(format!("esd_{stem}.svg")));
        assert!(esd.contains(name));
        is_svg(dir.join(format!("rank_{stem}.svg")));
    }
    let n = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(n, 1 + 2 * layers.len());
    let _ = std::fs::remove_dir_all(&dir);
}

//! `spectralab metrics` as a user runs it: the digits table with per-class Vendi, CSV/TSV and
//! safetensors inputs, JSON output, and clear errors.

use ndarray::Array2;
use spectralab_core::metrics::{vendi_score, Kernel, VendiParams};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .arg("metrics")
        .args(args)
        .output()
        .unwrap()
}

fn table(out: &Output) -> HashMap<String, String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("metric,value"));
    lines
        .map(|l| {
            let (k, v) = l.split_once(',').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn num(t: &HashMap<String, String>, k: &str) -> f64 {
    t.get(k)
        .unwrap_or_else(|| panic!("no row {k}"))
        .parse()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spectralab-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn digits_table_with_per_class_vendi() {
    let ex = root().join("static/examples");
    let out = run(&[
        ex.join("digits.npy").to_str().unwrap(),
        "--labels",
        ex.join("digits-labels.npy").to_str().unwrap(),
    ]);
    let t = table(&out);
    assert_eq!(num(&t, "n"), 1797.0);
    assert_eq!(num(&t, "d"), 64.0);
    // Three pixel columns of the digits are always 0: the cosine rank (q = 0) is 61, exactly.
    assert_eq!(t["vendi_cosine_q0"], "61");
    let q: Vec<f64> = ["0", "0.5", "1", "2", "inf"]
        .iter()
        .map(|q| num(&t, &format!("vendi_cosine_q{q}")))
        .collect();
    assert!(
        q.windows(2).all(|w| w[0] >= w[1]),
        "non-increasing in q: {q:?}"
    );
    let mix = num(&t, "vendi_cosine_q1");
    for c in 0..10 {
        assert!(num(&t, &format!("class_{c}_count")) > 150.0);
        assert!(
            num(&t, &format!("class_{c}_vendi_cosine_q1")) < mix,
            "digit {c}"
        );
    }
    for k in [
        "matrix_entropy",
        "diff_erank_erank",
        "roy_vetterli_erank",
        "stable_rank",
        "mnn",
        "dse_bits",
        "uncomp_normalized_entropy",
    ] {
        assert!(num(&t, k).is_finite() && num(&t, k) > 0.0, "{k}");
    }
}

#[test]
fn csv_input_json_output_matches_core() {
    let x = Array2::from_shape_fn((30, 5), |(i, j)| {
        ((i * 7 + j * 3) % 11) as f64 - 4.5 + 0.1 * j as f64
    });
    let mut text = String::from("f0,f1,f2,f3,f4\n");
    for r in x.rows() {
        text += &r
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",");
        text += "\n";
    }
    let p = tmp("emb.csv");
    std::fs::write(&p, &text).unwrap();
    let out = run(&[
        p.to_str().unwrap(),
        "--kernel",
        "rbf",
        "--bandwidth",
        "2.5",
        "--q",
        "0.5,1,inf",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["n"], 30);
    assert_eq!(v["kernel"], "rbf");
    let rows = v["vendi"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["q"], "inf");
    for (row, q) in rows.iter().zip([0.5, 1.0, f64::INFINITY]) {
        let want = vendi_score(
            x.view(),
            &VendiParams {
                q,
                kernel: Kernel::Rbf { bandwidth: 2.5 },
                ..Default::default()
            },
        )
        .unwrap()
        .score;
        let got = row["score"].as_f64().unwrap();
        // The CSV round-trips f64 exactly (Rust prints shortest round-trip decimals).
        assert!((got - want).abs() <= 1e-12 * want, "q={q}: {got} vs {want}");
    }
    assert!(v["report"]["vendi_rbf"]["q1"].as_f64().unwrap() > 1.0);
    // TSV without header gives the same cosine table.
    let tsv: String = text
        .lines()
        .skip(1)
        .map(|l| l.replace(',', "\t") + "\n")
        .collect();
    let p2 = tmp("emb.tsv");
    std::fs::write(&p2, tsv).unwrap();
    let a = table(&run(&[p.to_str().unwrap()]));
    let b = table(&run(&[p2.to_str().unwrap()]));
    assert_eq!(a, b);
}

#[test]
fn safetensors_tensor_choice_and_errors() {
    // Two F32 tensors: `small` (4×3) and `emb` (2×3×2, flattened to 6×2 rows × features).
    let small: Vec<f32> = (0..12).map(|i| (i as f32).sin()).collect();
    let emb: Vec<f32> = (0..12).map(|i| (i as f32 * 0.7).cos()).collect();
    let header = r#"{"small":{"dtype":"F32","shape":[4,3],"data_offsets":[0,48]},"emb":{"dtype":"F32","shape":[2,3,2],"data_offsets":[48,96]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    for v in small.iter().chain(&emb) {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let p = tmp("two.safetensors");
    std::fs::write(&p, bytes).unwrap();
    let f = p.to_str().unwrap();
    let t = table(&run(&[f, "--tensor", "emb"]));
    assert_eq!((num(&t, "n"), num(&t, "d")), (6.0, 2.0));
    let x = Array2::from_shape_vec((6, 2), emb).unwrap();
    let want = vendi_score(x.view(), &VendiParams::default())
        .unwrap()
        .score;
    assert!((num(&t, "vendi_cosine_q1") - want).abs() <= 1e-12 * want);
    let t = table(&run(&[f]));
    assert_eq!(
        (num(&t, "n"), num(&t, "d")),
        (4.0, 3.0),
        "default: first ≥2-D tensor"
    );

    let missing = run(&[f, "--tensor", "nope"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("small, emb"));
    assert_eq!(
        run(&[f, "--kernel", "rbf"]).status.code(),
        Some(3),
        "rbf needs a bandwidth"
    );
    assert_eq!(run(&[f, "--q", "-1"]).status.code(), Some(3));
    assert_eq!(
        run(&[f, "--kernel", "gauss", "--bandwidth", "1"])
            .status
            .code(),
        Some(3)
    );
    assert_eq!(run(&[]).status.code(), Some(3));

    let nan = tmp("nan.csv");
    std::fs::write(&nan, "1,2\n3,nan\n").unwrap();
    let out = run(&[nan.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("non-finite"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Identical rows: the table still prints; centred metrics are empty, with the reason.
    let same = tmp("same.csv");
    std::fs::write(&same, "1,2,3\n1,2,3\n1,2,3\n").unwrap();
    let out = run(&[same.to_str().unwrap()]);
    let t = table(&out);
    assert_eq!(num(&t, "vendi_cosine_q1"), 1.0);
    assert_eq!(t["matrix_entropy"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("note: centred metrics"));
}

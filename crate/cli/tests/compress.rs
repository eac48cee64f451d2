//! `spectralab compress` on the MiniLM fixture: budgets, error ceilings, plan JSON, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../static/examples/minilm-l6-encoder-f16.safetensors")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .arg("compress")
        .arg(model())
        .args(args)
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let out = run(&a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn budget_plan_csv_and_json_plan_file() {
    let plan_path =
        std::env::temp_dir().join(format!("spectralab-plan-{}.json", std::process::id()));
    let out = run(&["--budget", "50%", "--plan", plan_path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "tensor,rows,cols,rank,dense,params,bytes,rel_fro_error"
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 36, "the 36 2-D weights of the 6-layer encoder");
    let (mut params, mut dense) = (0u64, 0u64);
    for r in &rows {
        let (n, m, k): (u64, u64, u64) = (
            r[1].parse().unwrap(),
            r[2].parse().unwrap(),
            r[3].parse().unwrap(),
        );
        let p: u64 = r[5].parse().unwrap();
        let e: f64 = r[7].parse().unwrap();
        assert!(k >= 1 && k <= n.min(m));
        if r[4] == "true" {
            assert_eq!((p, e), (n * m, 0.0));
        } else {
            assert_eq!(p, k * (n + m));
            assert!(p < n * m && e > 0.0 && e < 1.0);
        }
        assert_eq!(r[6].parse::<u64>().unwrap(), 2 * p, "f16 bytes");
        params += p;
        dense += n * m;
    }
    assert!(params <= dense / 2);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&plan_path);
    let plan = plan.as_object().unwrap();
    assert_eq!(plan.len(), 36);
    for r in &rows {
        assert_eq!(plan[&r[0]].as_u64().unwrap(), r[3].parse::<u64>().unwrap());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("36 layers") && err.contains("model relative error"),
        "{err}"
    );
}

#[test]
fn greedy_beats_uniform_and_error_ceiling_holds() {
    let greedy = json(&["--budget", "40%", "--method", "greedy"]);
    let uniform = json(&["--budget", "40%", "--method", "uniform"]);
    let g = greedy["model_rel_error"].as_f64().unwrap();
    let u = uniform["model_rel_error"].as_f64().unwrap();
    assert!(g < u, "greedy {g} vs uniform {u}");
    for v in [&greedy, &uniform] {
        assert!(
            v["params"].as_u64().unwrap() <= (0.4 * v["dense_params"].as_f64().unwrap()) as u64
        );
        assert_eq!(v["plan"].as_object().unwrap().len(), 36);
    }
    let c = json(&["--error", "0.3", "--method", "energy"]);
    assert!(c["model_rel_error"].as_f64().unwrap() <= 0.3);
    // A byte budget at int4 (4.5 bits per number with the f32 group scales) is never exceeded.
    let b = json(&["--budget", "3000000", "--dtype", "int4"]);
    assert!(b["bytes"].as_u64().unwrap() <= 3_000_000);
    assert_eq!(b["dtype"], "int4");
}

#[test]
fn bad_arguments_are_usage_errors_exit_3() {
    for args in [
        vec!["--budget", "150%"],
        vec!["--budget", "lots"],
        vec!["--method", "magic"],
        vec!["--budget", "50%", "--error", "0.1"],
        vec!["--dtype", "int3"],
        vec!["--frobnicate"],
    ] {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A budget below rank 1 everywhere is a run error naming the problem, not a panic.
    let out = run(&["--budget", "100"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("budget"));
}

#[test]
fn quant_plan_json_csv_plan_file_and_recipes() {
    let plan_path =
        std::env::temp_dir().join(format!("spectralab-qplan-{}.json", std::process::id()));
    let v = json(&[
        "--quant-plan",
        "4.8bpw",
        "--plan",
        plan_path.to_str().unwrap(),
    ]);
    let plan = &v["plan"];
    assert!(plan["bits_per_weight"].as_f64().unwrap() <= 4.8 + 1e-12);
    let layers = plan["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 36);
    // Every recipe is matched or beaten by the plan at its size.
    let recipes = v["recipes"].as_array().unwrap();
    assert!(recipes.len() >= 5);
    for r in recipes {
        let (a, b) = (
            r["recipe"]["model_rel_error"].as_f64().unwrap(),
            r["plan_at_same_size"]["model_rel_error"].as_f64().unwrap(),
        );
        assert!(b <= a + 1e-15, "{}", r["recipe"]["name"]);
    }
    let q4km = recipes
        .iter()
        .find(|r| r["recipe"]["name"] == "Q4_K_M")
        .unwrap();
    assert!(
        q4km["plan_at_same_size"]["model_rel_error"]
            .as_f64()
            .unwrap()
            < q4km["recipe"]["model_rel_error"].as_f64().unwrap(),
        "the plan beats Q4_K_M at its size on MiniLM"
    );
    // The --plan file maps tensor → type; the overrides name the same types.
    let file: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    std::fs::remove_file(&plan_path).ok();
    assert_eq!(file.len(), 36);
    let args = v["tensor_type_args"].as_array().unwrap();
    for (l, a) in layers.iter().zip(args) {
        let want = format!(
            "--tensor-type {}={}",
            l["name"].as_str().unwrap(),
            l["ggml_type"].as_str().unwrap().to_ascii_lowercase()
        );
        assert_eq!(a.as_str().unwrap(), want);
        assert_eq!(file[l["name"].as_str().unwrap()], l["ggml_type"]);
    }
    // CSV: one row per tensor with the stored type beside the planned one.
    let out = run(&["--quant-plan", "4.8bpw", "--format", "csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "tensor,rows,cols,file_type,type,bytes,rel_fro_error"
    );
    assert_eq!(lines.filter(|l| l.contains(",F16,")).count(), 36);
    // Bad budgets are bad input (exit 3); so is a budget below every plan, named.
    for bad in ["lots", "-1bpw", "bpw"] {
        assert_eq!(run(&["--quant-plan", bad]).status.code(), Some(3), "{bad}");
    }
    let out = run(&["--quant-plan", "2bpw"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("below the smallest plan"));
}

#[test]
fn quant_plan_of_a_gguf_file_shows_its_type_mix() {
    let gguf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/goldens/gguf/random_blocks.gguf");
    let out = Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .args(["compress", gguf.to_str().unwrap(), "--quant-plan", "5bpw"])
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("type mix of the planned tensors: file ") && err.contains("Q4_K:1"),
        "{err}"
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 17);
    assert!(csv.contains("\nQ6_K,2,256,Q6_K,"));
}

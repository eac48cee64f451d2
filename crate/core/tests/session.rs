//! The model session: sharded checkpoints as one model, depth order, bad shards, and the
//! streaming path against the whole-tensor path.

use spectralab_core::formats::ByteSource;
use spectralab_core::random::SeededRng;
use spectralab_core::session::model::safetensors_bytes;
use spectralab_core::session::{natural_cmp, AnalyzeOptions, ModelSession};
use spectralab_core::spectrum::analyze::LayerReport;

type Files = Vec<(String, Box<dyn ByteSource>)>;

fn matrix(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
    // Heavy-ish tail: Gaussian entries scaled by a Pareto-like column weight.
    let g = SeededRng::new(seed).gaussian_matrix_f32(rows, cols);
    let mut v = g.into_raw_vec_and_offset().0;
    for (i, x) in v.iter_mut().enumerate() {
        let c = (i % cols) as f32 + 1.0;
        *x *= 1.0 / c.powf(0.7);
    }
    v
}

fn options(json: &str) -> AnalyzeOptions {
    AnalyzeOptions::from_json(json).unwrap()
}

fn close(a: Option<f64>, b: Option<f64>, tol: f64) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= tol * x.abs().max(y.abs()).max(1e-300),
        (None, None) => true,
        _ => false,
    }
}

/// The columns a streamed row must share with the whole-tensor row.
fn assert_rows_match(a: &LayerReport, b: &LayerReport, tol: f64) {
    assert_eq!(a.name, b.name);
    assert_eq!(
        a.status, b.status,
        "{}: {:?} vs {:?}",
        a.name, a.reason, b.reason
    );
    assert_eq!(a.num_evals, b.num_evals);
    assert_eq!(a.matrix_rank, b.matrix_rank, "{}", a.name);
    for (what, x, y) in [
        ("alpha", a.alpha, b.alpha),
        ("xmin", a.xmin, b.xmin),
        ("D", a.d, b.d),
        ("norm", Some(a.norm), Some(b.norm)),
        ("lambda_max", Some(a.lambda_max), Some(b.lambda_max)),
        ("stable_rank", Some(a.stable_rank), Some(b.stable_rank)),
        ("entropy", Some(a.entropy), Some(b.entropy)),
        (
            "farms",
            a.farms.as_ref().map(|f| f.alpha),
            b.farms.as_ref().map(|f| f.alpha),
        ),
        ("mp", a.mp.map(|m| m.sigma_mp), b.mp.map(|m| m.sigma_mp)),
    ] {
        assert!(close(x, y, tol), "{}: {what} {x:?} vs {y:?}", a.name);
    }
}

fn session_of(tensors: &[(&str, &[usize], &[f32])], opts: &str) -> ModelSession {
    let bytes = safetensors_bytes(tensors);
    ModelSession::open(
        vec![(
            "m.safetensors".into(),
            Box::new(bytes) as Box<dyn ByteSource>,
        )],
        options(opts),
    )
    .unwrap()
}

#[test]
fn streamed_rows_equal_whole_rows() {
    // Tall (several superblocks, ragged end), wide (column strips), and one just above the
    // superblock size.
    let tall = matrix(2600, 48, 1);
    let wide = matrix(40, 2300, 2);
    let edge = matrix(1025, 30, 3);
    let t: Vec<(&str, &[usize], &[f32])> = vec![
        ("a.weight", &[2600, 48], &tall),
        ("b.weight", &[40, 2300], &wide),
        ("c.weight", &[1025, 30], &edge),
    ];
    for (opts, tol) in [
        (r#"{"mpFit": true, "farms": true}"#, 1e-10),
        (r#"{"fast": true, "farms": true}"#, 0.0),
        (r#"{"fit": "TPL"}"#, 1e-9),
    ] {
        let mut whole = session_of(&t, opts);
        let mut streamed = session_of(&t, opts);
        streamed.stream.stream_above_bytes = 0;
        streamed.stream.block_bytes = 1; // one superblock per block
        let todo = whole.todo();
        assert_eq!(todo.len(), 3);
        assert!(todo
            .iter()
            .all(|&p| streamed.is_streamed(p) && !whole.is_streamed(p)));
        let a = whole.analyze(&todo, true);
        let b = streamed.analyze(&todo, true);
        for (x, y) in a.iter().zip(&b) {
            assert_rows_match(x, y, tol);
            let (ex, ey) = (x.evals.as_ref().unwrap(), y.evals.as_ref().unwrap());
            let top = ex.last().unwrap();
            for (u, v) in ex.iter().zip(ey) {
                assert!(
                    (u - v).abs() <= tol.max(1e-13) * top,
                    "{}: {u} vs {v}",
                    x.name
                );
            }
            if tol == 0.0 {
                // The f32 Gram is bit-identical whatever the block split.
                assert_eq!(ex, ey, "{}", x.name);
            }
        }
        // The session keeps every ESD.
        for &p in &todo {
            assert!(streamed.evals(p).is_some());
        }
    }
}

#[test]
fn streamed_rank_deficient_layer_falls_back_to_the_whole_path() {
    // Rank 3 → eigenvalues below the Gram's noise floor: the row must equal the whole path's
    // (which takes σ² from an f64 SVD), because the tensor is small enough to read whole.
    let (n, m) = (1500, 20);
    let u = matrix(n, 3, 7);
    let v = matrix(3, m, 8);
    let mut w = vec![0f32; n * m];
    for i in 0..n {
        for j in 0..m {
            w[i * m + j] = (0..3).map(|k| u[i * 3 + k] * v[k * m + j]).sum();
        }
    }
    let shape = [n, m];
    let t: Vec<(&str, &[usize], &[f32])> = vec![("r.weight", &shape, &w)];
    let mut whole = session_of(&t, "{}");
    let mut streamed = session_of(&t, "{}");
    streamed.stream.stream_above_bytes = 0;
    let a = whole.analyze(&[0], false);
    let b = streamed.analyze(&[0], false);
    assert_rows_match(&a[0], &b[0], 0.0);
    // f32 rounding of the rank-3 product leaves tiny singular values: the SVD path's domain.
    assert!(
        a[0].sv_min < 1e-5 * a[0].sv_max,
        "{} {}",
        a[0].sv_min,
        a[0].sv_max
    );
    // Beyond the whole-read limit the Gram's eigenvalues are kept, and the row says so.
    let mut capped = session_of(&t, "{}");
    capped.stream.stream_above_bytes = 0;
    capped.stream.whole_bytes = 0;
    let c = capped.analyze(&[0], false);
    assert!(
        c[0].reason.as_deref().unwrap_or("").contains("noise floor"),
        "{:?}",
        c[0].reason
    );
    // Randomization needs the whole matrix: refused by name past the limit.
    let mut r = session_of(&t, r#"{"randomize": true}"#);
    r.stream.stream_above_bytes = 0;
    r.stream.whole_bytes = 0;
    let row = &r.analyze(&[0], false)[0];
    assert!(
        row.reason.as_deref().unwrap_or("").contains("randomize"),
        "{:?}",
        row.reason
    );
}

/// Two shard files (name, bytes) and the index JSON.
fn shard_files(n_layers: usize, cols: usize) -> (Vec<(String, Vec<u8>)>, String) {
    // A LLaMA-like walk: embed, layers.{0..n}.{q,k}, lm_head; two shards + index.
    let mats: Vec<Vec<f32>> = (0..2 * n_layers + 2)
        .map(|i| matrix(64, cols, 100 + i as u64))
        .collect();
    let mut names = vec!["model.embed_tokens.weight".to_string()];
    for l in 0..n_layers {
        names.push(format!("model.layers.{l}.self_attn.k_proj.weight"));
        names.push(format!("model.layers.{l}.self_attn.q_proj.weight"));
    }
    names.push("lm_head.weight".into());
    let half = names.len() / 2;
    let mut files = Vec::new();
    let mut map = serde_json::Map::new();
    for (si, range) in [(0, 0..half), (1, half..names.len())] {
        let fname = format!("model-0000{}-of-00002.safetensors", si + 1);
        let shape = [64, cols];
        let mut part: Vec<(&str, &[usize], &[f32])> = Vec::new();
        let mut idx: Vec<usize> = range.collect();
        idx.sort_by(|&a, &b| names[a].cmp(&names[b])); // the writer's (alphabetical) order
        for &i in &idx {
            part.push((names[i].as_str(), &shape[..], mats[i].as_slice()));
            map.insert(names[i].clone(), serde_json::Value::String(fname.clone()));
        }
        files.push((fname, safetensors_bytes(&part)));
    }
    let index = serde_json::json!({"metadata": {"total_size": 0}, "weight_map": map}).to_string();
    (files, index)
}

fn open_files(
    files: &[(String, Vec<u8>)],
    index: Option<&str>,
) -> spectralab_core::Result<ModelSession> {
    let mut v: Files = files
        .iter()
        .map(|(n, b)| {
            (
                format!("dir/{n}"),
                Box::new(b.clone()) as Box<dyn ByteSource>,
            )
        })
        .collect();
    if let Some(ix) = index {
        v.push((
            "dir/model.safetensors.index.json".into(),
            Box::new(ix.as_bytes().to_vec()),
        ));
    }
    v.push(("dir/config.json".into(), Box::new(b"{}".to_vec())));
    ModelSession::open(v, AnalyzeOptions::default())
}

#[test]
fn shards_merge_in_depth_order() {
    let (files, index) = shard_files(12, 16);
    let mut s = open_files(&files, Some(&index)).unwrap();
    let names: Vec<String> = s.plans().iter().map(|p| p.name.clone()).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(
        pos("model.layers.2.self_attn.q_proj.weight")
            < pos("model.layers.10.self_attn.k_proj.weight")
    );
    assert!(
        pos("model.layers.9.self_attn.q_proj.weight")
            < pos("model.layers.11.self_attn.k_proj.weight")
    );
    assert_eq!(
        names.first().map(String::as_str),
        Some("model.embed_tokens.weight")
    );
    assert_eq!(names.last().map(String::as_str), Some("lm_head.weight"));
    let ids: Vec<usize> = s.plans().iter().map(|p| p.layer_id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let info = s.info();
    assert_eq!(info.shards.len(), 2);
    assert_eq!(info.layers, 26);
    assert!(
        info.notes.iter().any(|n| n.contains("config.json")),
        "{:?}",
        info.notes
    );
    let report = s.analyze_all(2, |_, _, _, _, _| true);
    assert_eq!(report.layers.len(), 26);
    assert!(
        report.layers.iter().all(|l| l.status == "success"),
        "{:?}",
        report.layers[0].reason
    );
    // Without the index: the same model.
    let s2 = open_files(&files, None).unwrap();
    let names2: Vec<String> = s2.plans().iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, names2);
}

#[test]
fn a_missing_or_broken_shard_names_itself_and_the_rest_still_runs() {
    let (mut files, index) = shard_files(3, 16);
    let gone = files.remove(1);
    let mut s = open_files(&files, Some(&index)).unwrap();
    let report = s.analyze_all(1, |_, _, _, _, _| true);
    let errors: Vec<&LayerReport> = report
        .layers
        .iter()
        .filter(|l| l.status == "error")
        .collect();
    let ok = report
        .layers
        .iter()
        .filter(|l| l.status == "success")
        .count();
    assert!(!errors.is_empty() && ok > 0);
    for e in &errors {
        assert!(
            e.reason.as_deref().unwrap().contains(&gone.0),
            "{:?}",
            e.reason
        );
    }
    assert!(s
        .notes()
        .iter()
        .any(|n| n.contains(&gone.0) && n.contains("missing")));
    // A truncated shard: its tensors are error rows naming it.
    let (mut files, index) = shard_files(3, 16);
    let cut = files[0].1.len() / 3;
    files[0].1.truncate(cut);
    let mut s = open_files(&files, Some(&index)).unwrap();
    let report = s.analyze_all(1, |_, _, _, _, _| true);
    assert!(report
        .layers
        .iter()
        .any(|l| l.status == "error" && l.reason.as_deref().unwrap().contains(&files[0].0)));
    assert!(report.layers.iter().any(|l| l.status == "success"));
}

#[test]
fn duplicates_and_empty_input_are_clear_errors() {
    let a = matrix(64, 16, 1);
    let f1 = safetensors_bytes(&[("x.weight", &[64, 16], &a), ("y.weight", &[64, 16], &a)]);
    let f2 = safetensors_bytes(&[("x.weight", &[64, 16], &a)]);
    let mut s = ModelSession::open(
        vec![
            ("a.safetensors".into(), Box::new(f1) as Box<dyn ByteSource>),
            ("b.safetensors".into(), Box::new(f2)),
        ],
        AnalyzeOptions::default(),
    )
    .unwrap();
    let rows = s.analyze_all(1, |_, _, _, _, _| true).layers;
    let x: Vec<&LayerReport> = rows.iter().filter(|l| l.name == "x.weight").collect();
    assert_eq!(x.len(), 1);
    let why = x[0].reason.as_deref().unwrap();
    assert!(x[0].status == "error" && why.contains("duplicate"), "{why}");
    assert!(
        why.contains("a.safetensors") && why.contains("b.safetensors"),
        "{why}"
    );
    assert!(rows
        .iter()
        .any(|l| l.name == "y.weight" && l.status == "success"));
    let e = ModelSession::open(Vec::new(), AnalyzeOptions::default())
        .err()
        .unwrap();
    assert!(e.to_string().contains("no model file"), "{e}");
    let e = ModelSession::open(
        vec![(
            "notes.txt".into(),
            Box::new(b"hi".to_vec()) as Box<dyn ByteSource>,
        )],
        AnalyzeOptions::default(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("no model file"), "{e}");
    // An index that is not JSON.
    let e = ModelSession::open(
        vec![(
            "m.safetensors.index.json".into(),
            Box::new(b"{oops".to_vec()) as Box<dyn ByteSource>,
        )],
        AnalyzeOptions::default(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("index.json"), "{e}");
}

#[test]
fn natural_order() {
    use std::cmp::Ordering::*;
    assert_eq!(natural_cmp("layers.2.q", "layers.10.q"), Less);
    assert_eq!(natural_cmp("layers.010", "layers.9"), Greater);
    assert_eq!(natural_cmp("a", "a.b"), Less);
    assert_eq!(natural_cmp("h.1", "h.1"), Equal);
}

#[test]
fn from_matrix_and_bad_shapes() {
    let a = matrix(300, 40, 5);
    let mut s = ModelSession::from_matrix("w", 300, 40, &a, AnalyzeOptions::default()).unwrap();
    let row = &s.analyze(&[0], false)[0];
    assert_eq!((row.n, row.m, row.status.as_str()), (300, 40, "success"));
    assert!(ModelSession::from_matrix("w", 3, 4, &a, AnalyzeOptions::default()).is_err());
    // Positions outside the model are error rows, not panics.
    let r = &s.analyze(&[99], false)[0];
    assert_eq!(r.status, "error");
}

#[test]
fn minilm_sharded_equals_single_and_streamed_equals_whole() {
    let Ok(path) = std::env::var("SPECTRALAB_MINILM_F32") else {
        eprintln!("SPECTRALAB_MINILM_F32 unset: skipping the MiniLM session test");
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let open = |stream_all: bool| {
        let mut s = ModelSession::open(
            vec![(
                "model.safetensors".into(),
                Box::new(bytes.clone()) as Box<dyn ByteSource>,
            )],
            options(r#"{"mpFit": true, "farms": true}"#),
        )
        .unwrap();
        if stream_all {
            s.stream.stream_above_bytes = 0;
        }
        s
    };
    let whole = open(false).analyze_all(2, |_, _, _, _, _| true);
    let streamed = open(true).analyze_all(2, |_, _, _, _, _| true);
    assert_eq!(whole.layers.len(), 39);
    for (a, b) in whole.layers.iter().zip(&streamed.layers) {
        assert_rows_match(a, b, 1e-9);
    }
}

#[test]
fn gguf_layers_stream_like_whole_ones() {
    // Every quantized type of the golden file, read by row blocks (dequantized per block) and
    // read whole: the same ESD. The tensors are 2 × 256 (wide: column strips of whole rows).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/goldens/gguf/random_blocks.gguf"
    );
    let bytes = std::fs::read(path).unwrap();
    let open = |stream: bool| {
        let mut s = ModelSession::open(
            vec![(
                "random_blocks.gguf".into(),
                Box::new(bytes.clone()) as Box<dyn ByteSource>,
            )],
            options(r#"{"minEvals": 1}"#),
        )
        .unwrap();
        if stream {
            s.stream.stream_above_bytes = 0;
            s.stream.block_bytes = 1;
        }
        s
    };
    let (mut whole, mut streamed) = (open(false), open(true));
    let todo = whole.todo();
    assert_eq!(todo.len(), 16);
    assert!(todo.iter().all(|&p| streamed.is_streamed(p)));
    let a = whole.analyze(&todo, true);
    let b = streamed.analyze(&todo, true);
    for (x, y) in a.iter().zip(&b) {
        let (ex, ey) = (x.evals.as_ref().unwrap(), y.evals.as_ref().unwrap());
        let top = ex.last().unwrap().abs().max(1e-300);
        for (u, v) in ex.iter().zip(ey) {
            assert!((u - v).abs() <= 1e-12 * top, "{}: {u} vs {v}", x.name);
        }
    }
}

// ------------------------------------------------------------ quantization plans on a session

#[test]
fn quant_options_by_row_blocks_equal_whole_ones() {
    use spectralab_core::compress::ggml_quant::GgmlType;
    use spectralab_core::compress::quant_plan::QuantLayer;
    let data = matrix(70, 96, 31);
    let w = ndarray::Array2::from_shape_fn((70, 96), |(i, j)| data[i * 96 + j] as f64);
    let whole = QuantLayer::measure("w", w.view(), &GgmlType::ALL).unwrap();
    let blocks = QuantLayer::measure_blocks("w", 70, 96, &GgmlType::ALL, 7, |r| {
        Ok(w.slice(ndarray::s![r, ..]).to_owned())
    })
    .unwrap();
    // 96 is not a multiple of 256: the K types fall back, so 6 distinct effective types.
    assert_eq!(whole.options.len(), 6);
    assert_eq!(whole.options.len(), blocks.options.len());
    for (a, b) in whole.options.iter().zip(&blocks.options) {
        assert_eq!((a.ggml_type, a.bytes), (b.ggml_type, b.bytes));
        assert!((a.sq_error - b.sq_error).abs() <= 1e-12 * a.sq_error);
    }
    assert!((whole.norm2 - blocks.norm2).abs() <= 1e-12 * whole.norm2);
    // A reader that returns the wrong block shape is an error, not a silent mismatch.
    assert!(
        QuantLayer::measure_blocks("w", 70, 96, &GgmlType::ALL, 7, |_| {
            Ok(ndarray::Array2::zeros((2, 96)))
        })
        .is_err()
    );
}

#[test]
fn quant_summary_of_the_demo_model() {
    use spectralab_core::compress::quant_plan::QuantBudget;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../static/examples/minilm-l6-encoder-f16.safetensors"
    );
    let bytes = std::fs::read(path).unwrap();
    let mut s = ModelSession::open(
        vec![(
            "minilm.safetensors".into(),
            Box::new(bytes) as Box<dyn ByteSource>,
        )],
        AnalyzeOptions::default(),
    )
    .unwrap();
    let positions = s.quant_positions();
    assert_eq!(positions.len(), 36);
    assert_eq!(s.quant_measure(&positions[..2]).unwrap(), 2);
    assert_eq!(s.quant_measure(&positions[..2]).unwrap(), 0, "cached");
    let q = s
        .quant_summary(QuantBudget::BitsPerWeight(4.8), 17)
        .unwrap();
    assert_eq!(q.layers.len(), 36);
    assert!(q
        .layers
        .iter()
        .all(|l| l.error.is_none() && l.file_type == "F16"));
    assert_eq!(q.file_mix, vec![("F16".to_string(), 36)]);
    let plan = &q.summary.plan;
    assert!(plan.bits_per_weight <= 4.8 + 1e-12);
    // At each recipe's size the plan is at least as good (the recipe is one feasible plan).
    assert!(q.summary.recipes.len() >= 5);
    for r in &q.summary.recipes {
        let same = r.plan_at_same_size.as_ref().unwrap();
        assert!(same.bytes <= r.recipe.bytes);
        assert!(
            same.model_rel_error <= r.recipe.model_rel_error + 1e-15,
            "{}",
            r.recipe.name
        );
    }
    // The curve runs from the smallest plan to the largest, error non-increasing.
    let c = &q.summary.curve;
    assert_eq!(c.len(), 17);
    assert!((c[0].bits_per_weight - q.summary.min_bits_per_weight).abs() < 1e-12);
    assert!((c[16].bits_per_weight - q.summary.max_bits_per_weight).abs() < 1e-12);
    for w in c.windows(2) {
        assert!(w[1].bytes >= w[0].bytes && w[1].model_rel_error <= w[0].model_rel_error);
    }
}

#[test]
fn quant_summary_of_a_gguf_file_reports_its_types() {
    use spectralab_core::compress::quant_plan::QuantBudget;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/goldens/gguf/random_blocks.gguf"
    );
    let bytes = std::fs::read(path).unwrap();
    let mut s = ModelSession::open(
        vec![(
            "random_blocks.gguf".into(),
            Box::new(bytes) as Box<dyn ByteSource>,
        )],
        options(r#"{"minEvals": 1}"#),
    )
    .unwrap();
    let q = s.quant_summary(QuantBudget::BitsPerWeight(5.0), 9).unwrap();
    assert_eq!(q.layers.len(), 16);
    // One tensor per stored type: the mix lists each once, the plan covers every tensor.
    assert_eq!(q.file_mix.len(), 16);
    assert!(q.file_mix.iter().any(|(t, n)| t == "Q4_K" && *n == 1));
    assert_eq!(q.summary.plan.layers.len(), 16);
    assert!(q.summary.plan.bits_per_weight <= 5.0 + 1e-12);
}

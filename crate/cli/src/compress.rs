//! `spectralab compress`: per-layer rank plan for a model file under a byte/parameter budget or
//! an error ceiling, from each layer's ESD (eigenvalues `λ = σ²` of the smaller Gram matrix,
//! computed in f64 as `analyze` does).
//!
//! ```text
//! spectralab compress FILE [--budget 50%|BYTES] [--error E] [--method uniform|energy|greedy|welore]
//!                          [--objective absolute|relative] [--dtype f32|f16|int8|int4]
//!                          [--plan OUT.json] [--format csv|json]
//! ```
//! `--budget 50%` is a fraction of the planned layers' dense parameters; a plain number is bytes
//! with every number stored at `--dtype` (default f16). `--error E` asks for the fewest
//! parameters with the model-level relative Frobenius error ≤ E. Default: `--budget 50%`,
//! `--method greedy`. Only 2-D weights the analysis walk accepts are planned (others are listed
//! on stderr). `--plan` writes `{tensor: rank}` (a layer kept dense has rank `min(N, M)`).
//!
//! `spectralab compress FILE --quant-plan 4.8bpw|BYTES [--plan OUT.json] [--format csv|json]`
//! instead chooses one llama.cpp type per 2-D weight (Q4_0, IQ4_NL, Q4_K, Q5_0, Q5_K, Q5_1,
//! Q6_K, Q8_0; each layer quantized → dequantized with every type) minimising the model-level
//! error under the budget, and compares it on stderr with llama.cpp's uniform Q4_K, Q4_K_M and
//! Q5_K_M recipes (and the plan at each recipe's size). `--plan` writes `{tensor: "Q4_K"}`;
//! the `--tensor-type` arguments for llama-quantize go to stderr.

use crate::{fileio, Args, Failure};
use spectralab_core::compress::budget::{
    AllocationMethod, BudgetParams, BudgetPlan, BudgetTarget, ErrorObjective, LayerSpectrum,
};
use spectralab_core::compress::quant_plan::QuantBudget;
use spectralab_core::compress::truncation::Spectrum;
use spectralab_core::compress::Precision;
use spectralab_core::formats::{read_tensor, ReadParams, TensorData};
use spectralab_core::linalg::{gram_eigenvalues, GramParams};
use spectralab_core::session::options::{MethodOption, ObjectiveOption, PrecisionOption};
use spectralab_core::session::{AnalyzeOptions, ModelSession};
use spectralab_core::spectrum::analyze::{plan_source, AnalyzeParams};
use spectralab_core::spectrum::layers::LayerKind;
use std::io::Write;

fn parse_budget(text: &str, precision: Precision) -> Result<BudgetTarget, Failure> {
    let bad = || Failure::Usage(format!("--budget: `{text}` (e.g. 50% or a byte count)"));
    if let Some(p) = text.strip_suffix('%') {
        let f: f64 = p.trim().parse().map_err(|_| bad())?;
        if !(f > 0.0 && f <= 100.0) {
            return Err(Failure::Usage(format!("--budget: {f}% is not in (0, 100]")));
        }
        Ok(BudgetTarget::ParamFraction(f / 100.0))
    } else {
        let bytes: u64 = text.trim().parse().map_err(|_| bad())?;
        Ok(BudgetTarget::Bytes { bytes, precision })
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// ESD of a 2-D tensor: eigenvalues `λ = σ²` of its smaller Gram matrix, computed in f64 as
/// `spectralab analyze` does by default (ascending).
fn spectrum_of(data: &TensorData) -> spectralab_core::Result<Vec<f64>> {
    let shape_error = |e: ndarray::ShapeError| spectralab_core::Error::Shape {
        expected: "2-D".into(),
        found: e.to_string(),
    };
    let w: ndarray::Array2<f64> = match data {
        TensorData::F32(a) => a
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(shape_error)?
            .mapv(f64::from),
        TensorData::F64(a) => a
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(shape_error)?
            .to_owned(),
    };
    Ok(gram_eigenvalues(w.view(), &GramParams::default())?.to_vec())
}

fn parse_quant_budget(text: &str) -> Result<QuantBudget, Failure> {
    let bad = || {
        Failure::Usage(format!(
            "--quant-plan: `{text}` (e.g. 4.8bpw or a byte count)"
        ))
    };
    if let Some(b) = text.trim().strip_suffix("bpw") {
        let v: f64 = b.trim().parse().map_err(|_| bad())?;
        if !(v.is_finite() && v > 0.0) {
            return Err(bad());
        }
        Ok(QuantBudget::BitsPerWeight(v))
    } else {
        Ok(QuantBudget::Bytes(text.trim().parse().map_err(|_| bad())?))
    }
}

/// `--quant-plan`: measure every type on every planned 2-D weight (by row blocks, through the
/// model session), plan, compare with the recipes, print.
fn run_quant_plan(
    files: &[String],
    budget: QuantBudget,
    format: &str,
    plan_out: Option<String>,
) -> Result<(), Failure> {
    let path = files.join(" ");
    let sources = fileio::model_files(files).map_err(Failure::Run)?;
    let mut session = ModelSession::open(sources, AnalyzeOptions::default())
        .map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    let mut stderr = std::io::stderr();
    let positions = session.quant_positions();
    let tty = std::io::IsTerminal::is_terminal(&stderr);
    for (i, &p) in positions.iter().enumerate() {
        if tty {
            let _ = write!(
                stderr,
                "\r[{}/{}] quantizing {}\x1b[K",
                i + 1,
                positions.len(),
                session.plans()[p].name
            );
        }
        session
            .quant_measure(&[p])
            .map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    }
    if tty {
        let _ = write!(stderr, "\r\x1b[K");
    }
    let s = session
        .quant_summary(budget, 33)
        .map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    for l in s.layers.iter().filter(|l| l.error.is_some()) {
        let _ = writeln!(
            stderr,
            "{}: skipped: {}",
            l.name,
            l.error.as_deref().unwrap_or("")
        );
    }
    let plan = &s.summary.plan;
    if session.info().format == "gguf" {
        let mix: Vec<String> = s.file_mix.iter().map(|(t, n)| format!("{t}:{n}")).collect();
        let mut planned: Vec<(String, usize)> = Vec::new();
        for c in &plan.layers {
            match planned.iter_mut().find(|(t, _)| t == c.ggml_type.name()) {
                Some((_, n)) => *n += 1,
                None => planned.push((c.ggml_type.name().to_string(), 1)),
            }
        }
        planned.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let planned: Vec<String> = planned.iter().map(|(t, n)| format!("{t}:{n}")).collect();
        let _ = writeln!(
            stderr,
            "type mix of the planned tensors: file {}; plan {}",
            mix.join(", "),
            planned.join(", ")
        );
    }
    let _ = writeln!(
        stderr,
        "{} layers, quantization plan: {:.4} bits per weight, {} bytes, model relative error {:.5}",
        plan.layers.len(),
        plan.bits_per_weight,
        plan.bytes,
        plan.model_rel_error
    );
    for r in &s.summary.recipes {
        if let Some(same) = &r.plan_at_same_size {
            let _ = writeln!(
                stderr,
                "{}: {:.4} bpw, error {:.5}; plan at ≤ its size: {:.4} bpw, error {:.5}",
                r.recipe.name,
                r.recipe.bits_per_weight,
                r.recipe.model_rel_error,
                same.bits_per_weight,
                same.model_rel_error
            );
        }
    }
    let _ = writeln!(
        stderr,
        "llama-quantize overrides: {}",
        plan.tensor_type_args().join(" ")
    );
    if let Some(out) = &plan_out {
        std::fs::write(out, plan.plan_json() + "\n")
            .map_err(|e| Failure::Run(format!("{out}: {e}")))?;
    }
    let measured: Vec<_> = s.layers.iter().filter(|l| l.error.is_none()).collect();
    let out = if format == "csv" {
        let mut o = String::from("tensor,rows,cols,file_type,type,bytes,rel_fro_error\n");
        for (l, c) in measured.iter().zip(&plan.layers) {
            o.push_str(&format!(
                "{},{},{},{},{},{},{:?}\n",
                csv_field(&c.name),
                l.rows,
                l.cols,
                l.file_type,
                c.ggml_type.name(),
                c.bytes,
                c.rel_fro_error
            ));
        }
        o
    } else {
        serde_json::to_string_pretty(&s).map_err(|e| Failure::Run(e.to_string()))? + "\n"
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| Failure::Run(e.to_string()))
}

pub fn run(mut a: Args) -> Result<(), Failure> {
    let quant_plan = a.value("--quant-plan")?;
    let usage = |flag: &str, e: spectralab_core::Error| Failure::Usage(format!("{flag}: {e}"));
    let precision = match a.value("--dtype")? {
        None => Precision::F16,
        Some(d) => d
            .parse::<PrecisionOption>()
            .map_err(|e| usage("--dtype", e))?
            .into(),
    };
    let budget = a.value("--budget")?;
    let error: Option<f64> = a.number("--error")?;
    let target = match (budget, error) {
        (Some(_), Some(_)) => {
            return Err(Failure::Usage(
                "give either --budget or --error, not both".into(),
            ))
        }
        (Some(b), None) => parse_budget(&b, precision)?,
        (None, Some(e)) => {
            if !(e.is_finite() && e >= 0.0) {
                return Err(Failure::Usage(format!("--error: {e} must be ≥ 0")));
            }
            BudgetTarget::ErrorCeiling(e)
        }
        (None, None) => BudgetTarget::ParamFraction(0.5),
    };
    let method = match a.value("--method")? {
        None => AllocationMethod::Greedy,
        Some(m) => m
            .parse::<MethodOption>()
            .map_err(|e| usage("--method", e))?
            .into(),
    };
    let objective = match a.value("--objective")? {
        None => ErrorObjective::Absolute,
        Some(o) => o
            .parse::<ObjectiveOption>()
            .map_err(|e| usage("--objective", e))?
            .into(),
    };
    let plan_out = a.value("--plan")?;
    let format = a.value("--format")?.unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "json" {
        return Err(Failure::Usage(format!("--format: `{format}` (csv|json)")));
    }
    if let Some(unknown) = a.0.iter().find(|x| x.starts_with("--")) {
        return Err(Failure::Usage(format!("unknown option {unknown}")));
    }
    if let Some(q) = quant_plan {
        if a.0.is_empty() {
            return Err(Failure::Usage(
                "compress --quant-plan needs a FILE, a folder of shards, or a *.index.json".into(),
            ));
        }
        return run_quant_plan(&a.0, parse_quant_budget(&q)?, &format, plan_out);
    }
    let [path] = a.0.as_slice() else {
        return Err(Failure::Usage("compress needs exactly one FILE".into()));
    };
    let file = fileio::FileSource::open(path).map_err(Failure::Run)?;
    let (index, plans) = plan_source(&file, path, &AnalyzeParams::default())
        .map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    let mut stderr = std::io::stderr();
    let mut names = Vec::new();
    let mut shapes = Vec::new();
    let mut spectra = Vec::new();
    for p in &plans {
        if p.kind == Some(LayerKind::Conv2d) {
            let _ = writeln!(stderr, "{}: skipped: conv weights are not planned", p.name);
        }
        if p.kind != Some(LayerKind::Dense) {
            continue;
        }
        let data = read_tensor(&file, &index.tensors[p.index], &ReadParams::default())
            .and_then(|d| spectrum_of(&d).map(|s| (d.shape().to_vec(), s)));
        match data {
            Ok((shape, s)) => {
                names.push(p.name.clone());
                shapes.push((shape[0], shape[1]));
                spectra.push(s);
            }
            Err(e) => {
                let _ = writeln!(stderr, "{}: skipped: {e}", p.name);
            }
        }
    }
    if names.is_empty() {
        return Err(Failure::Run(format!(
            "{path}: no 2-D weight tensor to plan"
        )));
    }
    let layers: Vec<LayerSpectrum> = (0..names.len())
        .map(|i| LayerSpectrum {
            name: &names[i],
            rows: shapes[i].0,
            cols: shapes[i].1,
            spectrum: Spectrum::Eigenvalues(&spectra[i]),
        })
        .collect();
    let plan = BudgetPlan::new(&layers).map_err(|e| Failure::Run(e.to_string()))?;
    let params = BudgetParams {
        method,
        objective,
        min_rank: 1,
    };
    let alloc = plan
        .allocate(target, &params)
        .map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    if let Some(out) = &plan_out {
        std::fs::write(out, alloc.plan_json() + "\n")
            .map_err(|e| Failure::Run(format!("{out}: {e}")))?;
    }
    let total_bytes = alloc.bytes(precision);
    let dense_bytes: u64 = alloc
        .layers
        .iter()
        .map(|l| precision.bytes(l.rows as u64 * l.cols as u64))
        .sum();
    let _ = writeln!(
        stderr,
        "{} layers, {:?} plan: {} of {} parameters ({:.1} %), {} of {} bytes at {}, model relative error {:.4}",
        alloc.layers.len(),
        method,
        alloc.params,
        alloc.dense_params,
        100.0 * alloc.params as f64 / alloc.dense_params.max(1) as f64,
        total_bytes,
        dense_bytes,
        precision.name(),
        alloc.model_rel_error
    );
    // The other methods at the same target, for comparison (cheap: spectra are precomputed).
    if let Ok(all) = plan.compare(target, objective, 1) {
        let line: Vec<String> = all
            .iter()
            .map(|a| {
                format!(
                    "{:?} {:.4} ({} params)",
                    a.method, a.model_rel_error, a.params
                )
            })
            .collect();
        let _ = writeln!(
            stderr,
            "model relative error by method: {}",
            line.join(", ")
        );
    }
    let out = if format == "csv" {
        let mut s = String::from("tensor,rows,cols,rank,dense,params,bytes,rel_fro_error\n");
        for l in &alloc.layers {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{:?}\n",
                csv_field(&l.name),
                l.rows,
                l.cols,
                l.rank,
                l.dense,
                l.params,
                precision.bytes(l.params),
                l.rel_fro_error
            ));
        }
        s
    } else {
        let mut v = serde_json::to_value(&alloc).map_err(|e| Failure::Run(e.to_string()))?;
        v["dtype"] = precision.name().into();
        v["bytes"] = total_bytes.into();
        v["dense_bytes"] = dense_bytes.into();
        v["plan"] = serde_json::to_value(alloc.ranks()).map_err(|e| Failure::Run(e.to_string()))?;
        serde_json::to_string_pretty(&v).map_err(|e| Failure::Run(e.to_string()))? + "\n"
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| Failure::Run(e.to_string()))
}

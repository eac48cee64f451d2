//! `spectralab metrics FILE`: the entropy and diversity table of a set of embeddings.
//!
//! ```text
//! spectralab metrics FILE [--tensor NAME] [--labels FILE.npy] [--q 0,0.5,1,2,inf]
//!                         [--kernel cosine|linear|rbf] [--bandwidth S|median] [--format csv|json]
//! ```
//! FILE is `.npy`, `.npz` or `.safetensors` (rows = items; a tensor of more than two dimensions is
//! flattened to `prod(leading) × last`; `--tensor` picks one, default: the first tensor of ≥ 2
//! dimensions) or a CSV/TSV table (header optional). Prints `metric,value` rows (or one JSON
//! object): Vendi of `--kernel` at every `--q`, then the one-shot table of
//! `spectralab_core::metrics::metrics_report`, then per-class Vendi (q = 1) with `--labels`.
//! Metrics undefined for the input are left empty, with the reason on stderr.

use crate::fileio::FileSource;
use crate::{Args, Failure};
use ndarray::{Array2, Ix2};
use serde::Serialize;
use spectralab_core::formats::{read_index, read_tensor, ReadParams, TensorData};
use spectralab_core::metrics::{
    median_pairwise_distance, metrics_report_generic, parse_table, read_labels, vendi_per_class,
    vendi_spectrum, Kernel, MetricsParams, MetricsReport, PerClassReport, VendiParams,
};
use spectralab_core::session::options::KernelOption;
use std::io::Write;

fn run_err(e: impl std::fmt::Display) -> Failure {
    Failure::Run(e.to_string())
}

/// Loads FILE as an `n × d` f64 matrix and says which tensor it was.
fn load(path: &str, tensor: Option<&str>) -> Result<(Array2<f64>, String), Failure> {
    let lower = path.to_ascii_lowercase();
    if [".csv", ".tsv", ".txt"].iter().any(|e| lower.ends_with(e)) {
        let text =
            std::fs::read_to_string(path).map_err(|e| Failure::Run(format!("{path}: {e}")))?;
        let t = parse_table(&text).map_err(|e| Failure::Run(format!("{path}: {e}")))?;
        return Ok((t.data, "table".into()));
    }
    let src = FileSource::open(path).map_err(Failure::Run)?;
    let index = read_index(&src, path).map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    let entry = match tensor {
        Some(name) => index.get(name).ok_or_else(|| {
            let names: Vec<&str> = index.tensors.iter().map(|t| t.name.as_str()).collect();
            Failure::Usage(format!(
                "--tensor: no `{name}` in {path} (has: {})",
                names.join(", ")
            ))
        })?,
        None => index
            .tensors
            .iter()
            .find(|t| t.shape.len() >= 2)
            .ok_or_else(|| Failure::Run(format!("{path}: no tensor with ≥ 2 dimensions")))?,
    };
    if entry.shape.len() < 2 {
        return Err(Failure::Run(format!(
            "tensor `{}` has shape {:?}: need rows × features",
            entry.name, entry.shape
        )));
    }
    let data = read_tensor(&src, entry, &ReadParams::default())
        .map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    let d = *entry.shape.last().expect("≥ 2 dims");
    let n: usize = entry.shape[..entry.shape.len() - 1].iter().product();
    let flat = match data {
        TensorData::F32(a) => a.mapv(|v| v as f64),
        TensorData::F64(a) => a,
    };
    let x = flat
        .into_shape_with_order((n, d))
        .map_err(run_err)?
        .into_dimensionality::<Ix2>()
        .map_err(run_err)?;
    Ok((x, entry.name.clone()))
}

fn parse_q(list: &str) -> Result<Vec<f64>, Failure> {
    list.split(',')
        .map(|s| {
            let s = s.trim();
            match s {
                "inf" | "Inf" | "infinity" | "∞" => Ok(f64::INFINITY),
                _ => s.parse::<f64>().ok().filter(|q| *q >= 0.0).ok_or_else(|| {
                    Failure::Usage(format!("--q: `{s}` is not an order ≥ 0 (or inf)"))
                }),
            }
        })
        .collect()
}

fn q_name(q: f64) -> String {
    if q.is_infinite() {
        "inf".into()
    } else {
        format!("{q}")
    }
}

#[derive(Serialize)]
struct VendiRow {
    q: String,
    score: f64,
}

#[derive(Serialize)]
struct Output {
    file: String,
    tensor: String,
    kernel: String,
    bandwidth: Option<f64>,
    vendi: Vec<VendiRow>,
    report: MetricsReport,
    per_class: Option<PerClassReport>,
}

fn csv(out: &Output) -> String {
    let mut rows: Vec<(String, Option<f64>)> = vec![
        ("n".into(), Some(out.report.n as f64)),
        ("d".into(), Some(out.report.d as f64)),
    ];
    for v in &out.vendi {
        rows.push((format!("vendi_{}_q{}", out.kernel, v.q), Some(v.score)));
    }
    let r = &out.report;
    if let Some(b) = out.bandwidth {
        rows.push(("rbf_bandwidth".into(), Some(b)));
    }
    rows.push((
        "vendi_linear_q1".into(),
        r.vendi_linear.as_ref().map(|v| v.q1),
    ));
    let me = r.matrix_entropy.as_ref();
    rows.push(("matrix_entropy".into(), me.map(|m| m.entropy)));
    rows.push((
        "matrix_entropy_normalized".into(),
        me.map(|m| m.normalized_entropy),
    ));
    rows.push(("diff_erank_erank".into(), me.map(|m| m.erank)));
    rows.push(("roy_vetterli_erank".into(), r.roy_vetterli_erank));
    rows.push(("stable_rank".into(), r.stable_rank));
    rows.push(("nuclear_norm".into(), Some(r.nuclear_norm)));
    rows.push(("mnn".into(), r.mnn.as_ref().map(|m| m.mnn)));
    rows.push((
        "mnn_exact_nuclear_over_n".into(),
        r.mnn.as_ref().map(|m| m.nuclear_norm_over_n),
    ));
    rows.push(("dse_bits".into(), r.dse_bits));
    rows.push(("uncomp_k".into(), r.uncomp.as_ref().map(|u| u.k as f64)));
    rows.push((
        "uncomp_normalized_entropy".into(),
        r.uncomp.as_ref().map(|u| u.normalized_entropy),
    ));
    if let Some(pc) = &out.per_class {
        for c in &pc.classes {
            rows.push((format!("class_{}_count", c.label), Some(c.count as f64)));
            rows.push((
                format!("class_{}_vendi_{}_q1", c.label, out.kernel),
                Some(c.score),
            ));
        }
    }
    let mut s = String::from("metric,value\n");
    for (k, v) in rows {
        s.push_str(&k);
        s.push(',');
        if let Some(v) = v {
            s.push_str(&format!("{v}"));
        }
        s.push('\n');
    }
    s
}

/// The `metrics` subcommand.
pub(crate) fn run(mut a: Args) -> Result<(), Failure> {
    let tensor = a.value("--tensor")?;
    let labels_path = a.value("--labels")?;
    let qs = parse_q(&a.value("--q")?.unwrap_or_else(|| "0,0.5,1,2,inf".into()))?;
    let kernel_name = a.value("--kernel")?.unwrap_or_else(|| "cosine".into());
    let bandwidth = a.value("--bandwidth")?;
    let format = a.value("--format")?.unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "json" {
        return Err(Failure::Usage(format!("--format: `{format}` (csv|json)")));
    }
    if let Some(unknown) = a.0.iter().find(|x| x.starts_with("--")) {
        return Err(Failure::Usage(format!("unknown option {unknown}")));
    }
    let [path] = a.0.as_slice() else {
        return Err(Failure::Usage("metrics needs exactly one FILE".into()));
    };
    let (x, tensor_name) = load(path, tensor.as_deref())?;
    let h = match (kernel_name.as_str(), bandwidth.as_deref()) {
        ("rbf", None) => {
            return Err(Failure::Usage(
                "--kernel rbf needs --bandwidth S (or median)".into(),
            ))
        }
        (_, Some("median")) => Some(median_pairwise_distance(x.view(), 2000).map_err(run_err)?),
        (_, Some(s)) => Some(
            s.parse::<f64>()
                .ok()
                .filter(|h| *h > 0.0 && h.is_finite())
                .ok_or_else(|| {
                    Failure::Usage(format!("--bandwidth: `{s}` is not a positive number"))
                })?,
        ),
        _ => None,
    };
    let kernel = match kernel_name
        .parse::<KernelOption>()
        .map_err(|e| Failure::Usage(format!("--kernel: {e}")))?
    {
        KernelOption::Cosine => Kernel::Cosine,
        KernelOption::Linear => Kernel::Linear,
        KernelOption::Rbf => Kernel::Rbf {
            bandwidth: h.expect("checked"),
        },
    };
    let params = MetricsParams {
        rbf_bandwidth: h,
        ..MetricsParams::default()
    };
    let report = metrics_report_generic(x.view(), &params)
        .map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    let vp = VendiParams {
        kernel,
        ..VendiParams::default()
    };
    let vendi = match vendi_spectrum(x.view(), &vp) {
        Ok(s) => qs
            .iter()
            .map(|&q| {
                Ok(VendiRow {
                    q: q_name(q),
                    score: s.score(q).map_err(run_err)?,
                })
            })
            .collect::<Result<Vec<_>, Failure>>()?,
        Err(e) => return Err(Failure::Run(format!("{path}: vendi ({kernel_name}): {e}"))),
    };
    let per_class = match &labels_path {
        None => None,
        Some(lp) => {
            let src = FileSource::open(lp).map_err(Failure::Run)?;
            let labels = read_labels(&src, lp).map_err(|e| Failure::Run(format!("{lp}: {e}")))?;
            Some(
                vendi_per_class(x.view(), &labels, &vp)
                    .map_err(|e| Failure::Run(format!("{lp}: {e}")))?,
            )
        }
    };
    let mut stderr = std::io::stderr();
    for n in &report.notes {
        let _ = writeln!(stderr, "note: {n}");
    }
    let out = Output {
        file: path.clone(),
        tensor: tensor_name,
        kernel: kernel_name,
        bandwidth: h,
        vendi,
        report,
        per_class,
    };
    let text = if format == "csv" {
        csv(&out)
    } else {
        serde_json::to_string_pretty(&out).map_err(run_err)? + "\n"
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(run_err)
}

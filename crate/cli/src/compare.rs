//! `spectralab compare`: two checkpoints, or a base model and a PEFT LoRA adapter.
//!
//! ```text
//! spectralab compare BASE OTHER          [--k 10] [--eps 0.5] [--layers NAME,…] [--no-alpha] [--farms]
//! spectralab compare BASE --adapter DIR  [--format csv|json] [--fail-if 'intruders>0']...
//!                                        [--max-elements 16777216]
//! ```
//! A layer with more than `--max-elements` (m·n) is listed as unmatched rather than compared
//! (each pair costs full SVDs). Progress (`[k/n] layer`) goes to stderr, one line per layer, or
//! one updating line on a terminal.
//! BASE and OTHER are model files, folders of shards or `*.index.json` (as for `analyze`); DIR
//! holds `adapter_config.json` and `adapter_model.safetensors` (or `.bin`). Layers are paired by
//! name (see `spectralab_core::compare`). CSV: one row per compared layer on stdout; the
//! unmatched layers, notes and the summary go to stderr. JSON:
//! `{layers:[…], unmatched:[…], skipped:[…], summary:{…}, notes:[…]}`. `--fail-if` works as for
//! `analyze`: exit 1 when any compared layer satisfies `column op value`.

use crate::fileio::{self, FileSource};
use crate::{holds, parse_gate, Args, Cell, Failure};
use spectralab_core::compare::{
    compare_adapter_with, compare_sessions_with, comparison_to_csv, CompareParams, CompareReport,
    LayerComparison, LoraAdapter,
};
use spectralab_core::formats::ByteSource;
use spectralab_core::session::{AnalyzeOptions, ModelSession, NamedSource};
use std::io::Write;

fn open_model(path: &str) -> Result<ModelSession, Failure> {
    let files = fileio::model_files(&[path.to_string()]).map_err(Failure::Run)?;
    ModelSession::open(files, AnalyzeOptions::default())
        .map_err(|e| Failure::Run(format!("{path}: {e}")))
}

/// The files of an adapter folder (or of the folder of a given `adapter_model.*` /
/// `adapter_config.json`): the config and the weights, safetensors preferred over `.bin`.
fn adapter_files(dir: &str) -> Result<Vec<NamedSource>, Failure> {
    let p = std::path::Path::new(dir);
    let folder = if p.is_dir() {
        p.to_path_buf()
    } else {
        p.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf()
    };
    let mut out: Vec<NamedSource> = Vec::new();
    let pick = ["adapter_model.safetensors", "adapter_model.bin"]
        .iter()
        .map(|f| folder.join(f))
        .find(|f| f.is_file());
    let config = folder.join("adapter_config.json");
    if config.is_file() {
        let s = config.to_string_lossy().into_owned();
        let f = FileSource::open(&s).map_err(Failure::Run)?;
        out.push((s, Box::new(f) as Box<dyn ByteSource>));
    }
    if let Some(w) = pick {
        let s = w.to_string_lossy().into_owned();
        let f = FileSource::open(&s).map_err(Failure::Run)?;
        out.push((s, Box::new(f) as Box<dyn ByteSource>));
    }
    if out.is_empty() {
        return Err(Failure::Run(format!(
            "{dir}: no adapter_config.json nor adapter_model.safetensors there"
        )));
    }
    Ok(out)
}

fn column(l: &LayerComparison, name: &str) -> Option<f64> {
    serde_json::to_value(l).ok()?.get(name)?.as_f64()
}

pub fn run(mut a: Args) -> Result<(), Failure> {
    let mut p = CompareParams::default();
    if let Some(k) = a.number::<usize>("--k")? {
        p.k = k;
    }
    if let Some(e) = a.number::<f64>("--eps")? {
        p.eps = e;
    }
    if let Some(m) = a.number::<usize>("--max-elements")? {
        p.max_elements = m;
    }
    p.alpha = !a.flag("--no-alpha");
    p.farms = a.flag("--farms");
    if let Some(v) = a.value("--layers")? {
        p.layers = v
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
    }
    p.validate().map_err(|e| Failure::Usage(e.to_string()))?;
    let adapter_dir = a.value("--adapter")?;
    let format = a.value("--format")?.unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "json" {
        return Err(Failure::Usage(format!("--format: `{format}` (csv|json)")));
    }
    let mut gates = Vec::new();
    while let Some(g) = a.value("--fail-if")? {
        gates.push(parse_gate(&g)?);
    }
    if let Some(unknown) = a.0.iter().find(|x| x.starts_with("--")) {
        return Err(Failure::Usage(format!("unknown option {unknown}")));
    }
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut progress = |done: usize, total: usize, name: &str| {
        let mut e = std::io::stderr();
        let _ = match (tty, name.is_empty()) {
            (true, true) => write!(e, "\r\x1b[2K"),
            (true, false) => write!(e, "\r\x1b[2K[{}/{total}] {name}", done + 1),
            (false, true) => Ok(()),
            (false, false) => writeln!(e, "[{}/{total}] {name}", done + 1),
        };
    };
    let report: CompareReport = match (&adapter_dir, a.0.as_slice()) {
        (Some(dir), [base]) => {
            let base_s = open_model(base)?;
            let ad = LoraAdapter::open(adapter_files(dir)?)
                .map_err(|e| Failure::Run(format!("{dir}: {e}")))?;
            compare_adapter_with(&base_s, &ad, &p, &mut progress)
                .map_err(|e| Failure::Run(e.to_string()))?
        }
        (None, [base, other]) => {
            let base_s = open_model(base)?;
            let other_s = open_model(other)?;
            compare_sessions_with(&base_s, &other_s, &p, &mut progress)
                .map_err(|e| Failure::Run(e.to_string()))?
        }
        _ => {
            return Err(Failure::Usage(
                "compare needs BASE OTHER, or BASE --adapter DIR".into(),
            ))
        }
    };
    let mut stderr = std::io::stderr();
    for n in &report.notes {
        let _ = writeln!(stderr, "note: {n}");
    }
    let out = if format == "json" {
        serde_json::to_string_pretty(&report).map_err(|e| Failure::Run(e.to_string()))? + "\n"
    } else {
        for u in &report.unmatched {
            let _ = writeln!(stderr, "unmatched ({}): {}: {}", u.side, u.name, u.reason);
        }
        for u in &report.skipped {
            let _ = writeln!(stderr, "skipped ({}): {}: {}", u.side, u.name, u.reason);
        }
        comparison_to_csv(&report)
    };
    let s = &report.summary;
    let _ = writeln!(
        stderr,
        "{} layers compared, {} unmatched; intruders {} (ε = {}, k = {}), mean ΔW/W {:.4e}, SQNR {:.2} dB",
        s.layers, s.unmatched, s.intruders, s.eps, s.k, s.delta_rel_fro, s.sqnr_db_total
    );
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| Failure::Run(e.to_string()))?;
    let mut hits = Vec::new();
    for g in &gates {
        if report.layers.iter().all(|l| column(l, &g.column).is_none()) {
            return Err(Failure::Usage(format!(
                "--fail-if: no layer has a numeric column `{}`",
                g.column
            )));
        }
        for l in &report.layers {
            if let Some(x) = column(l, &g.column) {
                if holds(g, &Cell::Number(x)) == Some(true) {
                    hits.push(format!("{}: {} = {x} ({})", l.name, g.column, g.text));
                }
            }
        }
    }
    if !hits.is_empty() {
        return Err(Failure::Gate(hits.join("\n")));
    }
    Ok(())
}

//! `spectralab` — the native command line over the same core as the wasm builds.
//!
//! ```text
//! spectralab analyze FILE [--farms] [--mp-fit] [--randomize] [--seed N]
//!                         [--fix-fingers clip_xmax|xmin_peak] [--fit PL|TPL|E_TPL] [--xmax -K]
//!                         [--fast] [--layers NAME,…]
//!                         [--min-evals N] [--max-evals N] [--max-n N]
//!                         [--format csv|json] [--fail-if 'alpha>6']... [--allow-errors] [--plot DIR]
//! spectralab demo [--rows N] [--cols M] [--seed S]
//! spectralab compare BASE OTHER | BASE --adapter DIR [--k 10] [--eps 0.5] [--layers NAME,…]
//!                         [--no-alpha] [--farms] [--max-elements N] [--format csv|json] [--fail-if 'intruders>0']...
//! ```
//! `compare` pairs layers by name and reports ΔW metrics and intruder dimensions (`compare.rs`).
//! `--fast` computes f32 layers' Gram in f32 SIMD instead of f64 (see `AnalyzeParams::exact`).
//! `analyze` reads the file tensor by tensor with `pread` (never whole), prints the per-layer
//! table (WeightWatcher's columns) to stdout and a progress bar to stderr. `--fail-if` gates CI:
//! the run fails when any analysed layer satisfies the condition (`column op value`, op one of
//! `> >= < <= == != =`; a text value compares text: `status==failed`, and for `warning`, a
//! `;`-separated tag list, `warning==degenerate` holds when a tag is `degenerate` or starts with
//! `degenerate:`). `--layers` keeps the layers whose name contains one of the comma-separated
//! parts (or whose layer_id equals one), like WW's `layers=[…]`. `--plot DIR` also writes SVG
//! charts to `DIR` (`alpha.svg`, `esd_<layer>.svg`, `rank_<layer>.svg`; see `plot.rs`).
//! `FILE` may be a remote model: `hf://org/name[@rev][/file]` (endpoint `$HF_ENDPOINT`, default
//! https://huggingface.co) or an http(s) URL of a file (`…/resolve/main/model.safetensors`),
//! read by HTTP range requests: only headers and the analysed layers are fetched (`hub.rs`); the
//! bytes fetched are shown on stderr.
//!
//! Exit codes (all subcommands): 0 ok; 1 a `--fail-if` gate matched; 2 a layer could not be
//! analysed (a `status=error` row, e.g. a NaN weight; `--allow-errors` turns this off); 3 bad
//! input (usage error, unreadable or malformed file). When layers errored *and* a gate matched,
//! the exit code is 2: the gate was not evaluated on every layer.

mod compare;
mod compress;
mod fileio;
mod hub;
mod metrics;
mod plot;

use spectralab_core::linalg::{gram_eigenvalues, GramParams};
use spectralab_core::random::SeededRng;
use spectralab_core::session::{AnalyzeOptions, FitOption, FixFingersOption, ModelSession};
use spectralab_core::spectrum::analyze::{to_csv, LayerReport};
use spectralab_core::spectrum::marchenko_pastur_bounds;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage:
  spectralab analyze FILE [--farms] [--mp-fit] [--randomize] [--seed N]
                          [--fix-fingers clip_xmax|xmin_peak] [--fit PL|TPL|E_TPL] [--xmax -K] [--fast]
                          [--layers NAME,…]
                          [--min-evals N] [--max-evals N] [--max-n N]
                          [--format csv|json] [--fail-if 'alpha>6']... [--allow-errors] [--plot DIR]
  spectralab demo [--rows N] [--cols M] [--seed S]
  spectralab compare BASE OTHER | BASE --adapter DIR [--k 10] [--eps 0.5] [--layers NAME,…]
                     [--no-alpha] [--farms] [--max-elements N] [--format csv|json] [--fail-if 'intruders>0']...
  spectralab compress FILE [--budget 50%|BYTES | --error E] [--method uniform|energy|greedy|welore] [--objective absolute|relative] [--dtype f32|f16|int8|int4] [--plan OUT.json] [--format csv|json]
  spectralab metrics FILE [--tensor NAME] [--labels FILE.npy] [--q 0,0.5,1,2,inf]
                          [--kernel cosine|linear|rbf] [--bandwidth S|median] [--format csv|json]
  spectralab --version

analyze FILE may also be hf://org/name[@revision][/file] or an http(s) URL of a model file
(…/resolve/main/model.safetensors): read by HTTP range requests, only the analysed layers are
fetched; hub endpoint $HF_ENDPOINT (default https://huggingface.co).

--fail-if 'COLUMN OP VALUE' (repeatable; OP: > >= < <= == != =) fails the run when any analysed
layer matches, e.g. 'alpha<2', 'alpha>6', 'status==failed', 'warning==degenerate' (the warning
column lists WeightWatcher's over-trained/under-trained and degenerate:alpha-inf,
degenerate:few-tail, degenerate:entropy-range, degenerate:alpha-norm-inf, `;`-separated).

exit codes: 0 ok, 1 a --fail-if gate matched, 2 a layer could not be analysed (status=error;
--allow-errors accepts them), 3 bad input (usage error, unreadable or malformed file).";

enum Failure {
    /// Bad command line (exit 3).
    Usage(String),
    /// A `--fail-if` gate matched (exit 1).
    Gate(String),
    /// Layers that could not be analysed (exit 2).
    Errors(String),
    /// Unreadable or malformed input (exit 3).
    Run(String),
}

struct Args(Vec<String>);

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        match self.0.iter().position(|a| a == name) {
            Some(i) => {
                self.0.remove(i);
                true
            }
            None => false,
        }
    }
    fn value(&mut self, name: &str) -> Result<Option<String>, Failure> {
        match self.0.iter().position(|a| a == name) {
            None => Ok(None),
            Some(i) if i + 1 < self.0.len() => {
                let v = self.0.remove(i + 1);
                self.0.remove(i);
                Ok(Some(v))
            }
            Some(_) => Err(Failure::Usage(format!("{name} needs a value"))),
        }
    }
    fn number<T: std::str::FromStr>(&mut self, name: &str) -> Result<Option<T>, Failure> {
        self.value(name)?
            .map(|v| {
                v.parse()
                    .map_err(|_| Failure::Usage(format!("{name}: `{v}` is not a valid number")))
            })
            .transpose()
    }
}

/// What a `--fail-if` compares with: a number, or text (`==`/`!=` only).
enum GateValue {
    Number(f64),
    Text(String),
}

/// A `--fail-if` condition: `column op value`.
struct Gate {
    column: String,
    op: String,
    value: GateValue,
    text: String,
}

fn parse_gate(text: &str) -> Result<Gate, Failure> {
    for op in [">=", "<=", "==", "!=", ">", "<", "="] {
        if let Some((col, val)) = text.split_once(op) {
            let column = col.trim().to_string();
            let val = val.trim();
            if column.is_empty() {
                break;
            }
            let value = match val.parse::<f64>() {
                Ok(x) => GateValue::Number(x),
                Err(_) if matches!(op, "==" | "!=" | "=") => GateValue::Text(val.to_string()),
                Err(_) => {
                    return Err(Failure::Usage(format!(
                        "--fail-if `{text}`: `{val}` is not a number (text compares only with == or !=)"
                    )))
                }
            };
            return Ok(Gate {
                column,
                op: if op == "=" { "==".into() } else { op.into() },
                value,
                text: text.into(),
            });
        }
    }
    Err(Failure::Usage(format!(
        "--fail-if `{text}`: expected `column op value`, e.g. 'alpha>6' or 'warning==degenerate'"
    )))
}

/// A cell of a row for the gates: a number, text, or absent (`None`: empty cell).
pub(crate) enum Cell {
    Number(f64),
    Text(String),
}

fn column(l: &LayerReport, name: &str) -> Option<Cell> {
    // Columns that can be ±inf or NaN are read from the row itself: JSON would turn them into
    // null, and `alpha>6` must match the α = inf of a degenerate layer.
    let number = match name {
        "farms_alpha" => Some(l.farms.as_ref().map(|f| f.alpha)),
        "alpha" => Some(l.alpha),
        "xmin" => Some(l.xmin),
        "xmax" => Some(l.xmax),
        "D" => Some(l.d),
        "alpha_weighted" => Some(l.alpha_weighted),
        "log_alpha_norm" => Some(l.log_alpha_norm),
        "raw_alpha" => Some(l.raw_alpha),
        "alpha_hill" => Some(l.alpha_hill),
        "entropy" => Some(Some(l.entropy)),
        "stable_rank" => Some(Some(l.stable_rank)),
        "log_norm" => Some(Some(l.log_norm)),
        "log_spectral_norm" => Some(Some(l.log_spectral_norm)),
        _ => None,
    };
    if let Some(x) = number {
        return x.filter(|x| !x.is_nan()).map(Cell::Number);
    }
    let v = serde_json::to_value(l).ok()?;
    match v.get(name)? {
        serde_json::Value::Number(n) => n.as_f64().map(Cell::Number),
        serde_json::Value::String(s) => Some(Cell::Text(s.clone())),
        _ => None,
    }
}

/// Whether a `warning` cell (tags separated by `;`) has `tag`, or a tag `tag:…`.
fn has_tag(cell: &str, tag: &str) -> bool {
    cell.split(';')
        .map(str::trim)
        .any(|t| t == tag || t.strip_prefix(tag).is_some_and(|r| r.starts_with(':')))
}

/// Whether the gate matches a cell; `None` when they cannot be compared (number vs text).
fn holds(g: &Gate, cell: &Cell) -> Option<bool> {
    match (&g.value, cell) {
        (GateValue::Number(v), Cell::Number(x)) => Some(match g.op.as_str() {
            ">" => x > v,
            ">=" => x >= v,
            "<" => x < v,
            "<=" => x <= v,
            "==" => x == v,
            _ => x != v,
        }),
        (GateValue::Text(v), Cell::Text(x)) => {
            let eq = if g.column == "warning" {
                has_tag(x, v)
            } else {
                x == v
            };
            Some(if g.op == "==" { eq } else { !eq })
        }
        _ => None,
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Number(x) => format!("{x}"),
        Cell::Text(s) => format!("`{s}`"),
    }
}

fn analyze(mut a: Args) -> Result<(), Failure> {
    // The flags map one to one onto the options the bindings take (one parser: AnalyzeOptions).
    let usage = |e: spectralab_core::Error| Failure::Usage(e.to_string());
    let mut o = AnalyzeOptions {
        farms: a.flag("--farms"),
        mp_fit: a.flag("--mp-fit"),
        seed: a.number("--seed")?.unwrap_or(0),
        randomize: a.flag("--randomize"),
        fast: a.flag("--fast"),
        ..AnalyzeOptions::default()
    };
    if let Some(v) = a.value("--fix-fingers")? {
        o.fix_fingers = Some(v.parse::<FixFingersOption>().map_err(usage)?);
    }
    if let Some(v) = a.value("--fit")? {
        o.fit = Some(v.parse::<FitOption>().map_err(usage)?);
    }
    o.xmax = a.number::<i64>("--xmax")?;
    o.min_evals = a.number("--min-evals")?;
    o.max_evals = a.number("--max-evals")?;
    o.max_n = a.number("--max-n")?;
    let format = a.value("--format")?.unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "json" {
        return Err(Failure::Usage(format!("--format: `{format}` (csv|json)")));
    }
    let plot_dir = a.value("--plot")?;
    o.layers = a.value("--layers")?.map(|v| {
        v.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    });
    let mut gates = Vec::new();
    while let Some(g) = a.value("--fail-if")? {
        gates.push(parse_gate(&g)?);
    }
    let allow_errors = a.flag("--allow-errors");
    if let Some(unknown) = a.0.iter().find(|x| x.starts_with("--")) {
        return Err(Failure::Usage(format!("unknown option {unknown}")));
    }
    if a.0.is_empty() {
        return Err(Failure::Usage(
            "analyze needs a FILE, a folder of shards, a *.index.json, or hf://org/name".into(),
        ));
    }
    let filtered = o.layers.is_some();
    let path = a.0.join(" ");
    let mut download = None;
    let files = if a.0.len() == 1 && hub::is_remote(&a.0[0]) {
        let (_, files, stats) = hub::open(&a.0[0]).map_err(Failure::Run)?;
        download = Some(stats);
        files
    } else {
        fileio::model_files(&a.0).map_err(Failure::Run)?
    };
    let keep_evals = plot_dir.is_some();
    let mut session =
        ModelSession::open(files, o).map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    let t0 = Instant::now();
    let ggml_types = gguf_types(&session);
    let mut stderr = std::io::stderr();
    for note in session.notes() {
        let _ = writeln!(stderr, "note: {note}");
    }
    let tty = std::io::IsTerminal::is_terminal(&stderr);
    // Several layers per thread (bounded by bytes in analyze_all) so the pool can balance them.
    let batch = if session.params().gram.parallel {
        8 * spectralab_core::parallel::available_threads().max(1)
    } else {
        1
    };
    let progress = |done_b: u64, total_b: u64, done: usize, total: usize, name: &str| {
        // ETA from bytes, not layer counts: one big embedding outweighs many small layers.
        let eta = if done_b > 0 {
            t0.elapsed().as_secs_f64() / done_b as f64 * (total_b - done_b) as f64
        } else {
            0.0
        };
        let width = 30;
        let filled = ((width as u64 * done_b)
            .checked_div(total_b)
            .unwrap_or(width as u64)) as usize;
        let mut bar = format!(
            "[{}{}] {done}/{total} {name} ETA {eta:.1}s",
            "#".repeat(filled.min(width)),
            ".".repeat(width - filled.min(width))
        );
        if let Some(d) = &download {
            bar = format!("{bar} · {}", d.line());
        }
        let _ = if tty {
            write!(stderr, "\r\x1b[2K{bar}")
        } else {
            writeln!(stderr, "{bar}")
        };
        true
    };
    let mut report = session.analyze_all(batch, progress);
    if keep_evals {
        let todo = session.todo();
        for (l, pos) in report.layers.iter_mut().zip(todo) {
            l.evals = session.evals(pos).map(<[f64]>::to_vec);
        }
    }
    if tty {
        let _ = writeln!(stderr);
    }
    let _ = writeln!(
        stderr,
        "{} layers analysed, {} skipped, {:.2} s",
        report.layers.len(),
        report.skipped.len(),
        t0.elapsed().as_secs_f64()
    );
    if let Some(d) = &download {
        let _ = writeln!(stderr, "{}", d.line());
    }
    if let Some(dir) = &plot_dir {
        let (files, problems) =
            plot::write_charts(&report, std::path::Path::new(dir)).map_err(Failure::Run)?;
        for p in &problems {
            let _ = writeln!(stderr, "--plot: {p}");
        }
        let _ = writeln!(stderr, "{} charts written to {dir}", files.len());
        // The ESDs were kept for the charts only: the table stays as without --plot.
        for l in &mut report.layers {
            l.evals = None;
        }
    }
    let out = match (&ggml_types, format == "csv") {
        (None, true) => to_csv(&report),
        (None, false) => {
            serde_json::to_string_pretty(&report).map_err(|e| Failure::Run(e.to_string()))? + "\n"
        }
        (Some(types), csv) => with_ggml_type(&report, types, csv)?,
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| Failure::Run(e.to_string()))?;
    if report.layers.is_empty() && !filtered {
        return Err(Failure::Run(nothing_to_analyse(&path, &report)));
    }
    gate_and_errors(&report, &gates, allow_errors)
}

/// The message when a file (without a `--layers` filter) holds no analysable matrix: exit 3, as
/// for a malformed file, so that a CI gate cannot pass on an empty table. Lists the skip reasons
/// (the first 10).
fn nothing_to_analyse(
    path: &str,
    report: &spectralab_core::spectrum::analyze::ModelReport,
) -> String {
    let mut msg = format!(
        "{path}: no analysable weight matrix ({} tensor(s), all skipped)",
        report.skipped.len()
    );
    for s in report.skipped.iter().take(10) {
        msg.push_str(&format!(
            "\n  {}: {}",
            s.name,
            s.skip.as_deref().unwrap_or("skipped")
        ));
    }
    if report.skipped.len() > 10 {
        msg.push_str(&format!("\n  … and {} more", report.skipped.len() - 10));
    }
    msg
}

/// The verdict of an analysis: `Errors` (exit 2) when a layer could not be analysed (unless
/// `allow_errors`), else `Gate` (exit 1) when a gate matched an analysed layer. Error rows are
/// never gated (their cells are empty), so a gate can't pass because a layer errored.
fn gate_and_errors(
    report: &spectralab_core::spectrum::analyze::ModelReport,
    gates: &[Gate],
    allow_errors: bool,
) -> Result<(), Failure> {
    let analysed: Vec<&LayerReport> = report
        .layers
        .iter()
        .filter(|l| l.status != "error")
        .collect();
    let mut hits = Vec::new();
    for g in gates {
        let mut comparable = false;
        for l in &analysed {
            let Some(cell) = column(l, &g.column) else {
                continue;
            };
            if let Some(h) = holds(g, &cell) {
                comparable = true;
                if h {
                    hits.push(format!(
                        "{}: {} = {} ({})",
                        l.name,
                        g.column,
                        cell_text(&cell),
                        g.text
                    ));
                }
            }
        }
        if !comparable && !analysed.is_empty() {
            let kind = match g.value {
                GateValue::Number(_) => "numeric",
                GateValue::Text(_) => "text",
            };
            return Err(Failure::Usage(format!(
                "--fail-if `{}`: no analysed layer has a {kind} column `{}`",
                g.text, g.column
            )));
        }
    }
    let errors: Vec<String> = report
        .layers
        .iter()
        .filter(|l| l.status == "error")
        .map(|l| error_line(&l.name, l.reason.as_deref()))
        .collect();
    if !errors.is_empty() && !allow_errors {
        let mut msg = format!(
            "{} layer(s) could not be analysed (--allow-errors accepts them):\n{}",
            errors.len(),
            errors.join("\n")
        );
        if !hits.is_empty() {
            msg.push_str(&format!("\nand --fail-if matched:\n{}", hits.join("\n")));
        }
        return Err(Failure::Errors(msg));
    }
    if !hits.is_empty() {
        return Err(Failure::Gate(hits.join("\n")));
    }
    Ok(())
}

/// For a GGUF model: prints its type mix to stderr and returns each tensor's ggml type by name
/// (from the session's index: the header is not read again); `None` for other formats.
fn gguf_types(session: &ModelSession) -> Option<std::collections::HashMap<String, String>> {
    let info = session.info();
    if info.format != "gguf" {
        return None;
    }
    let mix: Vec<String> = info
        .dtypes
        .iter()
        .map(|(t, n)| format!("{t}:{n}"))
        .collect();
    eprintln!("GGUF: {} tensors ({})", info.tensors, mix.join(", "));
    Some(
        session
            .tensors()
            .iter()
            .filter_map(|t| {
                t.dtype
                    .as_ref()
                    .map(|d| (t.name.clone(), d.name().to_string()))
            })
            .collect(),
    )
}

/// The report with a `ggml_type` column (CSV: last column; JSON: a field of every row).
fn with_ggml_type(
    report: &spectralab_core::spectrum::analyze::ModelReport,
    types: &std::collections::HashMap<String, String>,
    csv: bool,
) -> Result<String, Failure> {
    let ty = |name: &str| types.get(name).cloned().unwrap_or_default();
    let names: Vec<&str> = report
        .layers
        .iter()
        .map(|l| l.name.as_str())
        .chain(report.skipped.iter().map(|s| s.name.as_str()))
        .collect();
    if csv {
        let table = to_csv(report);
        let lines: Vec<&str> = table.lines().collect();
        if lines.len() != names.len() + 1 {
            return Ok(table);
        }
        let mut out = format!("{},ggml_type\n", lines[0]);
        for (line, name) in lines[1..].iter().zip(&names) {
            out.push_str(&format!("{line},{}\n", ty(name)));
        }
        return Ok(out);
    }
    let mut v = serde_json::to_value(report).map_err(|e| Failure::Run(e.to_string()))?;
    for key in ["layers", "skipped"] {
        if let Some(rows) = v.get_mut(key).and_then(|r| r.as_array_mut()) {
            for row in rows {
                let name = row["name"].as_str().unwrap_or("").to_string();
                row["ggml_type"] = ty(&name).into();
            }
        }
    }
    Ok(serde_json::to_string_pretty(&v).map_err(|e| Failure::Run(e.to_string()))? + "\n")
}

fn demo(mut a: Args) -> Result<(), Failure> {
    let rows: usize = a.number("--rows")?.unwrap_or(2000);
    let cols: usize = a.number("--cols")?.unwrap_or(500);
    let seed: u64 = a.number("--seed")?.unwrap_or(1);
    if rows == 0 || cols == 0 || rows.saturating_mul(cols) > 1 << 28 {
        return Err(Failure::Usage(
            "--rows and --cols must be ≥ 1 with rows·cols ≤ 2^28".into(),
        ));
    }
    let sigma = (1.0 / rows as f64).sqrt() as f32;
    let w = SeededRng::new(seed)
        .gaussian_matrix_f32(rows, cols)
        .mapv(|v| v * sigma);
    let t = Instant::now();
    let ev = gram_eigenvalues(w.view(), &GramParams::default())
        .map_err(|e| Failure::Run(e.to_string()))?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let (lo, hi) = marchenko_pastur_bounds(rows, cols, 1.0 / rows as f64);
    println!("matrix        {rows} × {cols}, entries N(0, 1/{rows}), seed {seed}");
    println!(
        "eigenvalues   {} (of the smaller Gram), {ms:.1} ms",
        ev.len()
    );
    println!("λ_min, λ_max  {:.6}, {:.6}", ev[0], ev[ev.len() - 1]);
    println!("MP bulk edges {lo:.6}, {hi:.6}");
    Ok(())
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    let result = match cmd.as_deref() {
        Some("analyze") => analyze(Args(args)),
        Some("demo") => demo(Args(args)),
        Some("compress") => compress::run(Args(args)),
        Some("compare") => compare::run(Args(args)),
        Some("metrics") => metrics::run(Args(args)),
        Some("--version") | Some("-V") => {
            println!("spectralab {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("--help") | Some("-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Failure::Usage(format!("unknown command `{other}`"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Gate(msg)) => {
            eprintln!("spectralab: --fail-if matched:\n{msg}");
            ExitCode::from(1)
        }
        Err(Failure::Errors(msg)) => {
            eprintln!("spectralab: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("spectralab: {msg}\n{USAGE}");
            ExitCode::from(3)
        }
        Err(Failure::Run(msg)) => {
            eprintln!("spectralab: {msg}");
            ExitCode::from(3)
        }
    }
}

/// `name: reason` of an error row; a reason that already starts with the layer's name (most do:
/// the core names the tensor) is not prefixed again.
fn error_line(name: &str, reason: Option<&str>) -> String {
    let reason = reason.unwrap_or("error");
    if reason.starts_with(name) {
        reason.to_string()
    } else {
        format!("{name}: {reason}")
    }
}

//! `spectralab` — the native command line over the same core as the wasm builds.
//!
//! Commands (more arrive with the analysis engine):
//!   spectralab demo [--rows N] [--cols M] [--seed S]
//!       ESD of an N×M Gaussian matrix (entries N(0, 1/N)) against its Marchenko–Pastur edges.
//!   spectralab --version | --help

use spectralab_core::linalg::{gram_eigenvalues, GramParams};
use spectralab_core::random::SeededRng;
use spectralab_core::spectrum::marchenko_pastur_bounds;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: spectralab demo [--rows N] [--cols M] [--seed S]\n       spectralab --version";

fn parse_flag(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .ok_or_else(|| format!("{name} needs a value"))?
            .parse()
            .map_err(|_| format!("{name}: not a non-negative integer")),
    }
}

fn demo(args: &[String]) -> Result<(), String> {
    let rows = parse_flag(args, "--rows", 2000)? as usize;
    let cols = parse_flag(args, "--cols", 500)? as usize;
    let seed = parse_flag(args, "--seed", 1)?;
    if rows == 0 || cols == 0 || rows.saturating_mul(cols) > 1 << 28 {
        return Err("--rows and --cols must be ≥ 1 with rows·cols ≤ 2^28".into());
    }
    let sigma = (1.0 / rows as f64).sqrt() as f32;
    let w = SeededRng::new(seed).gaussian_matrix_f32(rows, cols).mapv(|v| v * sigma);
    let t = Instant::now();
    let ev = gram_eigenvalues(w.view(), &GramParams::default()).map_err(|e| e.to_string())?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let (lo, hi) = marchenko_pastur_bounds(rows, cols, 1.0 / rows as f64);
    println!("matrix        {rows} × {cols}, entries N(0, 1/{rows}), seed {seed}");
    println!("eigenvalues   {} (of the smaller Gram), {ms:.1} ms", ev.len());
    println!("λ_min, λ_max  {:.6}, {:.6}", ev[0], ev[ev.len() - 1]);
    println!("MP bulk edges {lo:.6}, {hi:.6}");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("--version") | Some("-V") => {
            println!("spectralab {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("--help") | Some("-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spectralab: {e}");
            ExitCode::from(2)
        }
    }
}

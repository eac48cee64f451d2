//! The whole malformed-input corpus (`tests/fixtures/malformed/corpus/manifest.json`, written by
//! `make_corpus.py`) through `spectralab analyze`: every entry gets its stated exit code and a
//! message on stderr naming the problem; no panic (exit 101), no hang (30 s per file).

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/malformed/corpus")
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
}

/// Runs the CLI with a wall-clock limit (killed past it). Output is read by threads so a full
/// pipe cannot block the child.
fn run(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).ok();
        s
    });
    let t0 = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > TIMEOUT {
            timed_out = true;
            child.kill().ok();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
        timed_out,
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn mentions_one(text: &str, needles: &[String]) -> bool {
    let t = text.to_lowercase();
    needles.iter().any(|n| t.contains(&n.to_lowercase()))
}

/// Checks one entry; returns a description of what went wrong, if anything.
fn check(e: &Value) -> Option<String> {
    let file = e["file"].as_str().unwrap();
    let path = corpus().join(file);
    let p = path.to_str().unwrap();
    let r = run(&["analyze", p, "--format", "csv"]);
    let want = e["exit"].as_i64().unwrap() as i32;
    let needles = strings(&e["message"]);
    let err = r.stderr.trim();
    let mut problems = vec![];
    if r.timed_out {
        problems.push(format!("no answer within {TIMEOUT:?}"));
    }
    if r.code == Some(101) || err.contains("panicked") {
        problems.push("panicked".into());
    }
    if r.code != Some(want) {
        problems.push(format!("exit code {:?}, expected {want}", r.code));
    }
    if !err.starts_with("spectralab: ") && !err.contains("\nspectralab: ") {
        problems.push("no `spectralab: …` message on stderr".into());
    }
    if !mentions_one(err, &needles) {
        problems.push(format!("stderr mentions none of {needles:?}"));
    }
    if e["expect"] == "nothing" && !err.contains("no analysable weight matrix") {
        problems.push("no `no analysable weight matrix` message".into());
    }
    if e["expect"] == "rows" {
        for name in strings(&e["error_rows"]) {
            if name != "*" && !err.contains(&format!("{name}: ")) {
                problems.push(format!("no error row for {name} on stderr"));
            }
        }
        for name in strings(&e["ok_rows"]) {
            let ok = r
                .stdout
                .lines()
                .any(|l| l.split(',').any(|c| c == name) && l.contains("success"));
            if !ok {
                problems.push(format!("{name} is not an analysed row of the table"));
            }
        }
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!(
            "{file}: {}\n    stderr: {}",
            problems.join("; "),
            err.replace('\n', "\n            ")
        ))
    }
}

#[test]
fn every_corpus_entry_gets_its_exit_code_and_a_clear_message() {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(corpus().join("manifest.json"))
            .expect("tests/fixtures/malformed/corpus/manifest.json (make_corpus.py)"),
    )
    .unwrap();
    let entries = manifest["entries"].as_array().unwrap();
    assert!(entries.len() >= 50, "corpus of {} entries", entries.len());
    let failures: Vec<String> = entries.iter().filter_map(check).collect();
    eprintln!(
        "malformed corpus via the CLI: {}/{} entries as expected",
        entries.len() - failures.len(),
        entries.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

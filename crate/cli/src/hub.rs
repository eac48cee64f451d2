//! Remote models read by HTTP range requests: `hf://org/name[@rev][/file]` (a Hugging Face Hub
//! repository, endpoint `$HF_ENDPOINT` or https://huggingface.co) and http(s) URLs of one file
//! (`…/resolve/<rev>/<file>` or any server that honours `Range`). The same rules as the page and
//! the Node API (web/engine/hub.js):
//! - each file is resolved once: the first request goes to the `resolve/` URL, the redirect to the
//!   CDN is followed by hand, and the final URL and the total size (Content-Range) are kept;
//! - every read is one `GET` with `Range: bytes=a-b` and no other header of ours; the answer must
//!   be a 206 with the matching Content-Range. A 200 (the server ignored Range) or a size that
//!   changed is an error, never a whole download; an expired CDN link (403/410) is resolved again
//!   once;
//! - a repository is opened through `model.safetensors.index.json` (its shards), else
//!   `model.safetensors`, else `pytorch_model.bin(.index.json)`; only headers are fetched at open,
//!   tensors when their layer is analysed (so `--layers` fetches only those layers);
//! - small reads fetch at least [`MIN_READ`] bytes and are cached; sequential reads double their
//!   read-ahead up to [`MAX_READ_AHEAD`].

use spectralab_core::formats::ByteSource;
use spectralab_core::session::NamedSource;
use spectralab_core::{Error, Result};
use std::collections::VecDeque;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
pub const MIN_READ: u64 = 256 << 10;
pub const MAX_READ_AHEAD: u64 = 8 << 20;
const MAX_INDEX: u64 = 64 << 20;
const CANDIDATES: [&str; 4] = [
    "model.safetensors.index.json",
    "model.safetensors",
    "pytorch_model.bin.index.json",
    "pytorch_model.bin",
];

/// Whether a command-line argument names a remote model.
pub fn is_remote(arg: &str) -> bool {
    let a = arg.trim().to_ascii_lowercase();
    a.starts_with("hf://") || a.starts_with("https://") || a.starts_with("http://")
}

/// Requests made, bytes received and the total size of the resolved files (shared by a model's files).
#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    pub size: AtomicU64,
}

impl Stats {
    pub fn line(&self) -> String {
        let mib = |n: u64| n as f64 / (1u64 << 20) as f64;
        format!(
            "downloaded {:.1} MiB of {:.1} MiB ({} requests)",
            mib(self.bytes.load(Ordering::Relaxed)),
            mib(self.size.load(Ordering::Relaxed)),
            self.requests.load(Ordering::Relaxed)
        )
    }
}

/// What the user named.
#[derive(Debug, PartialEq)]
pub enum ModelRef {
    Repo {
        dir_url: String,
        label: String,
    },
    File {
        url: String,
        dir_url: String,
        file: String,
    },
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Parses `hf://org/name[@rev][/file…]` or an http(s) URL (`/org/name[/tree/rev]`, or a
/// `/org/name/(resolve|blob)/rev/file…` URL, or any file URL).
pub fn parse_ref(spec: &str, endpoint: &str) -> std::result::Result<ModelRef, String> {
    let text = spec.trim();
    let ep = endpoint.trim_end_matches('/');
    if let Some(rest) = text
        .strip_prefix("hf://")
        .or_else(|| text.strip_prefix("HF://"))
    {
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        if parts.len() < 2 {
            return Err(format!("{text}: expected hf://org/name[@revision]"));
        }
        let (name, revision) = match parts[1].split_once('@') {
            Some((n, r)) => (n, r),
            None => (parts[1], "main"),
        };
        if !valid_segment(parts[0]) || !valid_segment(name) || revision.is_empty() {
            return Err(format!(
                "{text}: not a model id (org/name, optionally @revision)"
            ));
        }
        let dir_url = format!("{ep}/{}/{name}/resolve/{revision}/", parts[0]);
        if parts.len() > 2 {
            let file = parts[2..].join("/");
            return Ok(ModelRef::File {
                url: format!("{dir_url}{file}"),
                dir_url: format!("{dir_url}{}", dir_of(&file)),
                file: parts[parts.len() - 1].to_string(),
            });
        }
        let label = if revision == "main" {
            format!("{}/{name}", parts[0])
        } else {
            format!("{}/{name}@{revision}", parts[0])
        };
        return Ok(ModelRef::Repo { dir_url, label });
    }
    let (scheme, after) = text
        .split_once("://")
        .ok_or_else(|| format!("{text}: not a URL"))?;
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err(format!("{text}: only http(s) URLs can be read"));
    }
    let after = after.split(['?', '#']).next().unwrap_or("");
    let (host, path) = after.split_once('/').unwrap_or((after, ""));
    let origin = format!("{scheme}://{host}");
    let mut p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if p.len() >= 5 && (p[2] == "resolve" || p[2] == "blob") {
        p[2] = "resolve";
        let url = format!("{origin}/{}", p.join("/"));
        return Ok(ModelRef::File {
            dir_url: format!("{origin}/{}/", p[..p.len() - 1].join("/")),
            file: p[p.len() - 1].to_string(),
            url,
        });
    }
    let looks_file = p.last().is_some_and(|s| s.contains('.'));
    if (p.len() == 2 && !looks_file) || (p.len() == 4 && p[2] == "tree") {
        let rev = if p.len() == 4 { p[3] } else { "main" };
        return Ok(ModelRef::Repo {
            dir_url: format!("{origin}/{}/{}/resolve/{rev}/", p[0], p[1]),
            label: format!("{}/{}", p[0], p[1]),
        });
    }
    let file = p
        .last()
        .map(|s| s.to_string())
        .ok_or_else(|| format!("{text}: the URL names no file"))?;
    Ok(ModelRef::File {
        url: text.split(['?', '#']).next().unwrap_or(text).to_string(),
        dir_url: format!("{origin}/{}", dir_of(&p.join("/"))),
        file,
    })
}

fn dir_of(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => format!("{}/", &path[..=i].trim_end_matches('/')),
        None => String::new(),
    }
}

/// Joins a redirect target to the URL it came from.
fn join_location(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let (scheme, after) = base.split_once("://").unwrap_or(("https", base));
    let host = after.split('/').next().unwrap_or("");
    if loc.starts_with('/') {
        format!("{scheme}://{host}{loc}")
    } else {
        let dir = &base[..base.rfind('/').map_or(base.len(), |i| i + 1)];
        format!("{dir}{loc}")
    }
}

struct Answer {
    status: u16,
    url: String,
    content_range: Option<String>,
    body: Vec<u8>,
}

fn io(what: String) -> Error {
    Error::Io { what }
}

/// One `GET` with `Range: bytes=start-end`, redirects followed by hand (they keep the Range).
/// Only a 206's body is read, and a 200's when `whole` (a small JSON file, up to the index cap).
fn get_range(
    agent: &ureq::Agent,
    url: &str,
    start: u64,
    end: u64,
    whole: bool,
) -> std::result::Result<Answer, String> {
    let mut url = url.to_string();
    for _ in 0..8 {
        let mut resp = agent
            .get(&url)
            .header("Range", &format!("bytes={start}-{end}"))
            .call()
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let header = |k: &str| {
            resp.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if (300..400).contains(&status) {
            let loc =
                header("location").ok_or_else(|| format!("HTTP {status} without Location"))?;
            url = join_location(&url, &loc);
            continue;
        }
        let content_range = header("content-range");
        let mut body = Vec::new();
        if status == 200 && whole {
            resp.body_mut()
                .as_reader()
                .take(MAX_INDEX + 1)
                .read_to_end(&mut body)
                .map_err(|e| e.to_string())?;
        } else if status == 206 {
            let want = end - start + 1;
            resp.body_mut()
                .as_reader()
                .take(want + 1)
                .read_to_end(&mut body)
                .map_err(|e| e.to_string())?;
        }
        return Ok(Answer {
            status,
            url,
            content_range,
            body,
        });
    }
    Err("too many redirects".into())
}

fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?, total.parse().ok()?))
}

struct State {
    url: Option<String>,
    cache: VecDeque<(u64, Vec<u8>)>,
    next_seq: u64,
    ahead: u64,
}

/// One remote file: a [`ByteSource`] whose reads are range requests.
pub struct HttpFile {
    resolve_url: String,
    name: String,
    agent: ureq::Agent,
    stats: Arc<Stats>,
    len: u64,
    /// A small JSON file (an index): the Hub serves regular files itself and may send them
    /// whole (200); accepted for these only.
    small: bool,
    state: Mutex<State>,
}

/// An HTTP error status as a message (`status` kept for the 404 fallbacks).
struct StatusError {
    status: u16,
    message: String,
}

fn status_message(status: u16, name: &str, url: &str) -> String {
    match status {
        401 | 403 => format!("{name}: HTTP {status}: the model is gated or private, or does not exist (the Hub answers 401 for all three). spectralab sends no token: accept the terms / sign in on the Hub, download the files and analyse them from disk"),
        404 => format!("{name}: not found (HTTP 404 for {url})"),
        _ => format!("{name}: HTTP {status} from {url}"),
    }
}

impl HttpFile {
    /// Resolves the file (its first [`MIN_READ`] bytes come with it).
    fn open(
        url: &str,
        name: &str,
        agent: &ureq::Agent,
        stats: &Arc<Stats>,
    ) -> std::result::Result<HttpFile, StatusError> {
        let mut f = HttpFile {
            resolve_url: url.to_string(),
            name: name.to_string(),
            agent: agent.clone(),
            stats: stats.clone(),
            len: 0,
            small: name.to_ascii_lowercase().ends_with(".json"),
            state: Mutex::new(State {
                url: None,
                cache: VecDeque::new(),
                next_seq: u64::MAX,
                ahead: MIN_READ,
            }),
        };
        let mut st = State {
            url: None,
            cache: VecDeque::new(),
            next_seq: u64::MAX,
            ahead: MIN_READ,
        };
        let (_, total) = f.fetch(&mut st, 0, MIN_READ - 1, true, false, None)?;
        f.len = total;
        f.stats.size.fetch_add(total, Ordering::Relaxed);
        f.state = Mutex::new(st);
        Ok(f)
    }

    /// GETs bytes start..=end (clipped to the file); caches small answers. Returns the body and
    /// the file's total size, which must equal `expect_len` when given.
    fn fetch(
        &self,
        st: &mut State,
        start: u64,
        end: u64,
        resolving: bool,
        retried: bool,
        expect_len: Option<u64>,
    ) -> std::result::Result<(Vec<u8>, u64), StatusError> {
        let url = match (&st.url, resolving) {
            (Some(u), false) => u.clone(),
            _ => self.resolve_url.clone(),
        };
        let err = |status: u16, message: String| StatusError { status, message };
        let whole = self.small && expect_len.is_none();
        let r = get_range(&self.agent, &url, start, end, whole).map_err(|e| {
            err(
                0,
                format!(
                    "{}: network error ({e}): the server is unreachable or offline",
                    self.name
                ),
            )
        })?;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes
            .fetch_add(r.body.len() as u64, Ordering::Relaxed);
        if (r.status == 403 || r.status == 410) && !resolving && !retried {
            st.url = None;
            return self.fetch(st, start, end, true, true, expect_len);
        }
        if r.status == 200 && whole && r.body.len() as u64 <= MAX_INDEX {
            let len = r.body.len() as u64;
            st.cache.push_back((0, r.body.clone()));
            return Ok((r.body, len));
        }
        if r.status == 200 {
            return Err(err(200, format!("{}: the server ignored the byte range (HTTP 200 instead of 206) and would send the whole file; refusing to download it whole (download it and analyse it from disk)", self.name)));
        }
        if r.status != 206 {
            return Err(err(r.status, status_message(r.status, &self.name, &url)));
        }
        let (a, b, total) = r
            .content_range
            .as_deref()
            .and_then(parse_content_range)
            .ok_or_else(|| {
                err(
                    206,
                    format!(
                        "{}: the 206 answer has no readable Content-Range",
                        self.name
                    ),
                )
            })?;
        if let Some(len) = expect_len.filter(|&l| l != total) {
            return Err(err(
                206,
                format!(
                    "{}: the file changed on the server ({len} bytes, now {total})",
                    self.name
                ),
            ));
        }
        let want = end.min(total.saturating_sub(1));
        if a != start || b != want || r.body.len() as u64 != want + 1 - start {
            return Err(err(
                206,
                format!(
                    "{}: the server sent bytes {a}-{b} ({} bytes) for the range {start}-{want}",
                    self.name,
                    r.body.len()
                ),
            ));
        }
        st.url = Some(r.url);
        if (r.body.len() as u64) <= MAX_READ_AHEAD {
            st.cache.push_back((start, r.body.clone()));
            if st.cache.len() > 6 {
                st.cache.pop_front();
            }
        }
        Ok((r.body, total))
    }
}

impl ByteSource for HttpFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = buf.len() as u64;
        if offset.checked_add(n).is_none_or(|e| e > self.len) {
            return Err(io(format!(
                "{}: read of {n} bytes at {offset} past the end ({} bytes)",
                self.name, self.len
            )));
        }
        let mut st = self
            .state
            .lock()
            .map_err(|_| io("remote reader poisoned".into()))?;
        // The cached prefix is not fetched again.
        let mut pos = offset;
        'outer: while pos < offset + n {
            for (cs, bytes) in &st.cache {
                let ce = cs + bytes.len() as u64;
                if pos >= *cs && pos < ce {
                    let take = ce.min(offset + n) - pos;
                    let from = (pos - cs) as usize;
                    let to = (pos - offset) as usize;
                    buf[to..to + take as usize].copy_from_slice(&bytes[from..from + take as usize]);
                    pos += take;
                    continue 'outer;
                }
            }
            break;
        }
        if pos == offset + n {
            return Ok(());
        }
        st.ahead = if offset == st.next_seq {
            (st.ahead * 2).min(MAX_READ_AHEAD)
        } else {
            MIN_READ
        };
        st.next_seq = offset + n;
        let rest = offset + n - pos;
        let end = (pos + rest.max(st.ahead)).min(self.len) - 1;
        let (body, _) = self
            .fetch(&mut st, pos, end, false, false, Some(self.len))
            .map_err(|e| io(e.message))?;
        let to = (pos - offset) as usize;
        buf[to..].copy_from_slice(&body[..rest as usize]);
        Ok(())
    }
}

/// Opens a remote model: `(label, files, stats)`. Only headers (and the index) are fetched.
pub fn open(spec: &str) -> std::result::Result<(String, Vec<NamedSource>, Arc<Stats>), String> {
    let endpoint = std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.into());
    let r = parse_ref(spec, &endpoint)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let stats = Arc::new(Stats::default());
    let (label, dir_url, first) = match r {
        ModelRef::Repo { dir_url, label } => {
            let mut found = None;
            for c in CANDIDATES {
                match HttpFile::open(&format!("{dir_url}{c}"), c, &agent, &stats) {
                    Ok(f) => {
                        found = Some(f);
                        break;
                    }
                    Err(e) if e.status == 404 => continue,
                    Err(e) => return Err(e.message),
                }
            }
            let f = found.ok_or_else(|| {
                format!("{label}: none of {} found (HTTP 404). Check the id; for GGUF or other files give the file's …/resolve/<revision>/<file> URL", CANDIDATES.join(", "))
            })?;
            (label, dir_url, f)
        }
        ModelRef::File { url, dir_url, file } => {
            let f = HttpFile::open(&url, &file, &agent, &stats).map_err(|e| e.message)?;
            (file, dir_url, f)
        }
    };
    let mut files: Vec<NamedSource> = Vec::new();
    if first.name.to_ascii_lowercase().ends_with(".index.json") {
        if first.len > MAX_INDEX {
            return Err(format!("{}: too large for an index file", first.name));
        }
        let mut text = vec![0u8; first.len as usize];
        first.read_at(0, &mut text).map_err(|e| e.to_string())?;
        let doc: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| format!("{}: not JSON ({e})", first.name))?;
        let map = doc
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| format!("{}: no weight_map object", first.name))?;
        let mut shards: Vec<String> = Vec::new();
        for v in map.values() {
            let s = v
                .as_str()
                .ok_or_else(|| format!("{}: a weight_map value is not a file name", first.name))?;
            if s.contains("..") || s.starts_with('/') || s.contains("://") {
                return Err(format!("{}: refusing shard path `{s}`", first.name));
            }
            if !shards.iter().any(|x| x == s) {
                shards.push(s.to_string());
            }
        }
        let name = first.name.clone();
        files.push((name, Box::new(first)));
        for s in shards {
            let f = HttpFile::open(&format!("{dir_url}{s}"), &s, &agent, &stats)
                .map_err(|e| e.message)?;
            files.push((s, Box::new(f)));
        }
    } else {
        let name = first.name.clone();
        files.push((name, Box::new(first)));
    }
    Ok((label, files, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let ep = "http://127.0.0.1:1";
        assert_eq!(
            parse_ref("hf://org/name", ep).unwrap(),
            ModelRef::Repo {
                dir_url: format!("{ep}/org/name/resolve/main/"),
                label: "org/name".into()
            }
        );
        assert_eq!(
            parse_ref("hf://org/name@v2/sub/m.gguf", ep).unwrap(),
            ModelRef::File {
                url: format!("{ep}/org/name/resolve/v2/sub/m.gguf"),
                dir_url: format!("{ep}/org/name/resolve/v2/sub/"),
                file: "m.gguf".into()
            }
        );
        assert_eq!(
            parse_ref(
                "https://huggingface.co/o/n/blob/main/x.safetensors?download=1",
                ep
            )
            .unwrap(),
            ModelRef::File {
                url: "https://huggingface.co/o/n/resolve/main/x.safetensors".into(),
                dir_url: "https://huggingface.co/o/n/resolve/main/".into(),
                file: "x.safetensors".into()
            }
        );
        assert!(matches!(
            parse_ref("https://huggingface.co/o/n/tree/dev", ep).unwrap(),
            ModelRef::Repo { dir_url, .. } if dir_url == "https://huggingface.co/o/n/resolve/dev/"
        ));
        for bad in ["hf://org", "hf://or g/x", "ftp://a/b"] {
            assert!(parse_ref(bad, ep).is_err(), "{bad}");
        }
        assert_eq!(
            join_location("http://h:1/a/b", "/cdn/x"),
            "http://h:1/cdn/x"
        );
        assert_eq!(join_location("http://h/a/b", "c"), "http://h/a/c");
        assert_eq!(parse_content_range("bytes 0-9/100"), Some((0, 9, 100)));
        assert_eq!(parse_content_range("bytes */100"), None);
    }
}

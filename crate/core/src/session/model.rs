//! [`ModelSession`]: one opened model — one file or many shards — with its merged tensor index,
//! its layer plans and a cache of every analysed layer's eigenvalues.
//!
//! ## Opening
//! [`ModelSession::open`] takes named byte sources: one model file, several shards, or a folder's
//! files with a Hugging Face index (`model.safetensors.index.json`,
//! `pytorch_model.bin.index.json`). Files that are not models (`config.json`, tokenizers) are
//! ignored and listed in [`ModelSession::notes`].
//! - **With an index**, its `weight_map` (tensor → shard file) decides which shards belong to
//!   the model. A shard the index names but that was not given, or whose header is malformed, is
//!   a clear error *per tensor it should hold* (an `error` row naming the shard); every other
//!   shard is still analysed. A tensor the index maps to a shard that does not contain it is an
//!   error row too.
//! - **Without an index**, every model file given is a shard.
//! - A tensor name that occurs in two shards is an error row naming both (never silently one).
//! - Headers are read once, here; analyses never re-read them.
//!
//! ## Order (network depth)
//! Hugging Face writers store tensors sorted by name, so `layers.10` comes before `layers.2`
//! and `lm_head` before `model.embed_tokens`. The merged list is put in **depth order** whenever
//! it is in plain lexicographic order (HF's writers) or the model has several shards:
//! 1. names without a number that look like embeddings (`embed`, `wte`, `wpe`, `tok_`,
//!    `token_embd`, `word_emb`);
//! 2. names with a number, by their first number (the block: `layers.2` before `layers.10`),
//!    then in natural order (names compared piecewise, runs of digits as numbers);
//! 3. the other names without a number (final norm, `lm_head`, pooler, `output`).
//!
//! GGUF files (`token_embd`, `blk.N.*`, `output`) are always put in depth order. A single file in
//! any other order (numpy, our own writers) keeps its file order. `layer_id`
//! counts the `.weight` tensors in that order, as WeightWatcher does.
//!
//! ## Analysis
//! Layers whose decoded size is at most [`StreamParams::stream_above_bytes`] are read whole and
//! analysed in batches (in parallel over layers in threaded builds); larger dense layers are
//! streamed by row blocks ([`crate::spectrum::stream`]), so their memory is bounded by the Gram.
//! Every analysed layer's ESD stays in the session ([`ModelSession::evals`]).

use std::collections::{HashMap, HashSet};

use super::options::AnalyzeOptions;
use crate::formats::{
    can_read_blocks, read_block, read_index, read_tensor, ByteSource, Dtype, ReadParams,
    TensorData, TensorIndex,
};
use crate::spectrum::analyze::{
    analyze_loaded, error_report, select_layers, summarize, AnalyzeParams, LayerReport, ModelReport,
};
use crate::spectrum::layers::{plan_layers, LayerKind, LayerPlan};
use crate::spectrum::stream::{analyze_streamed_layer, StreamParams};

/// Most decoded bytes read ahead for one batch of [`ModelSession::analyze_all`].
pub const BATCH_BYTES: u64 = 256 << 20;
use crate::{Error, Result};

/// A named byte source: one file of a model (its name or path, and its bytes).
pub type NamedSource = (String, Box<dyn ByteSource>);

/// One file of the model.
pub struct Shard {
    /// The file name as given (a path or a bare name).
    pub name: String,
    source: Box<dyn ByteSource>,
    /// Its headers, or why they could not be read.
    pub index: std::result::Result<TensorIndex, String>,
}

/// Where a tensor of the merged model lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensorLocation {
    /// Entry `entry` of shard `shard`'s index.
    Found { shard: usize, entry: usize },
    /// The tensor cannot be read: the message says why (missing or broken shard, duplicate…).
    Broken(String),
}

/// One tensor of the merged model.
#[derive(Debug, Clone)]
pub struct ModelTensor {
    /// Its name (as in the checkpoint).
    pub name: String,
    /// Element type (`None` when its shard could not be read).
    pub dtype: Option<Dtype>,
    /// Shape (empty when unknown).
    pub shape: Vec<usize>,
    /// Where its bytes are.
    pub location: TensorLocation,
}

/// Summary of an opened model (for the page header and the CLI).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// The model's name: the index file's or the single file's name.
    pub name: String,
    /// Container format of the first readable shard (`safetensors`, `npz`, …).
    pub format: String,
    /// Shard file names, in order.
    pub shards: Vec<String>,
    /// Total bytes of all shards.
    pub bytes: u64,
    /// Number of tensors and of parameters (elements) over readable tensors.
    pub tensors: usize,
    pub parameters: u64,
    /// `(dtype, tensor count)`, most frequent first.
    pub dtypes: Vec<(String, usize)>,
    /// Planned layers that will be analysed, and skipped tensors.
    pub layers: usize,
    pub skipped: usize,
    /// Problems found while opening (missing shards, ignored files…).
    pub notes: Vec<String>,
}

/// An opened model (see the module doc).
pub struct ModelSession {
    name: String,
    shards: Vec<Shard>,
    tensors: Vec<ModelTensor>,
    plans: Vec<LayerPlan>,
    options: AnalyzeOptions,
    params: AnalyzeParams,
    /// Limits of the streaming path (public so tests and benchmarks can force streaming).
    pub stream: StreamParams,
    evals: HashMap<usize, Vec<f64>>,
    rows: HashMap<usize, LayerReport>,
    notes: Vec<String>,
    /// Measured quantization options by position (see [`super::quant`]).
    pub(super) quant:
        HashMap<usize, std::result::Result<crate::compress::quant_plan::QuantLayer, String>>,
}

/// Extensions of the files a model can consist of.
const MODEL_EXTENSIONS: &[&str] = &[
    "safetensors",
    "npy",
    "npz",
    "bin",
    "pt",
    "pth",
    "ckpt",
    "gguf",
];

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn extension(path: &str) -> String {
    let b = base_name(path);
    match b.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Natural order of two names: runs of ASCII digits compare as numbers, the rest byte-wise.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let si = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            // Compare without leading zeros: by length, then digit by digit.
            let x = trim_zeros(&a[si..i]);
            let y = trim_zeros(&b[sj..j]);
            let o = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
            if o != Ordering::Equal {
                return o;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// Depth group of a tensor name: 0 = before the blocks (embeddings), 1 = in a numbered block,
/// 2 = after them (final norm, `lm_head`, pooler, `output`). See the module doc.
fn depth_group(name: &str) -> (u8, u64) {
    let first_number = name
        .split(|c: char| !c.is_ascii_digit())
        .find(|t| !t.is_empty())
        .map(|t| t.parse::<u64>().unwrap_or(u64::MAX));
    match first_number {
        Some(n) => (1, n),
        None => {
            let l = name.to_ascii_lowercase();
            let early = ["embed", "wte", "wpe", "tok_", "token_embd", "word_emb"];
            (
                if early.iter().any(|e| l.contains(e)) {
                    0
                } else {
                    2
                },
                0,
            )
        }
    }
}

/// Network-depth order: embeddings, then numbered blocks by their first number (natural order
/// inside a block), then everything else (see the module doc).
pub fn depth_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    depth_group(a)
        .cmp(&depth_group(b))
        .then_with(|| natural_cmp(a, b))
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let k = d.iter().position(|&c| c != b'0').unwrap_or(d.len());
    &d[k..]
}

/// The `weight_map` of a Hugging Face index: `(tensor, shard file)` in the index's order, and
/// `metadata.total_size` if present.
/// `(tensor, shard file)` pairs of an index's `weight_map`, and its `metadata.total_size`.
type HfIndex = (Vec<(String, String)>, Option<u64>);

fn parse_hf_index(text: &[u8], name: &str) -> Result<HfIndex> {
    let bad = |why: String| Error::Format {
        what: format!("{name}: {why}"),
    };
    let v: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
    let map = v
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| bad("no `weight_map` object".into()))?;
    let mut out = Vec::with_capacity(map.len());
    for (tensor, file) in map {
        let f = file
            .as_str()
            .ok_or_else(|| bad(format!("weight_map[`{tensor}`] is not a file name")))?;
        out.push((tensor.clone(), f.to_string()));
    }
    let total = v
        .get("metadata")
        .and_then(|m| m.get("total_size"))
        .and_then(|t| t.as_u64());
    Ok((out, total))
}

/// Largest index file read (the Hub's biggest indexes are a few MB).
const MAX_INDEX_JSON: u64 = 64 << 20;

impl ModelSession {
    /// Opens a model from named byte sources (see the module doc). Errors only when nothing
    /// analysable was given (no model file, an empty folder, an unreadable index, or a single
    /// file whose header is malformed); problems with some shards become error rows and notes.
    pub fn open(
        files: Vec<(String, Box<dyn ByteSource>)>,
        options: AnalyzeOptions,
    ) -> Result<Self> {
        let mut notes = Vec::new();
        let mut index_file = None;
        let mut models: Vec<NamedSource> = Vec::new();
        for (name, src) in files {
            let b = base_name(&name).to_string();
            if b.ends_with(".index.json") {
                if index_file.is_some() {
                    return Err(Error::Format {
                        what: format!(
                            "two index files given (`{b}` and another): open one model at a time"
                        ),
                    });
                }
                index_file = Some((name, src));
            } else if MODEL_EXTENSIONS.contains(&extension(&name).as_str()) {
                models.push((name, src));
            } else {
                notes.push(format!("ignored `{b}`: not a model file"));
            }
        }
        if index_file.is_none() && models.is_empty() {
            return Err(Error::Format {
                what: "no model file given (expected .safetensors, .npy, .npz, .bin, .pt, .gguf or a *.index.json with its shards)".into(),
            });
        }
        models.sort_by(|a, b| natural_cmp(base_name(&a.0), base_name(&b.0)));
        let single = index_file.is_none() && models.len() == 1;
        let name = match (&index_file, models.first()) {
            (Some((n, _)), _) => base_name(n).to_string(),
            (None, Some((n, _))) if single => base_name(n).to_string(),
            (None, Some((n, _))) => format!("{} (+{} shards)", base_name(n), models.len() - 1),
            (None, None) => unreachable!("checked above"),
        };
        // Headers: read once.
        let mut shards = Vec::with_capacity(models.len());
        for (name, source) in models {
            let index = match read_index(&*source, &name) {
                Ok(ix) => Ok(ix),
                // One file that cannot be read: its own error (it names the file).
                Err(e) if single => return Err(e),
                Err(e) => Err(e.to_string()),
            };
            shards.push(Shard {
                name,
                source,
                index,
            });
        }
        let mut tensors = Vec::new();
        match index_file {
            Some((iname, src)) => {
                let len = src.len();
                if len > MAX_INDEX_JSON {
                    return Err(Error::Format {
                        what: format!("{iname}: {len} bytes is too large for an index file"),
                    });
                }
                let mut text = vec![0u8; len as usize];
                src.read_at(0, &mut text)?;
                let (map, total) = parse_hf_index(&text, base_name(&iname))?;
                Self::merge_with_index(&shards, &map, &mut tensors, &mut notes);
                let mut used: HashSet<&str> = HashSet::new();
                for (_, f) in &map {
                    used.insert(f.as_str());
                }
                for s in &shards {
                    if !used.contains(base_name(&s.name)) {
                        notes.push(format!(
                            "`{}` is not named by the index: ignored",
                            base_name(&s.name)
                        ));
                    }
                }
                if let Some(total) = total {
                    let sum: u64 = tensors
                        .iter()
                        .filter_map(|t: &ModelTensor| match t.location {
                            TensorLocation::Found { shard, entry } => shards[shard]
                                .index
                                .as_ref()
                                .ok()
                                .map(|ix| ix.tensors[entry].byte_len),
                            _ => None,
                        })
                        .sum();
                    if sum != total
                        && tensors
                            .iter()
                            .all(|t| matches!(t.location, TensorLocation::Found { .. }))
                    {
                        notes.push(format!(
                            "the index says the tensors hold {total} bytes; the shards hold {sum}"
                        ));
                    }
                }
            }
            None => Self::merge_all(&shards, &mut tensors, &mut notes),
        }
        // Depth order (see the module doc).
        let lexicographic = tensors.windows(2).all(|w| w[0].name <= w[1].name);
        let gguf = shards.iter().any(|s| {
            s.index
                .as_ref()
                .is_ok_and(|ix| ix.format == crate::formats::FileFormat::Gguf)
        });
        if shards.len() > 1 || lexicographic || gguf {
            tensors.sort_by(|a, b| depth_cmp(&a.name, &b.name));
        }
        // Shards that only serve as files are kept; unreadable ones noted.
        for s in &mut shards {
            if let Err(e) = &s.index {
                notes.push(format!(
                    "shard `{}` cannot be read: {e}",
                    base_name(&s.name)
                ));
            }
        }
        let mut session = ModelSession {
            name,
            shards,
            tensors,
            plans: Vec::new(),
            options: AnalyzeOptions::default(),
            params: AnalyzeParams::default(),
            stream: StreamParams::default(),
            evals: HashMap::new(),
            rows: HashMap::new(),
            notes,
            quant: HashMap::new(),
        };
        session.set_options(options);
        Ok(session)
    }

    fn tensor_from(shards: &[Shard], shard: usize, entry: usize) -> ModelTensor {
        let e = &shards[shard]
            .index
            .as_ref()
            .expect("readable shard")
            .tensors[entry];
        ModelTensor {
            name: e.name.clone(),
            dtype: Some(e.dtype.clone()),
            shape: e.shape.clone(),
            location: TensorLocation::Found { shard, entry },
        }
    }

    fn merge_all(shards: &[Shard], out: &mut Vec<ModelTensor>, notes: &mut Vec<String>) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (si, s) in shards.iter().enumerate() {
            let Ok(ix) = &s.index else {
                out.push(ModelTensor {
                    name: base_name(&s.name).to_string(),
                    dtype: None,
                    shape: Vec::new(),
                    location: TensorLocation::Broken(format!(
                        "shard `{}` cannot be read: {}",
                        base_name(&s.name),
                        s.index.as_ref().err().map(String::as_str).unwrap_or("")
                    )),
                });
                continue;
            };
            for (ei, e) in ix.tensors.iter().enumerate() {
                if let Some(&first) = seen.get(&e.name) {
                    let msg = format!(
                        "duplicate tensor `{}`: in shard `{}` and in shard `{}`",
                        e.name,
                        base_name(&shards[first].name),
                        base_name(&s.name)
                    );
                    notes.push(msg.clone());
                    // Both copies become error rows: neither is silently preferred.
                    for t in out.iter_mut().filter(|t| t.name == e.name) {
                        t.location = TensorLocation::Broken(msg.clone());
                    }
                    continue;
                }
                seen.insert(e.name.clone(), si);
                out.push(Self::tensor_from(shards, si, ei));
            }
        }
    }

    fn merge_with_index(
        shards: &[Shard],
        map: &[(String, String)],
        out: &mut Vec<ModelTensor>,
        notes: &mut Vec<String>,
    ) {
        let by_file: HashMap<&str, usize> = shards
            .iter()
            .enumerate()
            .map(|(i, s)| (base_name(&s.name), i))
            .collect();
        let mut missing_noted = HashSet::new();
        let mut mapped: HashSet<(usize, &str)> = HashSet::new();
        for (tensor, file) in map {
            let broken = |why: String| ModelTensor {
                name: tensor.clone(),
                dtype: None,
                shape: Vec::new(),
                location: TensorLocation::Broken(why),
            };
            let Some(&si) = by_file.get(file.as_str()) else {
                if missing_noted.insert(file.clone()) {
                    notes.push(format!("shard `{file}` named by the index is missing"));
                }
                out.push(broken(format!(
                    "shard `{file}` is missing (named by the index)"
                )));
                continue;
            };
            let ix = match &shards[si].index {
                Ok(ix) => ix,
                Err(e) => {
                    out.push(broken(format!("shard `{file}` cannot be read: {e}")));
                    continue;
                }
            };
            match ix.tensors.iter().position(|t| &t.name == tensor) {
                Some(ei) => {
                    mapped.insert((si, tensor.as_str()));
                    out.push(Self::tensor_from(shards, si, ei));
                }
                None => out.push(broken(format!(
                    "the index maps `{tensor}` to `{file}`, which does not contain it"
                ))),
            }
        }
        // Tensors a shard holds that the index does not name (or names elsewhere).
        for (si, s) in shards.iter().enumerate() {
            if let Ok(ix) = &s.index {
                for e in &ix.tensors {
                    if !mapped.contains(&(si, e.name.as_str()))
                        && map.iter().any(|(t, _)| t == &e.name)
                    {
                        notes.push(format!(
                            "duplicate tensor `{}`: also in shard `{}` (the index maps it elsewhere; that copy is ignored)",
                            e.name,
                            base_name(&s.name)
                        ));
                    }
                }
            }
        }
    }

    /// Sets the analysis options: re-plans the walk and forgets cached spectra.
    pub fn set_options(&mut self, options: AnalyzeOptions) {
        self.params = options.to_params();
        let described: Vec<(String, Vec<usize>, Option<String>)> = self
            .tensors
            .iter()
            .map(|t| {
                let problem = match (&t.location, &t.dtype) {
                    (TensorLocation::Broken(_), _) => None,
                    (_, Some(Dtype::Ggml(g))) if !g.can_dequantize() => {
                        Some(format!("unsupported GGUF type {g}"))
                    }
                    (_, Some(d)) if !d.is_supported() => Some(format!(
                        "unsupported dtype {d} (supported: F64, F32, F16, BF16, GGUF quantized types)"
                    )),
                    _ => None,
                };
                (t.name.clone(), t.shape.clone(), problem)
            })
            .collect();
        let mut walk = self.params.walk;
        if !self.tensors.iter().any(|t| t.name.ends_with(".weight")) {
            walk.weights_only = false;
        }
        let mut plans = plan_layers(&described, &walk);
        // Broken tensors are error rows, not skips (their shape is unknown).
        for (p, t) in plans.iter_mut().zip(&self.tensors) {
            if matches!(t.location, TensorLocation::Broken(_))
                && (!walk.weights_only || t.name.ends_with(".weight") || t.dtype.is_none())
            {
                p.skip = None;
                p.kind = None;
            }
        }
        select_layers(&mut plans, options.layer_filter());
        self.plans = plans;
        self.options = options;
        self.evals.clear();
        self.rows.clear();
    }

    /// The model's name (index or file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The options in force.
    pub fn options(&self) -> &AnalyzeOptions {
        &self.options
    }

    /// The analysis parameters in force.
    pub fn params(&self) -> &AnalyzeParams {
        &self.params
    }

    /// Every tensor of the merged model, in depth order (see the module doc).
    pub fn tensors(&self) -> &[ModelTensor] {
        &self.tensors
    }

    /// The layer walk: one plan per tensor (`skip` says why one is not analysed).
    pub fn plans(&self) -> &[LayerPlan] {
        &self.plans
    }

    /// Problems found while opening.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The metadata of every readable shard, in shard order (safetensors `__metadata__`, GGUF
    /// keys rendered as text; see [`crate::formats::TensorIndex::metadata`]).
    pub fn metadata(&self) -> Vec<(String, String)> {
        self.shards
            .iter()
            .filter_map(|s| s.index.as_ref().ok())
            .flat_map(|ix| ix.metadata.iter().cloned())
            .collect()
    }

    /// Positions (into [`Self::plans`]) of the layers an analysis runs on.
    pub fn todo(&self) -> Vec<usize> {
        (0..self.plans.len())
            .filter(|&i| self.plans[i].skip.is_none())
            .collect()
    }

    /// A summary of the opened model.
    pub fn info(&self) -> ModelInfo {
        let mut dtypes: HashMap<String, usize> = HashMap::new();
        let mut parameters = 0u64;
        for t in &self.tensors {
            if let Some(d) = &t.dtype {
                *dtypes.entry(d.name().to_string()).or_default() += 1;
                parameters += t.shape.iter().map(|&d| d as u64).product::<u64>();
            }
        }
        let mut dtypes: Vec<(String, usize)> = dtypes.into_iter().collect();
        dtypes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let format = self
            .shards
            .iter()
            .find_map(|s| s.index.as_ref().ok().map(|ix| ix.format.to_string()))
            .unwrap_or_default();
        ModelInfo {
            name: self.name.clone(),
            format,
            shards: self
                .shards
                .iter()
                .map(|s| base_name(&s.name).to_string())
                .collect(),
            bytes: self.shards.iter().map(|s| s.source.len()).sum(),
            tensors: self.tensors.len(),
            parameters,
            dtypes,
            layers: self.todo().len(),
            skipped: self.plans.len() - self.todo().len(),
            notes: self.notes.clone(),
        }
    }

    /// The index entry of the tensor at `position`.
    pub(super) fn tensor_entry(&self, position: usize) -> Result<&crate::formats::TensorEntry> {
        self.locate(position).map(|(_, e)| e)
    }

    fn locate(&self, position: usize) -> Result<(&Shard, &crate::formats::TensorEntry)> {
        let t = self
            .tensors
            .get(position)
            .ok_or_else(|| Error::InvalidParameter {
                name: "position",
                reason: format!(
                    "no tensor at position {position} (the model has {})",
                    self.tensors.len()
                ),
            })?;
        match &t.location {
            TensorLocation::Found { shard, entry } => {
                let s = &self.shards[*shard];
                let ix = s
                    .index
                    .as_ref()
                    .map_err(|e| Error::Format { what: e.clone() })?;
                Ok((s, &ix.tensors[*entry]))
            }
            TensorLocation::Broken(why) => Err(Error::Format { what: why.clone() }),
        }
    }

    /// Reads the tensor at `position` whole (decoded; up to `max_bytes`).
    pub fn read_tensor(&self, position: usize, max_bytes: u64) -> Result<TensorData> {
        let (s, e) = self.locate(position)?;
        read_tensor(
            &*s.source,
            e,
            &ReadParams {
                max_tensor_bytes: max_bytes,
                ..ReadParams::default()
            },
        )
    }

    /// Reads a block of the tensor at `position` seen as a matrix (see [`read_block`]).
    pub fn read_block(
        &self,
        position: usize,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
    ) -> Result<TensorData> {
        let (s, e) = self.locate(position)?;
        read_block(&*s.source, e, rows, cols)
    }

    /// Decoded size in bytes of the tensor at `position` (f32, or f64 for F64 storage).
    fn decoded_bytes(&self, position: usize) -> u64 {
        let t = &self.tensors[position];
        let n: u64 = t.shape.iter().map(|&d| d as u64).product();
        n * if t.dtype == Some(Dtype::F64) { 8 } else { 4 }
    }

    /// Whether the layer at `position` is analysed by streaming.
    pub fn is_streamed(&self, position: usize) -> bool {
        let p = &self.plans[position];
        p.kind == Some(LayerKind::Dense)
            && self.decoded_bytes(position) > self.stream.stream_above_bytes
            && self.locate(position).is_ok_and(|(_, e)| can_read_blocks(e))
    }

    /// Analyses the layers at `positions` (into [`Self::plans`]) and returns their rows in that
    /// order; each ESD stays in the session. Small layers are read and analysed as a batch
    /// (parallel over layers in threaded builds), streamed ones one by one. `keep_evals` also
    /// puts the ESD into the rows.
    pub fn analyze(&mut self, positions: &[usize], keep_evals: bool) -> Vec<LayerReport> {
        let mut rows: Vec<Option<LayerReport>> = vec![None; positions.len()];
        let mut batch = Vec::new();
        let mut batch_slots = Vec::new();
        for (slot, &pos) in positions.iter().enumerate() {
            let Some(plan) = self.plans.get(pos) else {
                rows[slot] = Some(LayerReport {
                    name: format!("#{pos}"),
                    status: "error".into(),
                    reason: Some(format!("no tensor at position {pos}")),
                    ..Default::default()
                });
                continue;
            };
            if let Some(why) = &plan.skip {
                rows[slot] = Some(error_report(
                    plan,
                    format!("{} is not analysed: {why}", plan.name),
                ));
                continue;
            }
            if let TensorLocation::Broken(why) = &self.tensors[pos].location {
                rows[slot] = Some(error_report(plan, format!("{}: {why}", plan.name)));
                continue;
            }
            if self.is_streamed(pos) {
                let (s, e) = self.locate(pos).expect("checked by is_streamed");
                let f32_storage = e.dtype != Dtype::F64;
                let read = |r: std::ops::Range<usize>, c: std::ops::Range<usize>| {
                    read_block(&*s.source, e, r, c)
                };
                rows[slot] = Some(analyze_streamed_layer(
                    plan,
                    &read,
                    f32_storage,
                    &self.params,
                    &self.stream,
                    true,
                ));
            } else {
                // Layers that cannot be streamed (deflated `.npz` members, Fortran order) are
                // read whole only up to the session's limit: refused by name before inflating.
                let data = self.read_tensor(pos, self.stream.whole_bytes);
                batch.push((plan, data));
                batch_slots.push(slot);
            }
        }
        let done = analyze_loaded(&batch, &self.params, true);
        for (slot, row) in batch_slots.into_iter().zip(done) {
            rows[slot] = Some(row);
        }
        let mut out = Vec::with_capacity(rows.len());
        for (slot, row) in rows.into_iter().enumerate() {
            let mut row = row.expect("every slot filled");
            if let Some(ev) = row.evals.take() {
                if keep_evals {
                    row.evals = Some(ev.clone());
                }
                self.evals.insert(positions[slot], ev);
            }
            if positions[slot] < self.plans.len() {
                self.rows.insert(positions[slot], row.clone());
            }
            out.push(row);
        }
        out
    }

    /// Analyses every planned layer: small layers in batches of at most `batch` layers and
    /// [`BATCH_BYTES`] of decoded data (one layer at least), in parallel over the layers of a
    /// batch in threaded builds; streamed ones alone. Several layers per thread let the pool
    /// balance unequal layers (MiniLM: one 30522×384 embedding beside 384×384 projections).
    /// `progress(done_bytes, total_bytes, done, total, name)` is called before each batch
    /// (sizes make a fair ETA) and may return `false` to stop; the finished rows are kept.
    pub fn analyze_all(
        &mut self,
        batch: usize,
        mut progress: impl FnMut(u64, u64, usize, usize, &str) -> bool,
    ) -> ModelReport {
        let todo = self.todo();
        let sizes: Vec<u64> = todo.iter().map(|&p| self.decoded_bytes(p)).collect();
        let total_bytes: u64 = sizes.iter().sum();
        let mut done_bytes = 0u64;
        let mut layers = Vec::with_capacity(todo.len());
        let mut i = 0;
        while i < todo.len() {
            let mut j = i + 1;
            if !self.is_streamed(todo[i]) {
                let mut bytes = sizes[i];
                while j < todo.len()
                    && j - i < batch.max(1)
                    && !self.is_streamed(todo[j])
                    && bytes + sizes[j] <= BATCH_BYTES
                {
                    bytes += sizes[j];
                    j += 1;
                }
            }
            let name = self.plans[todo[i]].name.clone();
            if !progress(done_bytes, total_bytes, i, todo.len(), &name) {
                break;
            }
            layers.extend(self.analyze(&todo[i..j], false));
            done_bytes += sizes[i..j].iter().sum::<u64>();
            i = j;
        }
        progress(done_bytes, total_bytes, layers.len(), todo.len(), "");
        let summary = summarize(&layers);
        ModelReport {
            layers,
            skipped: self
                .plans
                .iter()
                .filter(|p| p.skip.is_some())
                .cloned()
                .collect(),
            summary,
        }
    }

    /// The report of every layer analysed so far (in plan order), the skipped tensors, and the
    /// summary over the analysed rows.
    pub fn report(&self) -> ModelReport {
        let layers: Vec<LayerReport> = (0..self.plans.len())
            .filter_map(|p| self.rows.get(&p).cloned())
            .collect();
        let summary = summarize(&layers);
        ModelReport {
            layers,
            skipped: self
                .plans
                .iter()
                .filter(|p| p.skip.is_some())
                .cloned()
                .collect(),
            summary,
        }
    }

    /// The ESD (ascending) of the analysed layer at `position`, if it was analysed since the
    /// options were last set.
    pub fn evals(&self, position: usize) -> Option<&[f64]> {
        self.evals.get(&position).map(Vec::as_slice)
    }

    /// A session over one in-memory matrix (`rows × cols`, row-major f32), named `name`:
    /// what widgets and tests use instead of writing files.
    pub fn from_matrix(
        name: &str,
        rows: usize,
        cols: usize,
        data: &[f32],
        options: AnalyzeOptions,
    ) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::Shape {
                expected: format!("{rows}×{cols} = {} values", rows.saturating_mul(cols)),
                found: format!("{} values", data.len()),
            });
        }
        let bytes = safetensors_bytes(&[(name, &[rows, cols], data)]);
        ModelSession::open(
            vec![(format!("{name}.safetensors"), Box::new(bytes))],
            options,
        )
    }
}

/// A safetensors file (F32 tensors, C order) in memory, tensors in the given order.
pub fn safetensors_bytes(tensors: &[(&str, &[usize], &[f32])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape, data) in tensors {
        let len = data.len() * 4;
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len]}),
        );
        offset += len;
    }
    let mut h = serde_json::to_vec(&serde_json::Value::Object(header)).expect("json");
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + h.len() + offset);
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    for (_, _, data) in tensors {
        for v in *data {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

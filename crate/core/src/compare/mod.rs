//! Two checkpoints, or a base model and a PEFT LoRA adapter: per-layer ΔW metrics and intruder
//! dimensions.
//!
//! ## Pairing (by name, never by position)
//! Every 2-D tensor of a supported dtype is a candidate (biases and norms are counted in a note;
//! other unreadable tensors are listed in `skipped`). Names are normalised
//! ([`names::normalize_name`]): `.base_layer` segments are removed and leading
//! `base_model.model.`, `module.`, `_orig_mod.`, `model.` are stripped; a GGUF model's names are
//! mapped to Hugging Face ones (`blk.N.attn_q` ↔ `layers.N.self_attn.q_proj`, `attn_k/v`,
//! `attn_output` ↔ `o_proj`, `ffn_gate/up/down` ↔ `mlp.gate/up/down_proj`, `token_embd` ↔
//! `embed_tokens`, `output` ↔ `lm_head`). Equal keys pair first; then a key that is a dotted
//! suffix of exactly one key on the other side (e.g. `bert.encoder…` ↔ `encoder…`). A pair
//! whose shapes differ is listed in `unmatched` with both shapes, unless one is the transpose of
//! the other (then it is transposed back and `transposed = true`). Unpaired layers are listed in
//! `unmatched`; if nothing pairs at all, [`compare_sessions`] is an error (unrelated models).
//! For a GGUF of `general.architecture = llama` against a non-GGUF model, llama.cpp's Q/K row
//! permutation is undone ([`names::unpermute_qk_rows`], heads from
//! `llama.attention.head_count[_kv]`) before anything element-wise.
//!
//! ## Per-layer metrics (W₀ = base, W₁ = other, ΔW = W₁ − W₀, all m×n as the base stores it)
//! - `delta_fro` = ‖ΔW‖_F, `delta_rel_fro` = ‖ΔW‖_F / ‖W₀‖_F;
//! - `delta_spectral_norm` = σ₁(ΔW), `delta_spectral_rel` = σ₁(ΔW) / σ₁(W₀);
//! - `delta_stable_rank` = ‖ΔW‖_F² / σ₁(ΔW)² (0 if ΔW = 0);
//! - `delta_erank` = exp(H(p)), H(p) = −Σ pᵢ ln pᵢ with **pᵢ = σᵢ/Σσ** over the singular values of
//!   ΔW (Roy–Vetterli; not the energy version σ²/Σσ²); 0 if ΔW = 0;
//! - `alpha_base`, `alpha_other`: WeightWatcher's default power-law α (the same fit as
//!   `analyze`, [`crate::spectrum::power_law::fit_power_law`]) of the ESD σᵢ² of W₀ and W₁,
//!   computed from an f64 SVD; absent for fewer than 8 eigenvalues or a failed fit;
//!   `delta_alpha` = α₁ − α₀; with [`CompareParams::farms`], `farms_alpha_base/other` are the
//!   FARMS α ([`crate::spectrum::farms`], default windows) of W₀ and W₁;
//! - `overlap_left` = ‖U₀,ₖᵀ U₁,ₖ‖_F² / k = mean cos² of the principal angles between the top-k
//!   left singular subspaces of W₀ and W₁ (k clipped to min(m, n)); `overlap_right` with V;
//! - **intruder dimensions** (Shuttleworth et al. 2024, the authors' code): for the top-k left
//!   singular vectors u_j of W₁ (σ order, k = 10 by default),
//!   c_j = max_i |⟨u_j, u_i(W₀)⟩| over **all** min(m, n) left singular vectors of W₀;
//!   `intruders` = #{j ≤ k : c_j < ε} (ε = 0.5 by default), `intruder_sims` = (c_j),
//!   `intruder_sweep` = the counts at ε = 0.1, 0.2, …, 0.9; `intruders_right` is the same test
//!   on right singular vectors (not in the paper); `chance_level` = √(2 ln m / m), the c of a
//!   random unit vector in ℝ^m (for m ≤ n no c can be below 1/√m);
//! - `sqnr_db` = 10·log₁₀(‖W₀‖_F² / ‖ΔW‖_F²) (+∞, `null` in JSON, when ΔW = 0);
//! - `overlap_matrix` = (|⟨u_j(W₁), u_i(W₀)⟩|)_{j,i<k}: the heatmap of the top-k left vectors
//!   (its row maxima are ≤ c_j, which also looks past the base's top k);
//! - `evals_base`/`evals_other` = σᵢ² of W₀ and W₁ (the two ESDs; kept, not serialised).
//!
//! ## Cost and limits
//! Each pair costs two thin SVDs with vectors and one without, in f64 (≈ 5 dense m×n copies,
//! O(m·n·min(m, n)) time). A layer with m·n > [`CompareParams::max_elements`] (default 2²⁴)
//! is listed in `unmatched` with the reason, not compared. The `_with` variants report progress
//! per layer pair.
//!
//! Model summary: `intruders` (and the sweep) **summed** over layers, as the paper does; every
//! other column is the mean over compared layers (α means over the layers that have one;
//! `sqnr_db` over the layers with ΔW ≠ 0, +∞ if there is none);
//! `sqnr_db_total` = 10·log₁₀(Σ‖W₀‖² / Σ‖ΔW‖²).
//!
//! ## PEFT LoRA adapters ([`adapter`])
//! Keys `base_model.model.<M>.lora_A[.<adapter>].weight` (r × in) and `…lora_B…` (out × r);
//! embeddings `<M>.lora_embedding_A` (r × num_embeddings) and `lora_embedding_B`
//! (dim × r). Scale s = α/r, or α/√r with `use_rslora`, where `r`/`α` come from the first
//! `rank_pattern`/`alpha_pattern` key that equals M or a dotted suffix of it (literal keys only;
//! a regular-expression key is refused), else from `r`/`lora_alpha`.
//! ΔW, in the orientation the base stores:
//! - Linear: s·B·A (out × in); with `fan_in_fan_out` the base stores (in × out) and
//!   ΔW = s·(BA)ᵀ = s·AᵀBᵀ;
//! - Embedding: s·(BA)ᵀ = s·AᵀBᵀ (num_embeddings × dim);
//! - `modules_to_save` tensors replace the base's: ΔW = W_saved − W₀ (full rank, `kind =
//!   modules_to_save`).
//!
//! Writing ΔW = s·P·Q (P m×r, Q r×n), its singular values come from the r×r core without
//! forming ΔW: P = Q_P R_P, Qᵀ = Q_Q R_Q (Householder QR), σ(ΔW) = s·σ(R_P R_Qᵀ)
//! ([`metrics::low_rank_singular_values`]). W₁ = W₀ + s·P·Q is formed (once per layer) only for
//! its singular vectors (intruders, overlaps) and α. Refused: DoRA (`use_dora` or a
//! `lora_magnitude_vector`: "DoRA adapters are not supported"), `peft_type` ≠ LORA, r = 0, a
//! missing config, a rank that disagrees with the config. Adapter modules absent from the base,
//! or whose shapes do not fit it, are listed in `unmatched`; if none fits, it is an error.
//! Base layers the adapter does not touch are unchanged (a note counts them).

pub mod adapter;
pub mod metrics;
pub mod names;

pub use adapter::{LoraAdapter, LoraConfig, LoraModule};
pub use metrics::{
    alpha_from_singular_values, compare_low_rank, compare_matrices, low_rank_singular_values,
    CompareParams, LayerComparison, DEFAULT_MAX_ELEMENTS, EPS_SWEEP,
};
pub use names::{gguf_to_hf, normalize_name, pair_names, unpermute_qk_rows, Pairing};

use crate::formats::{Dtype, TensorData};
use crate::session::{ModelSession, TensorLocation};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// A tensor that was not compared, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Unmatched {
    pub name: String,
    /// `base`, `other`, `adapter`, or `both` (paired, but the comparison failed).
    pub side: String,
    pub shape: Vec<usize>,
    pub reason: String,
}

/// Model-level summary (see the module doc).
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct CompareSummary {
    pub layers: usize,
    pub unmatched: usize,
    pub k: usize,
    pub eps: f64,
    pub intruders: usize,
    pub intruders_right: usize,
    pub intruder_sweep: Vec<usize>,
    pub delta_rel_fro: f64,
    pub delta_spectral_norm: f64,
    pub delta_spectral_rel: f64,
    pub delta_stable_rank: f64,
    pub delta_erank: f64,
    pub overlap_left: f64,
    pub overlap_right: f64,
    pub sqnr_db: f64,
    pub sqnr_db_total: f64,
    /// Mean over layers of the chance level √(2 ln m / m).
    pub chance_level: f64,
    pub alpha_base: Option<f64>,
    pub alpha_other: Option<f64>,
    pub delta_alpha: Option<f64>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct CompareReport {
    pub layers: Vec<LayerComparison>,
    pub unmatched: Vec<Unmatched>,
    /// 2-D tensors that cannot be read (unsupported dtype, broken shard).
    pub skipped: Vec<Unmatched>,
    pub summary: CompareSummary,
    pub notes: Vec<String>,
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

fn mean_opt(v: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let x: Vec<f64> = v.flatten().collect();
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// Sums and means over the compared layers (see the module doc).
pub fn summarize_comparison(
    layers: &[LayerComparison],
    unmatched: usize,
    params: &CompareParams,
) -> CompareSummary {
    let mut sweep = vec![0usize; EPS_SWEEP.len()];
    for l in layers {
        for (s, c) in sweep.iter_mut().zip(&l.intruder_sweep) {
            *s += c;
        }
    }
    let base2: f64 = layers.iter().map(|l| l.base_fro * l.base_fro).sum();
    let delta2: f64 = layers.iter().map(|l| l.delta_fro * l.delta_fro).sum();
    let sqnr_db_total = 10.0 * (base2 / delta2).log10();
    CompareSummary {
        layers: layers.len(),
        unmatched,
        k: params.k,
        eps: params.eps,
        intruders: layers.iter().map(|l| l.intruders).sum(),
        intruders_right: layers.iter().map(|l| l.intruders_right).sum(),
        intruder_sweep: sweep,
        delta_rel_fro: mean(layers.iter().map(|l| l.delta_rel_fro)),
        delta_spectral_norm: mean(layers.iter().map(|l| l.delta_spectral_norm)),
        delta_spectral_rel: mean(layers.iter().map(|l| l.delta_spectral_rel)),
        delta_stable_rank: mean(layers.iter().map(|l| l.delta_stable_rank)),
        delta_erank: mean(layers.iter().map(|l| l.delta_erank)),
        overlap_left: mean(layers.iter().map(|l| l.overlap_left)),
        overlap_right: mean(layers.iter().map(|l| l.overlap_right)),
        sqnr_db: if layers.iter().all(|l| l.sqnr_db.is_infinite()) {
            f64::INFINITY
        } else {
            mean(layers.iter().map(|l| l.sqnr_db).filter(|x| x.is_finite()))
        },
        sqnr_db_total,
        chance_level: mean(layers.iter().map(|l| l.chance_level)),
        alpha_base: mean_opt(layers.iter().map(|l| l.alpha_base)),
        alpha_other: mean_opt(layers.iter().map(|l| l.alpha_other)),
        delta_alpha: mean_opt(layers.iter().map(|l| l.delta_alpha)),
    }
}

/// A session's comparable tensors: (position, normalised key), plus the skipped 2-D tensors and
/// the number of tensors that are not 2-D.
struct Candidates {
    positions: Vec<usize>,
    keys: Vec<String>,
    skipped: Vec<Unmatched>,
    not_2d: usize,
}

fn is_gguf(s: &ModelSession) -> bool {
    s.info().format == "gguf"
}

fn candidates(s: &ModelSession, side: &str) -> Candidates {
    let gguf = is_gguf(s);
    let mut c = Candidates {
        positions: Vec::new(),
        keys: Vec::new(),
        skipped: Vec::new(),
        not_2d: 0,
    };
    for (pos, t) in s.tensors().iter().enumerate() {
        if let TensorLocation::Broken(why) = &t.location {
            c.skipped.push(Unmatched {
                name: t.name.clone(),
                side: side.into(),
                shape: t.shape.clone(),
                reason: why.clone(),
            });
            continue;
        }
        if t.shape.len() != 2 {
            c.not_2d += 1;
            continue;
        }
        match &t.dtype {
            Some(d) if d.is_supported() => {}
            d => {
                c.skipped.push(Unmatched {
                    name: t.name.clone(),
                    side: side.into(),
                    shape: t.shape.clone(),
                    reason: format!(
                        "unsupported dtype {}",
                        d.as_ref().map_or("unknown", Dtype::name)
                    ),
                });
                continue;
            }
        }
        c.positions.push(pos);
        c.keys.push(normalize_name(&t.name, gguf));
    }
    c
}

/// Reads a 2-D tensor as an f64 matrix.
fn read_matrix(s: &ModelSession, pos: usize) -> Result<Array2<f64>> {
    let d = s.read_tensor(pos, crate::formats::ReadParams::default().max_tensor_bytes)?;
    let shape = d.shape().to_vec();
    if shape.len() != 2 {
        return Err(Error::Shape {
            expected: "a 2-D tensor".into(),
            found: format!("{shape:?}"),
        });
    }
    let a = match d {
        TensorData::F32(a) => a.mapv(f64::from),
        TensorData::F64(a) => a,
    };
    a.into_dimensionality::<ndarray::Ix2>()
        .map_err(|e| Error::Shape {
            expected: "a 2-D tensor".into(),
            found: e.to_string(),
        })
}

/// Head counts for undoing the Q/K permutation of a llama GGUF: `(n_head, n_head_kv)`.
fn llama_heads(s: &ModelSession) -> Option<(usize, usize)> {
    let md = s.metadata();
    let get = |k: &str| md.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    if get("general.architecture")?.trim_matches('"') != "llama" {
        return None;
    }
    let h: usize = get("llama.attention.head_count")?.parse().ok()?;
    let kv: usize = get("llama.attention.head_count_kv")
        .and_then(|v| v.parse().ok())
        .unwrap_or(h);
    Some((h, kv))
}

fn wanted(name: &str, params: &CompareParams) -> bool {
    params.layers.is_empty() || params.layers.iter().any(|p| name.contains(p.as_str()))
}

/// Why a layer of `shape` is not compared because of [`CompareParams::max_elements`], if so.
fn too_large(shape: &[usize], params: &CompareParams) -> Option<String> {
    let n = shape.iter().product::<usize>();
    (n > params.max_elements).then(|| {
        format!(
            "too large to compare: {} = {n} elements > maxElements = {} (full SVDs with vectors of both weights; raise the limit with --max-elements / maxElements)",
            shape.iter().map(usize::to_string).collect::<Vec<_>>().join("×"),
            params.max_elements
        )
    })
}

/// Progress callback of a comparison: `(done, total, name)` before each layer pair (`name` is
/// the base layer about to be compared) and `(total, total, "")` at the end.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, &str);

/// Compares two opened models layer by layer (see the module doc). Errors when the parameters
/// are invalid or when no layer pairs by name.
pub fn compare_sessions(
    base: &ModelSession,
    other: &ModelSession,
    params: &CompareParams,
) -> Result<CompareReport> {
    compare_sessions_with(base, other, params, &mut |_, _, _| {})
}

/// [`compare_sessions`] with per-layer progress.
pub fn compare_sessions_with(
    base: &ModelSession,
    other: &ModelSession,
    params: &CompareParams,
    progress: Progress<'_>,
) -> Result<CompareReport> {
    params.validate()?;
    let ca = candidates(base, "base");
    let cb = candidates(other, "other");
    let pairing = pair_names(&ca.keys, &cb.keys);
    let bt = base.tensors();
    let ot = other.tensors();
    if pairing.pairs.is_empty() {
        let ex = |c: &Candidates, t: &[crate::session::ModelTensor]| {
            c.positions
                .first()
                .map_or("(no 2-D tensor)".to_string(), |&p| {
                    format!("`{}`", t[p].name)
                })
        };
        return Err(Error::Format {
            what: format!(
                "no layer of `{}` pairs by name with a layer of `{}` (e.g. {} vs {}): the models look unrelated",
                base.name(),
                other.name(),
                ex(&ca, bt),
                ex(&cb, ot)
            ),
        });
    }
    let mut report = CompareReport {
        skipped: ca.skipped.into_iter().chain(cb.skipped).collect(),
        ..Default::default()
    };
    if ca.not_2d + cb.not_2d > 0 {
        report.notes.push(format!(
            "{} tensors that are not 2-D (biases, norms, conv kernels) were not compared",
            ca.not_2d + cb.not_2d
        ));
    }
    let un = |t: &crate::session::ModelTensor, side: &str, reason: String| Unmatched {
        name: t.name.clone(),
        side: side.into(),
        shape: t.shape.clone(),
        reason,
    };
    for &i in &pairing.only_a {
        let t = &bt[ca.positions[i]];
        if wanted(&t.name, params) {
            report.unmatched.push(un(
                t,
                "base",
                format!("no tensor `{}` in the other model", ca.keys[i]),
            ));
        }
    }
    for &j in &pairing.only_b {
        let t = &ot[cb.positions[j]];
        if wanted(&t.name, params) {
            report.unmatched.push(un(
                t,
                "other",
                format!("no tensor `{}` in the base", cb.keys[j]),
            ));
        }
    }
    for &i in &pairing.ambiguous_a {
        report.unmatched.push(un(
            &bt[ca.positions[i]],
            "base",
            format!("several base tensors normalise to `{}`", ca.keys[i]),
        ));
    }
    for &j in &pairing.ambiguous_b {
        report.unmatched.push(un(
            &ot[cb.positions[j]],
            "other",
            format!(
                "several tensors of the other model normalise to `{}`",
                cb.keys[j]
            ),
        ));
    }
    // Q/K permutation: only GGUF-llama against a non-GGUF model.
    let heads = match (is_gguf(base), is_gguf(other)) {
        (false, true) => llama_heads(other).map(|h| (false, h)),
        (true, false) => llama_heads(base).map(|h| (true, h)),
        _ => None,
    };
    if heads.is_some() {
        report
            .notes
            .push("llama GGUF: Q/K rows un-permuted before comparing".into());
    }
    let total = pairing
        .pairs
        .iter()
        .filter(|&&(i, _)| wanted(&bt[ca.positions[i]].name, params))
        .count();
    let mut done = 0;
    for &(i, j) in &pairing.pairs {
        let (pa, pb) = (ca.positions[i], cb.positions[j]);
        let (ta, tb) = (&bt[pa], &ot[pb]);
        if !wanted(&ta.name, params) {
            continue;
        }
        progress(done, total, &ta.name);
        done += 1;
        let (sa, sb) = (&ta.shape, &tb.shape);
        let transposed = if sa == sb {
            false
        } else if sa[0] == sb[1] && sa[1] == sb[0] {
            true
        } else {
            report.unmatched.push(un(
                ta,
                "both",
                format!(
                    "shape mismatch: base {}×{}, other `{}` {}×{}",
                    sa[0], sa[1], tb.name, sb[0], sb[1]
                ),
            ));
            continue;
        };
        if let Some(why) = too_large(sa, params) {
            report.unmatched.push(un(ta, "both", why));
            continue;
        }
        let key = &ca.keys[i];
        let result = (|| -> Result<LayerComparison> {
            let mut w0 = read_matrix(base, pa)?;
            let mut w1 = read_matrix(other, pb)?;
            if transposed {
                w1 = w1.t().to_owned();
            }
            let mut unpermuted = false;
            if let Some((gguf_is_base, (h, kv))) = heads {
                let n = if key.ends_with("self_attn.q_proj.weight") {
                    Some(h)
                } else if key.ends_with("self_attn.k_proj.weight") {
                    Some(kv)
                } else {
                    None
                };
                if let Some(n) = n {
                    let w = if gguf_is_base { &mut w0 } else { &mut w1 };
                    let (r, c) = w.dim();
                    let mut v: Vec<f64> = w.iter().copied().collect();
                    unpermute_qk_rows(&mut v, r, c, n)?;
                    *w = Array2::from_shape_vec((r, c), v).expect("same size");
                    unpermuted = true;
                }
            }
            let mut row = compare_matrices(w0.view(), w1.view(), params)?;
            row.transposed = transposed;
            row.unpermuted = unpermuted;
            Ok(row)
        })();
        match result {
            Ok(mut row) => {
                row.name = ta.name.clone();
                row.other_name = tb.name.clone();
                report.layers.push(row);
            }
            Err(e) => report
                .unmatched
                .push(un(ta, "both", format!("comparison failed: {e}"))),
        }
    }
    progress(total, total, "");
    report.summary = summarize_comparison(&report.layers, report.unmatched.len(), params);
    Ok(report)
}

fn view_t(a: &Array2<f64>) -> ArrayView2<'_, f64> {
    a.t()
}

/// Compares a base model with the same model plus a LoRA adapter (see the module doc). Errors
/// when the parameters are invalid or when no adapter module fits a base layer.
pub fn compare_adapter(
    base: &ModelSession,
    adapter: &LoraAdapter,
    params: &CompareParams,
) -> Result<CompareReport> {
    compare_adapter_with(base, adapter, params, &mut |_, _, _| {})
}

/// [`compare_adapter`] with per-layer progress.
pub fn compare_adapter_with(
    base: &ModelSession,
    adapter: &LoraAdapter,
    params: &CompareParams,
    progress: Progress<'_>,
) -> Result<CompareReport> {
    params.validate()?;
    let ca = candidates(base, "base");
    let bt = base.tensors();
    let at = adapter.weights.tensors();
    // Adapter keys: LoRA modules first, then modules_to_save parameters.
    let mut keys = Vec::new();
    for m in &adapter.modules {
        keys.push(normalize_name(&format!("{}.weight", m.module), false));
    }
    for (p, _) in &adapter.full {
        keys.push(normalize_name(p, false));
    }
    let nl = adapter.modules.len();
    let pairing = pair_names(&keys, &ca.keys);
    let mut report = CompareReport {
        skipped: ca.skipped,
        notes: adapter.notes.clone(),
        ..Default::default()
    };
    for (name, why) in &adapter.ignored {
        report.unmatched.push(Unmatched {
            name: name.clone(),
            side: "adapter".into(),
            shape: Vec::new(),
            reason: why.clone(),
        });
    }
    let adapter_name = |i: usize| {
        if i < nl {
            adapter.modules[i].module.clone()
        } else {
            adapter.full[i - nl].0.clone()
        }
    };
    for &i in pairing.only_a.iter().chain(&pairing.ambiguous_a) {
        report.unmatched.push(Unmatched {
            name: adapter_name(i),
            side: "adapter".into(),
            shape: Vec::new(),
            reason: format!("the base has no tensor `{}`", keys[i]),
        });
    }
    if pairing.pairs.is_empty() {
        return Err(Error::Format {
            what: format!(
                "the adapter's modules match none of the layers of `{}` (e.g. `{}`): is it the adapter of another model?",
                base.name(),
                adapter_name(0)
            ),
        });
    }
    let touched = pairing.pairs.len();
    let untouched = ca.positions.len().saturating_sub(touched);
    if untouched > 0 {
        report.notes.push(format!(
            "{untouched} 2-D base tensors have no adapter (ΔW = 0): not listed"
        ));
    }
    let cfg = &adapter.config;
    let mut attempted = 0usize;
    let total = pairing
        .pairs
        .iter()
        .filter(|&&(_, j)| wanted(&bt[ca.positions[j]].name, params))
        .count();
    for &(i, j) in &pairing.pairs {
        let pb = ca.positions[j];
        let tb = &bt[pb];
        if !wanted(&tb.name, params) {
            continue;
        }
        progress(attempted, total, &tb.name);
        attempted += 1;
        let (m, n) = (tb.shape[0], tb.shape[1]);
        if let Some(why) = too_large(&tb.shape, params) {
            report.unmatched.push(Unmatched {
                name: adapter_name(i),
                side: "adapter".into(),
                shape: tb.shape.clone(),
                reason: why,
            });
            continue;
        }
        let result = (|| -> Result<LayerComparison> {
            if i >= nl {
                let pos = adapter.full[i - nl].1;
                let ts = &at[pos];
                if ts.shape != tb.shape {
                    return Err(Error::Shape {
                        expected: format!("{m}×{n} (the base)"),
                        found: format!("{:?} for the saved `{}`", ts.shape, ts.name),
                    });
                }
                let w1 = read_matrix(&adapter.weights, pos)?;
                let w0 = read_matrix(base, pb)?;
                let mut row = compare_matrices(w0.view(), w1.view(), params)?;
                row.kind = "modules_to_save".into();
                row.other_name = ts.name.clone();
                return Ok(row);
            }
            let lm = &adapter.modules[i];
            let (Some(pa), Some(pbb)) = (lm.a, lm.b) else {
                return Err(Error::Format {
                    what: format!(
                        "module `{}` has only lora_{} in the adapter",
                        lm.module,
                        if lm.a.is_some() { "A" } else { "B" }
                    ),
                });
            };
            let (r, _) = cfg.rank_and_alpha(&lm.module);
            let s = cfg.scale(&lm.module);
            let a = read_matrix(&adapter.weights, pa)?;
            let b = read_matrix(&adapter.weights, pbb)?;
            // A is r × in (r × num_embeddings), B is out × r (dim × r).
            let (ar, br) = (a.nrows(), b.ncols());
            if ar != r || br != r {
                return Err(Error::Shape {
                    expected: format!("rank r = {r} (adapter_config.json) for `{}`", lm.module),
                    found: format!("A {:?}, B {:?}", a.dim(), b.dim()),
                });
            }
            // ΔW = s·P·Q in the base's stored orientation.
            let transpose = lm.embedding || cfg.fan_in_fan_out;
            let (p, q) = if transpose {
                (view_t(&a), view_t(&b))
            } else {
                (b.view(), a.view())
            };
            if p.nrows() != m || q.ncols() != n {
                return Err(Error::Shape {
                    expected: format!("ΔW of the base's shape {m}×{n}"),
                    found: format!(
                        "{}×{} from A {:?}, B {:?}{}",
                        p.nrows(),
                        q.ncols(),
                        a.dim(),
                        b.dim(),
                        if transpose {
                            " (transposed: embedding or fan_in_fan_out)"
                        } else {
                            ""
                        }
                    ),
                });
            }
            let w0 = read_matrix(base, pb)?;
            let mut row = compare_low_rank(w0.view(), p, q, s, params)?;
            row.kind = if lm.embedding {
                "lora_embedding"
            } else {
                "lora"
            }
            .into();
            row.lora_rank = Some(r);
            row.lora_scale = Some(s);
            row.other_name = lm.module.clone();
            Ok(row)
        })();
        match result {
            Ok(mut row) => {
                row.name = tb.name.clone();
                report.layers.push(row);
            }
            Err(e) => report.unmatched.push(Unmatched {
                name: adapter_name(i),
                side: "adapter".into(),
                shape: tb.shape.clone(),
                reason: format!("{e}"),
            }),
        }
    }
    progress(total, total, "");
    if report.layers.is_empty() && attempted > 0 {
        let why: Vec<String> = report
            .unmatched
            .iter()
            .take(3)
            .map(|u| format!("{}: {}", u.name, u.reason))
            .collect();
        return Err(Error::Format {
            what: format!(
                "no adapter module could be compared with `{}`: {}",
                base.name(),
                why.join("; ")
            ),
        });
    }
    report.summary = summarize_comparison(&report.layers, report.unmatched.len(), params);
    Ok(report)
}

/// The report as CSV: one row per compared layer (the vectors `intruder_sims*` are left out;
/// `intruder_sweep` is written as `n@0.1;…;n@0.9`).
pub fn comparison_to_csv(report: &CompareReport) -> String {
    let mut out = String::from(
        "name,other_name,shape,kind,transposed,unpermuted,lora_rank,lora_scale,delta_fro,delta_rel_fro,delta_spectral_norm,delta_spectral_rel,delta_stable_rank,delta_erank,alpha_base,alpha_other,delta_alpha,overlap_left,overlap_right,intruders,intruders_right,intruder_sweep,chance_level,sqnr_db,farms_alpha_base,farms_alpha_other\n",
    );
    let o = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    for l in &report.layers {
        let sweep: Vec<String> = l.intruder_sweep.iter().map(|c| c.to_string()).collect();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            l.name,
            l.other_name,
            l.shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x"),
            l.kind,
            l.transposed,
            l.unpermuted,
            l.lora_rank.map_or(String::new(), |r| r.to_string()),
            o(l.lora_scale),
            l.delta_fro,
            l.delta_rel_fro,
            l.delta_spectral_norm,
            l.delta_spectral_rel,
            l.delta_stable_rank,
            l.delta_erank,
            o(l.alpha_base),
            o(l.alpha_other),
            o(l.delta_alpha),
            l.overlap_left,
            l.overlap_right,
            l.intruders,
            l.intruders_right,
            sweep.join(";"),
            l.chance_level,
            l.sqnr_db,
            o(l.farms_alpha_base),
            o(l.farms_alpha_other)
        ));
    }
    out
}

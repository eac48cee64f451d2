//! Layer names: normalisation, GGUF → Hugging Face mapping, pairing by name, and llama.cpp's Q/K
//! row permutation (see the module doc of [`super`] for the rules).

use std::collections::HashMap;

/// Leading segments removed from every name before pairing (repeatedly, in any order).
const STRIPPED_PREFIXES: &[&str] = &["base_model.model.", "module.", "_orig_mod.", "model."];

/// GGUF block tensor → Hugging Face sub-path (llama / qwen2 / gemma families; gguf-py
/// `tensor_mapping.py`).
const GGUF_BLOCK: &[(&str, &str)] = &[
    ("attn_q", "self_attn.q_proj"),
    ("attn_k", "self_attn.k_proj"),
    ("attn_v", "self_attn.v_proj"),
    ("attn_output", "self_attn.o_proj"),
    ("attn_q_norm", "self_attn.q_norm"),
    ("attn_k_norm", "self_attn.k_norm"),
    ("ffn_gate", "mlp.gate_proj"),
    ("ffn_up", "mlp.up_proj"),
    ("ffn_down", "mlp.down_proj"),
    ("attn_norm", "input_layernorm"),
    ("ffn_norm", "post_attention_layernorm"),
    ("post_attention_norm", "post_attention_layernorm"),
    ("post_ffw_norm", "post_feedforward_layernorm"),
];

/// GGUF top-level tensor → Hugging Face name (without the `model.` prefix).
const GGUF_TOP: &[(&str, &str)] = &[
    ("token_embd", "embed_tokens"),
    ("output_norm", "norm"),
    ("output", "lm_head"),
];

/// The Hugging Face name (without `model.`) of a GGUF tensor name, or `None` if the name is not
/// one of the mapped llama/qwen2/gemma tensors.
/// `blk.3.attn_q.weight` → `layers.3.self_attn.q_proj.weight`, `token_embd.weight` →
/// `embed_tokens.weight`, `output.weight` → `lm_head.weight`.
pub fn gguf_to_hf(name: &str) -> Option<String> {
    let (stem, suffix) = match name.rsplit_once('.') {
        Some((s, x)) if x == "weight" || x == "bias" => (s, x),
        _ => (name, ""),
    };
    let dot_suffix = if suffix.is_empty() {
        String::new()
    } else {
        format!(".{suffix}")
    };
    if let Some(rest) = stem.strip_prefix("blk.") {
        let (n, part) = rest.split_once('.')?;
        n.parse::<u64>().ok()?;
        let hf = GGUF_BLOCK.iter().find(|(g, _)| *g == part)?.1;
        return Some(format!("layers.{n}.{hf}{dot_suffix}"));
    }
    let hf = GGUF_TOP.iter().find(|(g, _)| *g == stem)?.1;
    Some(format!("{hf}{dot_suffix}"))
}

/// The pairing key of a tensor name: `.base_layer` segments removed, then the leading
/// `base_model.model.`, `module.`, `_orig_mod.` and `model.` segments stripped (repeatedly).
/// With `gguf`, llama.cpp names are first mapped to Hugging Face ones ([`gguf_to_hf`]).
pub fn normalize_name(name: &str, gguf: bool) -> String {
    let mut s = name.replace(".base_layer.", ".");
    if let Some(x) = s.strip_suffix(".base_layer") {
        s = x.to_string();
    }
    loop {
        let before = s.len();
        for p in STRIPPED_PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.to_string();
            }
        }
        if s.len() == before {
            break;
        }
    }
    if gguf {
        if let Some(h) = gguf_to_hf(&s) {
            return h;
        }
    }
    s
}

/// Result of [`pair_names`]: `pairs` (index in `a`, index in `b`), the unpaired indices of
/// each side, and the indices whose key occurs twice on its side (never paired).
#[derive(Debug, Default, Clone)]
pub struct Pairing {
    pub pairs: Vec<(usize, usize)>,
    pub only_a: Vec<usize>,
    pub only_b: Vec<usize>,
    pub ambiguous_a: Vec<usize>,
    pub ambiguous_b: Vec<usize>,
}

/// Pairs two lists of keys (already [normalised](normalize_name)): first equal keys, then, among
/// the rest, a key that ends with `.` + the other key (e.g. `bert.encoder.layer.0…` ↔
/// `encoder.layer.0…`) when that match is unique on both sides and the shorter key has at least
/// two segments. Never by position. `pairs` follow the order of `a`.
pub fn pair_names(a: &[String], b: &[String]) -> Pairing {
    let mut out = Pairing::default();
    fn count(keys: &[String]) -> HashMap<&str, usize> {
        let mut m: HashMap<&str, usize> = HashMap::new();
        for k in keys {
            *m.entry(k.as_str()).or_default() += 1;
        }
        m
    }
    let (ca, cb) = (count(a), count(b));
    let mut b_index: HashMap<&str, usize> = HashMap::new();
    for (j, k) in b.iter().enumerate() {
        if cb[k.as_str()] == 1 {
            b_index.insert(k.as_str(), j);
        } else {
            out.ambiguous_b.push(j);
        }
    }
    let mut b_used = vec![false; b.len()];
    let mut a_left = Vec::new();
    for (i, k) in a.iter().enumerate() {
        if ca[k.as_str()] > 1 {
            out.ambiguous_a.push(i);
            continue;
        }
        match b_index.get(k.as_str()) {
            Some(&j) => {
                b_used[j] = true;
                out.pairs.push((i, j));
            }
            None => a_left.push(i),
        }
    }
    let b_left: Vec<usize> = (0..b.len())
        .filter(|&j| !b_used[j] && cb[b[j].as_str()] == 1)
        .collect();
    // Suffix fallback.
    let is_suffix = |long: &str, short: &str| {
        short.contains('.') && long.len() > short.len() && long.ends_with(short) && {
            let cut = long.len() - short.len();
            long.as_bytes()[cut - 1] == b'.'
        }
    };
    let related = |x: &str, y: &str| is_suffix(x, y) || is_suffix(y, x);
    let mut extra = Vec::new();
    for &i in &a_left {
        let cands: Vec<usize> = b_left
            .iter()
            .copied()
            .filter(|&j| related(&a[i], &b[j]))
            .collect();
        if cands.len() == 1 {
            let j = cands[0];
            let back = a_left.iter().filter(|&&i2| related(&a[i2], &b[j])).count();
            if back == 1 {
                extra.push((i, j));
            }
        }
    }
    for &(i, j) in &extra {
        b_used[j] = true;
        out.pairs.push((i, j));
    }
    out.pairs.sort_unstable();
    let paired_a: std::collections::HashSet<usize> = out.pairs.iter().map(|p| p.0).collect();
    out.only_a = a_left
        .into_iter()
        .filter(|i| !paired_a.contains(i))
        .collect();
    out.only_b = b_left.into_iter().filter(|&j| !b_used[j]).collect();
    out
}

/// Undoes llama.cpp's Q/K row permutation (`LlamaModel.permute` in `convert_hf_to_gguf.py`) of
/// a row-major `rows × cols` matrix in place: with `heads` heads of `d = rows/heads` rows, GGUF
/// row `h·d + 2j + t` holds Hugging Face row `h·d + t·d/2 + j` (`t ∈ {0,1}`, `j < d/2`).
/// Errors if `rows` is not a multiple of `2·heads`.
pub fn unpermute_qk_rows(
    data: &mut [f64],
    rows: usize,
    cols: usize,
    heads: usize,
) -> crate::Result<()> {
    if heads == 0 || !rows.is_multiple_of(2 * heads) || data.len() != rows * cols {
        return Err(crate::Error::InvalidParameter {
            name: "heads",
            reason: format!(
                "cannot undo the Q/K permutation of {rows} rows with {heads} heads (rows must be a multiple of 2·heads)"
            ),
        });
    }
    let d = rows / heads;
    let src = data.to_vec();
    for h in 0..heads {
        for j in 0..d / 2 {
            for t in 0..2 {
                let gguf_row = h * d + 2 * j + t;
                let hf_row = h * d + t * (d / 2) + j;
                data[hf_row * cols..(hf_row + 1) * cols]
                    .copy_from_slice(&src[gguf_row * cols..(gguf_row + 1) * cols]);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gguf_names_map_to_hf() {
        assert_eq!(
            gguf_to_hf("blk.12.attn_q.weight").as_deref(),
            Some("layers.12.self_attn.q_proj.weight")
        );
        assert_eq!(
            gguf_to_hf("blk.0.ffn_down.weight").as_deref(),
            Some("layers.0.mlp.down_proj.weight")
        );
        assert_eq!(
            gguf_to_hf("blk.0.attn_output.weight").as_deref(),
            Some("layers.0.self_attn.o_proj.weight")
        );
        assert_eq!(
            gguf_to_hf("token_embd.weight").as_deref(),
            Some("embed_tokens.weight")
        );
        assert_eq!(
            gguf_to_hf("output.weight").as_deref(),
            Some("lm_head.weight")
        );
        assert_eq!(gguf_to_hf("blk.x.attn_q.weight"), None);
        assert_eq!(
            normalize_name("model.layers.3.self_attn.q_proj.weight", false),
            normalize_name("blk.3.attn_q.weight", true)
        );
        assert_eq!(
            normalize_name(
                "base_model.model.model.layers.0.mlp.up_proj.base_layer.weight",
                false
            ),
            "layers.0.mlp.up_proj.weight"
        );
    }

    #[test]
    fn suffix_fallback_is_unique_and_never_positional() {
        let a: Vec<String> = [
            "bert.encoder.layer.0.q.weight",
            "bert.pooler.weight",
            "x.weight",
        ]
        .map(String::from)
        .to_vec();
        let b: Vec<String> = ["encoder.layer.0.q.weight", "y.weight"]
            .map(String::from)
            .to_vec();
        let p = pair_names(&a, &b);
        assert_eq!(p.pairs, vec![(0, 0)]);
        assert_eq!(p.only_a, vec![1, 2]);
        assert_eq!(p.only_b, vec![1]);
    }

    #[test]
    fn unpermute_inverts_the_converter_permutation() {
        // Forward permutation as the converter does it, then undo.
        let (heads, d, cols) = (2, 4, 3);
        let rows = heads * d;
        let hf: Vec<f64> = (0..rows * cols).map(|v| v as f64).collect();
        let mut gguf = vec![0.0; rows * cols];
        for h in 0..heads {
            for j in 0..d / 2 {
                for t in 0..2 {
                    let (g, f) = (h * d + 2 * j + t, h * d + t * d / 2 + j);
                    gguf[g * cols..(g + 1) * cols].copy_from_slice(&hf[f * cols..(f + 1) * cols]);
                }
            }
        }
        unpermute_qk_rows(&mut gguf, rows, cols, heads).unwrap();
        assert_eq!(gguf, hf);
        assert!(unpermute_qk_rows(&mut gguf, rows, cols, 3).is_err());
    }
}

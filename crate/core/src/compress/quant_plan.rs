//! Spectrum-aware quantization plan: one GGUF type per layer under a size budget, minimising
//! the model-level error, compared with llama.cpp's fixed recipes at the same size.
//!
//! - **Options.** Each layer `ℓ` is quantized → dequantized with every candidate type
//!   ([`super::ggml_quant::quantize_matrix`]; a type whose blocks do not fit the rows becomes
//!   llama-quantize's fallback, and options with the same effective type are merged). Each option
//!   has `bytes_ℓ(t)` (from the block layout) and a squared error `e_ℓ(t) = ‖W − Ŵ_t‖_F²`.
//! - **Objective**: the sum of absolute squared errors `Σ_ℓ e_ℓ(t_ℓ)` (big layers dominate),
//!   reported as the model-level relative error `√(Σ e / Σ ‖W_ℓ‖²)`.
//! - **Allocation** (the same method as [`super::budget`]'s greedy): start every layer at its
//!   cheapest option; reduce each layer's options to the lower convex hull of (bytes, error)
//!   (dominated and non-convex options drop out); take hull segments in decreasing error
//!   reduction per byte (a max-heap over layers) while they fit the budget; then, with the bytes
//!   left, apply the single upgrade (any option, hull or not) with the best reduction per byte
//!   that still fits, until none fits. Greedy on hulls is optimal for the convexified
//!   (fractional) problem; the integer result is within one segment's gain of the optimum.
//!   That gap is closed by a dynamic program for the multiple-choice knapsack over a byte grid
//!   of at most 2¹⁵ cells (costs rounded up, so it never exceeds the budget; exact when 2¹⁵
//!   cells of the gcd of the options' byte differences cover the spare bytes); the plan is whichever of the two has the smaller error. Its cost is
//!   `O(layers · options · 2¹⁵)`: 80 M steps for 300 layers of 8 options.
//! - **Recipes** ([`Recipe`]): llama.cpp's `llama_tensor_get_type` for the 2-D weights of a
//!   mostly-`Q4_K` / `Q5_K` file, without an importance matrix: `attn_v` and `ffn_down` of the
//!   layers where `use_more_bits(i, n)` (`i < n/8`, `i ≥ 7n/8`, or `(i − n/8) % 3 == 2`) get
//!   `Q6_K`; the output projection (`output.weight`, `lm_head`) gets `Q6_K`; everything else the
//!   base type. Roles and layer indices are read from tensor names (GGUF `blk.N.attn_v`,
//!   HF `layers.N.self_attn.v_proj`, BERT `layer.N.attention.self.value`, …).
//! - **Export**: `{tensor: "Q4_K", …}` JSON, and `--tensor-type NAME=q4_k` arguments for
//!   `llama-quantize` (names as in the input file: for a GGUF file they are GGUF names; for
//!   safetensors, convert to GGUF first and map names).

use super::ggml_quant::{quantize_matrix, GgmlType};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;
use std::collections::{BTreeMap, BinaryHeap};

/// One quantization option of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuantOption {
    /// The effective type (after llama-quantize's fallback).
    pub ggml_type: GgmlType,
    pub bytes: u64,
    /// `‖W − Ŵ‖_F²`.
    pub sq_error: f64,
}

/// A layer's options, measured once.
#[derive(Debug, Clone, Serialize)]
pub struct QuantLayer {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    /// `‖W‖_F²`.
    pub norm2: f64,
    /// Sorted by bytes, then error.
    pub options: Vec<QuantOption>,
}

impl QuantLayer {
    /// Quantizes `w` with every type of `types` that fits (directly or by fallback).
    pub fn measure(name: &str, w: ArrayView2<'_, f64>, types: &[GgmlType]) -> Result<Self> {
        let (rows, cols) = w.dim();
        Self::measure_blocks(name, rows, cols, types, rows.max(1), |r| {
            Ok(w.slice(ndarray::s![r, ..]).to_owned())
        })
    }

    /// [`Self::measure`] for a `rows × cols` matrix read `block_rows` rows at a time by
    /// `read(row range)`: llama.cpp's types quantize each row on its own, so the bytes and the
    /// squared errors of the blocks add up, and no more than one block is held.
    pub fn measure_blocks(
        name: &str,
        rows: usize,
        cols: usize,
        types: &[GgmlType],
        block_rows: usize,
        mut read: impl FnMut(std::ops::Range<usize>) -> Result<Array2<f64>>,
    ) -> Result<Self> {
        let mut used: Vec<GgmlType> = Vec::new();
        for &t in types {
            if let Some(u) = t.effective(cols) {
                if !used.contains(&u) {
                    used.push(u);
                }
            }
        }
        if used.is_empty() || rows == 0 {
            return Err(Error::Shape {
                expected: format!("rows of a multiple of 32 entries (tensor `{name}`)"),
                found: format!("{rows} × {cols}"),
            });
        }
        let mut options: Vec<QuantOption> = used
            .iter()
            .map(|&t| QuantOption {
                ggml_type: t,
                bytes: 0,
                sq_error: 0.0,
            })
            .collect();
        let mut norm2 = 0.0;
        let step = block_rows.max(1);
        let mut r0 = 0;
        while r0 < rows {
            let r1 = (r0 + step).min(rows);
            let w = read(r0..r1)?;
            if w.dim() != (r1 - r0, cols) {
                return Err(Error::Shape {
                    expected: format!("{} × {cols} (rows {r0}..{r1} of `{name}`)", r1 - r0),
                    found: format!("{} × {}", w.nrows(), w.ncols()),
                });
            }
            norm2 += w.iter().map(|v| v * v).sum::<f64>();
            for o in options.iter_mut() {
                let r = quantize_matrix(w.view(), o.ggml_type)?;
                o.bytes += r.bytes;
                o.sq_error += r.sq_error;
            }
            r0 = r1;
        }
        options.sort_by(|a, b| {
            a.bytes
                .cmp(&b.bytes)
                .then(a.sq_error.total_cmp(&b.sq_error))
        });
        Ok(QuantLayer {
            name: name.to_string(),
            rows,
            cols,
            norm2,
            options,
        })
    }

    fn numel(&self) -> u64 {
        (self.rows * self.cols) as u64
    }

    fn option(&self, t: GgmlType) -> Option<usize> {
        self.options.iter().position(|o| o.ggml_type == t)
    }

    /// Indices of the lower convex hull of (bytes, error), from the cheapest option.
    fn hull(&self) -> Vec<usize> {
        let pts = &self.options;
        let mut h: Vec<usize> = Vec::new();
        for i in 0..pts.len() {
            if h.last()
                .is_some_and(|&l| pts[i].sq_error >= pts[l].sq_error)
            {
                continue; // dominated: not cheaper and not better
            }
            while h.len() >= 2 {
                let (a, b) = (&pts[h[h.len() - 2]], &pts[h[h.len() - 1]]);
                let p = &pts[i];
                // b is on or above the chord a → p: drop it.
                let lhs = (b.sq_error - a.sq_error) * (p.bytes - a.bytes) as f64;
                let rhs = (p.sq_error - a.sq_error) * (b.bytes - a.bytes) as f64;
                if lhs >= rhs {
                    h.pop();
                } else {
                    break;
                }
            }
            h.push(i);
        }
        h
    }
}

/// One layer's choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerChoice {
    pub name: String,
    pub ggml_type: GgmlType,
    pub bytes: u64,
    pub rel_fro_error: f64,
}

/// A type per layer with its totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuantPlan {
    /// `"plan"` or the recipe's name.
    pub name: String,
    pub layers: Vec<LayerChoice>,
    pub bytes: u64,
    /// `8·bytes / Σ numel`.
    pub bits_per_weight: f64,
    /// `√(Σ e / Σ ‖W‖²)`.
    pub model_rel_error: f64,
}

impl QuantPlan {
    fn from_choice(name: &str, layers: &[QuantLayer], pick: &[usize]) -> Self {
        let mut out = Vec::with_capacity(layers.len());
        let (mut bytes, mut err, mut norm, mut numel) = (0u64, 0.0, 0.0, 0u64);
        for (l, &i) in layers.iter().zip(pick) {
            let o = l.options[i];
            bytes += o.bytes;
            err += o.sq_error;
            norm += l.norm2;
            numel += l.numel();
            out.push(LayerChoice {
                name: l.name.clone(),
                ggml_type: o.ggml_type,
                bytes: o.bytes,
                rel_fro_error: super::ratio(o.sq_error, l.norm2),
            });
        }
        QuantPlan {
            name: name.to_string(),
            layers: out,
            bytes,
            bits_per_weight: 8.0 * bytes as f64 / numel.max(1) as f64,
            model_rel_error: super::ratio(err, norm),
        }
    }

    /// `{tensor: "Q4_K", …}` (sorted by name).
    pub fn plan_json(&self) -> String {
        let m: BTreeMap<&str, &str> = self
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.ggml_type.name()))
            .collect();
        serde_json::to_string_pretty(&m).expect("a map of strings")
    }

    /// `--tensor-type NAME=type` arguments for llama-quantize, one per layer.
    pub fn tensor_type_args(&self) -> Vec<String> {
        self.layers
            .iter()
            .map(|l| {
                format!(
                    "--tensor-type {}={}",
                    l.name,
                    l.ggml_type.name().to_ascii_lowercase()
                )
            })
            .collect()
    }
}

/// A size budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum QuantBudget {
    /// Average bits per weight over the planned layers.
    BitsPerWeight(f64),
    Bytes(u64),
}

struct Seg {
    gain_per_byte: f64,
    layer: usize,
}
impl PartialEq for Seg {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Seg {}
impl PartialOrd for Seg {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Seg {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.gain_per_byte
            .total_cmp(&o.gain_per_byte)
            .then(o.layer.cmp(&self.layer))
    }
}

/// The greedy plan under `budget` (see the module doc). Errors: [`Error::InvalidParameter`]
/// when the budget is below every layer's cheapest option, [`Error::Empty`] for no layers.
pub fn plan_quantization(layers: &[QuantLayer], budget: QuantBudget) -> Result<QuantPlan> {
    if layers.is_empty() {
        return Err(Error::Empty { rows: 0, cols: 0 });
    }
    let numel: u64 = layers.iter().map(|l| l.numel()).sum();
    let budget = match budget {
        QuantBudget::Bytes(b) => b,
        QuantBudget::BitsPerWeight(b) => {
            if !(b.is_finite() && b > 0.0) {
                return Err(Error::InvalidParameter {
                    name: "budget",
                    reason: format!("{b} bits per weight"),
                });
            }
            (b * numel as f64 / 8.0).floor() as u64
        }
    };
    let hulls: Vec<Vec<usize>> = layers.iter().map(|l| l.hull()).collect();
    let mut pos = vec![0usize; layers.len()]; // position on the hull
    let mut used: u64 = layers.iter().map(|l| l.options[0].bytes).sum();
    if used > budget {
        return Err(Error::InvalidParameter {
            name: "budget",
            reason: format!(
                "{budget} bytes is below the smallest plan ({used} bytes, {:.3} bits per weight)",
                8.0 * used as f64 / numel as f64
            ),
        });
    }
    let seg = |li: usize, p: usize| -> Option<Seg> {
        let h = &hulls[li];
        (p + 1 < h.len()).then(|| {
            let (a, b) = (&layers[li].options[h[p]], &layers[li].options[h[p + 1]]);
            Seg {
                gain_per_byte: (a.sq_error - b.sq_error) / (b.bytes - a.bytes) as f64,
                layer: li,
            }
        })
    };
    let mut heap: BinaryHeap<Seg> = (0..layers.len()).filter_map(|li| seg(li, 0)).collect();
    while let Some(s) = heap.pop() {
        let li = s.layer;
        let h = &hulls[li];
        let cost = layers[li].options[h[pos[li] + 1]].bytes - layers[li].options[h[pos[li]]].bytes;
        if used + cost <= budget {
            used += cost;
            pos[li] += 1;
            if let Some(n) = seg(li, pos[li]) {
                heap.push(n);
            }
        }
    }
    let mut pick: Vec<usize> = (0..layers.len()).map(|li| hulls[li][pos[li]]).collect();
    // Spend what is left on the best single upgrades that still fit (any option).
    loop {
        let mut best: Option<(f64, usize, usize)> = None;
        for (li, l) in layers.iter().enumerate() {
            let cur = l.options[pick[li]];
            for (oi, o) in l.options.iter().enumerate() {
                if o.bytes > cur.bytes
                    && o.sq_error < cur.sq_error
                    && used + o.bytes - cur.bytes <= budget
                {
                    let g = (cur.sq_error - o.sq_error) / (o.bytes - cur.bytes) as f64;
                    if best.is_none_or(|(bg, _, _)| g > bg) {
                        best = Some((g, li, oi));
                    }
                }
            }
        }
        let Some((_, li, oi)) = best else { break };
        used = used + layers[li].options[oi].bytes - layers[li].options[pick[li]].bytes;
        pick[li] = oi;
    }
    let error = |pick: &[usize]| -> f64 {
        layers
            .iter()
            .zip(pick)
            .map(|(l, &i)| l.options[i].sq_error)
            .sum()
    };
    if let Some(dp) = knapsack_plan(layers, budget) {
        if error(&dp) < error(&pick) {
            pick = dp;
        }
    }
    Ok(QuantPlan::from_choice("plan", layers, &pick))
}

/// Cells of the byte grid of [`Knapsack`].
const KNAPSACK_CELLS: u64 = 1 << 15;

/// The multiple-choice knapsack by dynamic programming over a byte grid: each layer's extra
/// bytes over its cheapest option are rounded **up** to whole cells of
/// `u = g·⌈(budget − Σ cheapest) / (g·KNAPSACK_CELLS)⌉` bytes (`g` = the gcd of all extra
/// bytes, so `u = g` is exact), and the capacity is rounded down, so
/// every plan it returns fits the budget. Exact when `u = 1` (small models); otherwise optimal
/// for the rounded costs. One table answers every smaller budget too (the error curve).
struct Knapsack {
    unit: u64,
    /// `best[c]`: least Σ e over all layers within `c` cells.
    best: Vec<f64>,
    /// `choice[ℓ][c]`: layer ℓ's option in that optimum over layers `0..=ℓ`.
    choice: Vec<Vec<u8>>,
}

impl Knapsack {
    /// `None` when the budget is below the cheapest plan.
    fn solve(layers: &[QuantLayer], budget: u64) -> Option<Self> {
        let base: u64 = layers.iter().map(|l| l.options[0].bytes).sum();
        let spare = budget.checked_sub(base)?;
        // Cells are a multiple of the gcd of every option's extra bytes, so costs that share a
        // factor (rows × block bytes) stay exact on a coarse grid.
        let g = layers
            .iter()
            .flat_map(|l| l.options.iter().map(move |o| o.bytes - l.options[0].bytes))
            .fold(0u64, gcd)
            .max(1);
        let unit = g * spare.div_ceil(g * KNAPSACK_CELLS).max(1);
        let cap = (spare / unit) as usize;
        let mut best = vec![0.0f64; cap + 1];
        let mut choice: Vec<Vec<u8>> = Vec::with_capacity(layers.len());
        for l in layers {
            let cost: Vec<usize> = l.options.iter().map(|o| Self::cells(l, o, unit)).collect();
            let mut next = vec![f64::INFINITY; cap + 1];
            let mut pick = vec![0u8; cap + 1];
            for c in 0..=cap {
                for (oi, o) in l.options.iter().enumerate() {
                    if cost[oi] <= c {
                        let e = best[c - cost[oi]] + o.sq_error;
                        if e < next[c] {
                            next[c] = e;
                            pick[c] = oi as u8;
                        }
                    }
                }
            }
            best = next;
            choice.push(pick);
        }
        Some(Knapsack { unit, best, choice })
    }

    fn cells(l: &QuantLayer, o: &QuantOption, unit: u64) -> usize {
        (o.bytes - l.options[0].bytes).div_ceil(unit) as usize
    }

    /// The optimal options within `c` cells.
    fn pick(&self, layers: &[QuantLayer], mut c: usize) -> Vec<usize> {
        let mut out = vec![0usize; layers.len()];
        for li in (0..layers.len()).rev() {
            let oi = self.choice[li][c] as usize;
            out[li] = oi;
            c -= Self::cells(&layers[li], &layers[li].options[oi], self.unit);
        }
        out
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn knapsack_plan(layers: &[QuantLayer], budget: u64) -> Option<Vec<usize>> {
    let k = Knapsack::solve(layers, budget)?;
    Some(k.pick(layers, k.best.len() - 1))
}

/// One point of the plan's error-vs-size curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuantCurvePoint {
    pub bytes: u64,
    pub bits_per_weight: f64,
    pub model_rel_error: f64,
}

/// A fixed recipe and the plan at ≤ its size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipeComparison {
    pub recipe: QuantPlan,
    /// `None` when the recipe is below the smallest plan (cannot happen with the default types).
    pub plan_at_same_size: Option<QuantPlan>,
}

/// Everything a panel or the CLI shows: the plan at the budget, the recipes with the plan at
/// each one's size, and the plan's error at `curve_points` sizes from the smallest to the
/// largest plan (one knapsack table).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuantSummary {
    pub plan: QuantPlan,
    pub recipes: Vec<RecipeComparison>,
    pub curve: Vec<QuantCurvePoint>,
    pub min_bits_per_weight: f64,
    pub max_bits_per_weight: f64,
}

/// The recipes [`quant_summary`] compares with.
pub const SUMMARY_RECIPES: [Recipe; 7] = [
    Recipe::Uniform(GgmlType::Q4_0),
    Recipe::Uniform(GgmlType::Iq4Nl),
    Recipe::Uniform(GgmlType::Q4K),
    Recipe::Q4KM,
    Recipe::Q5KM,
    Recipe::Uniform(GgmlType::Q6K),
    Recipe::Uniform(GgmlType::Q8_0),
];

/// The plan under `budget`, the [`SUMMARY_RECIPES`] that apply (a recipe whose type has no
/// option for some layer is left out), and the error curve.
pub fn quant_summary(
    layers: &[QuantLayer],
    budget: QuantBudget,
    curve_points: usize,
) -> Result<QuantSummary> {
    let plan = plan_quantization(layers, budget)?;
    let mut recipes = Vec::new();
    for r in SUMMARY_RECIPES {
        let Ok(rp) = recipe_plan(layers, r) else {
            continue;
        };
        let same = plan_quantization(layers, QuantBudget::Bytes(rp.bytes)).ok();
        recipes.push(RecipeComparison {
            recipe: rp,
            plan_at_same_size: same,
        });
    }
    let numel: u64 = layers.iter().map(|l| l.numel()).sum();
    let min: u64 = layers.iter().map(|l| l.options[0].bytes).sum();
    let max: u64 = layers
        .iter()
        .map(|l| l.options.iter().map(|o| o.bytes).max().unwrap_or(0))
        .sum();
    let bpw = |b: u64| 8.0 * b as f64 / numel.max(1) as f64;
    let mut curve = Vec::new();
    if let Some(k) = Knapsack::solve(layers, max) {
        let cap = k.best.len() - 1;
        let n = curve_points.max(2);
        let mut last = None;
        for i in 0..n {
            let c = cap * i / (n - 1);
            if last == Some(c) {
                continue;
            }
            last = Some(c);
            let p = QuantPlan::from_choice("plan", layers, &k.pick(layers, c));
            curve.push(QuantCurvePoint {
                bytes: p.bytes,
                bits_per_weight: p.bits_per_weight,
                model_rel_error: p.model_rel_error,
            });
        }
    }
    Ok(QuantSummary {
        plan,
        recipes,
        curve,
        min_bits_per_weight: bpw(min),
        max_bits_per_weight: bpw(max),
    })
}

/// llama.cpp's fixed recipes (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Recipe {
    /// Every layer the same type.
    Uniform(GgmlType),
    /// `Q4_K_M`: Q4_K, with Q6_K on some `attn_v`/`ffn_down` and the output projection.
    Q4KM,
    /// `Q5_K_M`: Q5_K, with the same Q6_K exceptions.
    Q5KM,
}

impl Recipe {
    pub fn name(self) -> String {
        match self {
            Recipe::Uniform(t) => format!("uniform {}", t.name()),
            Recipe::Q4KM => "Q4_K_M".into(),
            Recipe::Q5KM => "Q5_K_M".into(),
        }
    }
}

/// The role of a tensor for the recipes, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    AttnV,
    FfnDown,
    Output,
    Other,
}

fn role(name: &str) -> Role {
    let n = name.to_ascii_lowercase();
    if n.contains("attn_v.")
        || n.contains("v_proj")
        || n.contains("attention.self.value")
        || n.ends_with("attn.v.weight")
    {
        Role::AttnV
    } else if n.contains("ffn_down")
        || n.contains("down_proj")
        || n.contains("mlp.c_proj")
        || n.contains("mlp.fc2")
        || n.contains("w2.weight")
        || (layer_index(&n).is_some() && n.contains(".output.dense") && !n.contains("attention"))
    {
        Role::FfnDown
    } else if n == "output.weight" || n.starts_with("lm_head") {
        Role::Output
    } else {
        Role::Other
    }
}

/// The number after `blk.`, `layers.`, `layer.` or `h.` in a tensor name.
fn layer_index(name: &str) -> Option<usize> {
    for key in ["blk.", "layers.", "layer.", "h."] {
        if let Some(p) = name.find(key) {
            let rest = &name[p + key.len()..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(i) = digits.parse() {
                return Some(i);
            }
        }
    }
    None
}

/// `(layer index, layer count)` from the name when it has one, else `(counter, count)`.
fn index_or_count(name: &str, counter: usize, n_layers: usize, count: usize) -> (usize, usize) {
    match layer_index(&name.to_ascii_lowercase()) {
        Some(i) if n_layers > 0 => (i, n_layers),
        _ => (counter, count),
    }
}

/// llama.cpp's `use_more_bits(i, n)`.
fn use_more_bits(i: usize, n: usize) -> bool {
    i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2
}

/// The recipe's plan for `layers` (types fall back as llama-quantize does). Errors when a
/// layer has no option of the recipe's type.
pub fn recipe_plan(layers: &[QuantLayer], recipe: Recipe) -> Result<QuantPlan> {
    let n_layers = layers
        .iter()
        .filter_map(|l| layer_index(&l.name.to_ascii_lowercase()))
        .max()
        .map_or(0, |m| m + 1);
    let (mut i_v, mut i_down) = (0usize, 0usize);
    let (n_v, n_down) = (
        layers
            .iter()
            .filter(|l| role(&l.name) == Role::AttnV)
            .count(),
        layers
            .iter()
            .filter(|l| role(&l.name) == Role::FfnDown)
            .count(),
    );
    let mut pick = Vec::with_capacity(layers.len());
    for l in layers {
        let t = match recipe {
            Recipe::Uniform(t) => t,
            Recipe::Q4KM | Recipe::Q5KM => {
                let base = if recipe == Recipe::Q4KM {
                    GgmlType::Q4K
                } else {
                    GgmlType::Q5K
                };
                match role(&l.name) {
                    Role::AttnV => {
                        i_v += 1;
                        let (i, n) = index_or_count(&l.name, i_v - 1, n_layers, n_v);
                        if use_more_bits(i, n) {
                            GgmlType::Q6K
                        } else {
                            base
                        }
                    }
                    Role::FfnDown => {
                        i_down += 1;
                        let (i, n) = index_or_count(&l.name, i_down - 1, n_layers, n_down);
                        if use_more_bits(i, n) {
                            GgmlType::Q6K
                        } else {
                            base
                        }
                    }
                    Role::Output => GgmlType::Q6K,
                    Role::Other => base,
                }
            }
        };
        let used = t.effective(l.cols).ok_or_else(|| Error::Shape {
            expected: format!("rows fitting {} (tensor `{}`)", t.name(), l.name),
            found: format!("{} × {}", l.rows, l.cols),
        })?;
        pick.push(l.option(used).ok_or_else(|| Error::InvalidParameter {
            name: "types",
            reason: format!("{} was not measured for `{}`", used.name(), l.name),
        })?);
    }
    Ok(QuantPlan::from_choice(&recipe.name(), layers, &pick))
}

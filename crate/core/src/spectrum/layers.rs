//! The layer walk (which tensors are analysed, as WeightWatcher does for a state dict) and the
//! construction of each layer's ESD.
//!
//! - Only tensors whose name ends in `.weight` are layers (WW's state-dict rule; set
//!   [`WalkParams::weights_only`] to `false` to analyse every tensor).
//! - Rank 2 → dense (Linear, Embedding, and HF GPT‑2 `Conv1D`, whose `in × out` storage gives the
//!   same singular values); rank 4 → Conv2D; any other rank is skipped with its reason.
//! - Per slice `N = max`, `M = min` of its shape; `rf = kh·kw` for Conv2D (1 otherwise).
//! - Size gates with WW 0.7.7 defaults: skipped if `M·rf < min_evals` (8) or `M·rf > max_evals`
//!   (15000), or `N > max_n` (50000).
//! - Conv2D (WW `conv2D_Wmats`): axes `(a, b, i, j)`; if `a + b ≥ i + j` the layout is PyTorch's
//!   `(out, in, kh, kw)` and the slices are `T[:, :, i, j]`, else Keras' `(kh, kw, in, out)` with
//!   slices `T[i, j, :, :]`. Each slice's eigenvalues are multiplied by ½ (WW's
//!   `conv2d_norm`, the √(1/2) weight scaling) and all slices are pooled into one ESD.
//! - The ESD is sorted ascending; Gram round-off below 0 is clamped to 0.
//! - Eigenvalues of a Gram matrix are exact down to a noise floor (`≈ 64·N·ε₆₄·λ_max` for an
//!   f64 Gram, `≈ 128·ε₃₂·λ_max` for the f32 SIMD Gram). A slice with eigenvalues below that floor
//!   (rank-deficient or ill-conditioned) gets its spectrum from an f64 SVD instead (`σᵢ²`, as WW
//!   computes it), so tiny singular values, `matrix_rank` and `entropy` stay exact.

use crate::linalg::{
    gram_eigenvalues_mode, singular_values, singular_values_two_stage, GramInput, GramParams,
};

/// Slices whose smaller side is at least this long take the two-stage SVD
/// ([`singular_values_two_stage`]) when the Gram's floor forces an SVD; measured natively:
/// 1024² 0.21 s vs faer's 0.25 s, 2048² 1.1 vs 4.8 s, 4096² 8.2 vs 42 s.
const TWO_STAGE_SVD_MIN: usize = 1000;
use crate::{Error, Result};
use ndarray::{ArrayView2, ArrayViewD, Axis, Ix2};
use serde::Serialize;

/// Gates and filters of the walk.
#[derive(Debug, Clone, Copy)]
pub struct WalkParams {
    pub min_evals: usize,
    pub max_evals: usize,
    pub max_n: usize,
    pub weights_only: bool,
}

impl Default for WalkParams {
    fn default() -> Self {
        WalkParams {
            min_evals: 8,
            max_evals: 15000,
            max_n: 50000,
            weights_only: true,
        }
    }
}

/// Kind of an analysed layer (WW's `layer_type` for state dicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    Dense,
    Conv2d,
}

/// One tensor of the file and what the walk decided about it.
#[derive(Debug, Clone, Serialize)]
pub struct LayerPlan {
    /// Position in the file (0-based, file order).
    pub index: usize,
    /// WeightWatcher's `layer_id` for a state dict: 1-based counter over the tensors that are
    /// layer candidates by name (`*.weight` when `weights_only`), in file order, analysed or not.
    pub layer_id: usize,
    pub name: String,
    pub shape: Vec<usize>,
    pub kind: Option<LayerKind>,
    #[serde(rename = "N")]
    pub n: usize,
    #[serde(rename = "M")]
    pub m: usize,
    pub rf: usize,
    /// Why the tensor is not analysed (None: analysed).
    pub skip: Option<String>,
    /// The tensor is a weight the walk accepted but WeightWatcher's size gates (`min_evals`,
    /// `max_evals`, `max_N`) skip: analyses that have no such gate (quantization) still use it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub size_gated: bool,
}

/// Plans the analysis of tensors given as `(name, shape, unsupported dtype reason)` in file order.
pub fn plan_layers(
    tensors: &[(String, Vec<usize>, Option<String>)],
    params: &WalkParams,
) -> Vec<LayerPlan> {
    let mut counter = 0;
    tensors
        .iter()
        .enumerate()
        .map(|(index, (name, shape, dtype_problem))| {
            if !params.weights_only || name.ends_with(".weight") {
                counter += 1;
            }
            let mut plan = LayerPlan {
                index,
                layer_id: counter,
                name: name.clone(),
                shape: shape.clone(),
                kind: None,
                n: 0,
                m: 0,
                rf: 1,
                skip: None,
                size_gated: false,
            };
            let skip = |why: String| Some(why);
            plan.skip = if params.weights_only && !name.ends_with(".weight") {
                skip("not a `.weight` tensor".into())
            } else if let Some(p) = dtype_problem {
                skip(p.clone())
            } else {
                match shape.len() {
                    2 => {
                        plan.kind = Some(LayerKind::Dense);
                        plan.n = shape[0].max(shape[1]);
                        plan.m = shape[0].min(shape[1]);
                        None
                    }
                    4 => {
                        plan.kind = Some(LayerKind::Conv2d);
                        let (a, b, i, j) = (shape[0], shape[1], shape[2], shape[3]);
                        let (r, c, rf) = if a + b >= i + j {
                            (a, b, i * j)
                        } else {
                            (i, j, a * b)
                        };
                        plan.n = r.max(c);
                        plan.m = r.min(c);
                        plan.rf = rf;
                        None
                    }
                    1 => skip("1-D tensor (bias or norm): no spectrum".into()),
                    0 => skip("scalar tensor".into()),
                    d => skip(format!(
                        "{d}-D tensor: only 2-D and 4-D (conv) weights are analysed"
                    )),
                }
            };
            if plan.skip.is_none() {
                let evals = plan.m * plan.rf;
                if plan.m == 0 {
                    plan.skip = Some("empty tensor".into());
                } else if evals < params.min_evals {
                    plan.skip = Some(format!(
                        "{evals} eigenvalues < min_evals = {}",
                        params.min_evals
                    ));
                } else if evals > params.max_evals {
                    plan.skip = Some(format!(
                        "{evals} eigenvalues > max_evals = {}",
                        params.max_evals
                    ));
                } else if plan.n > params.max_n {
                    plan.skip = Some(format!("N = {} > max_N = {}", plan.n, params.max_n));
                }
                if plan.skip.is_some() {
                    plan.size_gated = plan.m > 0;
                    plan.kind = None;
                }
            }
            plan
        })
        .collect()
}

/// A layer's pooled ESD and the per-slice singular-value facts WW reports.
#[derive(Debug, Clone)]
pub struct LayerEsd {
    /// Ascending, ≥ 0, conv slices ×½ and pooled.
    pub evals: Vec<f64>,
    /// max σ over slices (after the conv scaling).
    pub sv_max: f64,
    /// max over slices of the slice's min σ.
    pub sv_min: f64,
    /// Σ over slices of (#σ − numerical rank).
    pub rank_loss: usize,
}

/// The 2-D slices of a layer tensor (see the module doc), as views.
pub fn layer_slices<'a, T>(
    t: &'a ArrayViewD<'a, T>,
    kind: LayerKind,
) -> Result<Vec<ArrayView2<'a, T>>> {
    let bad = |what: &str| Error::Shape {
        expected: what.into(),
        found: format!("{:?}", t.shape()),
    };
    match kind {
        LayerKind::Dense => Ok(vec![t
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| bad("a 2-D tensor"))?]),
        LayerKind::Conv2d => {
            if t.ndim() != 4 {
                return Err(bad("a 4-D tensor"));
            }
            let s = t.shape();
            let mut out = Vec::new();
            if s[0] + s[1] >= s[2] + s[3] {
                for i in 0..s[2] {
                    for j in 0..s[3] {
                        let v = t.index_axis(Axis(3), j).index_axis_move(Axis(2), i);
                        out.push(v.into_dimensionality::<Ix2>().map_err(|_| bad("4-D"))?);
                    }
                }
            } else {
                for i in 0..s[0] {
                    for j in 0..s[1] {
                        let v = t.index_axis(Axis(0), i).index_axis_move(Axis(0), j);
                        out.push(v.into_dimensionality::<Ix2>().map_err(|_| bad("4-D"))?);
                    }
                }
            }
            Ok(out)
        }
    }
}

/// ESD of a layer tensor (f32 or f64 storage); f32 with the fast Gram (see [`layer_esd_mode`]).
pub fn layer_esd<T: GramInput>(
    t: ArrayViewD<'_, T>,
    kind: LayerKind,
    gram: &GramParams,
) -> Result<LayerEsd> {
    layer_esd_mode(t, kind, gram, false)
}

/// ESD of a layer tensor; `exact`: f32 storage gets the exact (f64-accumulated) Gram, as if the
/// tensor had been widened to f64.
pub fn layer_esd_mode<T: GramInput>(
    t: ArrayViewD<'_, T>,
    kind: LayerKind,
    gram: &GramParams,
    exact: bool,
) -> Result<LayerEsd> {
    let slices = layer_slices(&t, kind)?;
    let scale = if kind == LayerKind::Conv2d { 0.5 } else { 1.0 };
    let mut evals = Vec::new();
    let (mut sv_max, mut sv_min, mut rank_loss) = (0.0f64, 0.0f64, 0usize);
    for s in slices {
        let n_big = s.nrows().max(s.ncols());
        let ev = slice_esd(s, gram, exact)?;
        let ev: Vec<f64> = ev.iter().map(|&l| (l * scale).max(0.0)).collect();
        let lmax = ev.last().copied().unwrap_or(0.0);
        let lmin = ev.first().copied().unwrap_or(0.0);
        sv_max = sv_max.max(lmax.sqrt());
        sv_min = sv_min.max(lmin.sqrt());
        rank_loss += ev.len() - super::metrics::matrix_rank(&ev, n_big);
        evals.extend(ev);
    }
    evals.sort_by(f64::total_cmp);
    Ok(LayerEsd {
        evals,
        sv_max,
        sv_min,
        rank_loss,
    })
}

/// Eigenvalues of `SᵀS` (or `SSᵀ`) of one 2-D slice, ascending, unscaled: from the Gram matrix,
/// or from an f64 SVD when some fall below the Gram's noise floor (see the module doc).
/// `exact`: f32 input gets the exact Gram (and the f64 noise floor).
pub fn slice_esd<T: GramInput>(
    s: ArrayView2<'_, T>,
    gram: &GramParams,
    exact: bool,
) -> Result<Vec<f64>> {
    let n_big = s.nrows().max(s.ncols());
    let ev = gram_eigenvalues_mode(s, gram, exact)?.to_vec();
    let top = ev.last().copied().unwrap_or(0.0);
    let floor = if std::mem::size_of::<T>() == 4 && !exact {
        128.0 * f32::EPSILON as f64 * top
    } else {
        64.0 * n_big as f64 * f64::EPSILON * top
    };
    if ev.first().is_some_and(|&l| l < floor) {
        if s.nrows().min(s.ncols()) >= TWO_STAGE_SVD_MIN {
            let m = faer::Mat::<f64>::from_fn(s.nrows(), s.ncols(), |i, j| s[(i, j)].to_f64());
            let sv = singular_values_two_stage(m)?; // ascending
            return Ok(sv.iter().map(|x| x * x).collect());
        }
        let s64 = s.mapv(|v| v.to_f64());
        let sv = singular_values(s64.view())?;
        return Ok(sv.iter().rev().map(|x| x * x).collect());
    }
    Ok(ev)
}

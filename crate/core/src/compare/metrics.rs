//! Per-layer comparison of two matrices (dense ΔW or low-rank ΔW = s·P·Q); the formulas are in
//! the module doc of [`super`].

use crate::linalg::{householder_qr, singular_values, thin_svd, GramParams, Svd};
use crate::spectrum::farms::{farms_layer, FarmsParams};
use crate::spectrum::layers::LayerKind;
use crate::spectrum::power_law::{fit_power_law, PowerLawParams};
use crate::{Error, Result};
use ndarray::{s, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// The ε values of [`LayerComparison::intruder_sweep`]: 0.1, 0.2, …, 0.9.
pub const EPS_SWEEP: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// Smallest ESD (min(m, n)) for which α is fitted (WeightWatcher's `min_evals`).
pub const MIN_EVALS_FOR_ALPHA: usize = 8;

/// Tunables of a comparison. On the wire (the bindings' options object): `{k, eps, alpha,
/// farms, layers, maxElements}`, all optional, unknown keys refused.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CompareParams {
    /// How many top singular vectors of the other model are tested for intruders, and the size
    /// of the subspaces whose overlap is reported (default 10).
    pub k: usize,
    /// Intruder threshold ε: vector j is an intruder iff c_j < ε (default 0.5).
    pub eps: f64,
    /// Fit the power-law α of both weights (default true).
    pub alpha: bool,
    /// Also FARMS α ([`crate::spectrum::farms`], default windows) of both weights (default false).
    pub farms: bool,
    /// Keep only layers whose (base) name contains one of these parts (empty: all).
    pub layers: Vec<String>,
    /// Largest layer (m·n elements) compared: a comparison takes full SVDs with vectors of both
    /// weights in f64 (about 5 dense m×n copies), so a bigger layer is listed as unmatched
    /// instead (default 2²⁴ = 16 777 216, one 4096×4096 matrix).
    pub max_elements: usize,
}

/// Default [`CompareParams::max_elements`].
pub const DEFAULT_MAX_ELEMENTS: usize = 1 << 24;

impl Default for CompareParams {
    fn default() -> Self {
        CompareParams {
            k: 10,
            eps: 0.5,
            alpha: true,
            farms: false,
            layers: Vec::new(),
            max_elements: DEFAULT_MAX_ELEMENTS,
        }
    }
}

impl CompareParams {
    /// Parses `{k, eps, alpha, farms, layers, maxElements}` (all optional; unknown keys refused) and
    /// [validates](Self::validate) it: the options object of the bindings.
    pub fn from_json(text: &str) -> Result<CompareParams> {
        let p: CompareParams = crate::session::options::options_from_json(text)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks `k ≥ 1`, `0 < ε ≤ 1` and `max_elements ≥ 1`.
    pub fn validate(&self) -> Result<()> {
        if self.max_elements == 0 {
            return Err(Error::InvalidParameter {
                name: "maxElements",
                reason: "must be at least 1".into(),
            });
        }
        if self.k == 0 {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: "must be at least 1".into(),
            });
        }
        if !(self.eps > 0.0 && self.eps <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "eps",
                reason: format!("{} is outside (0, 1]", self.eps),
            });
        }
        Ok(())
    }
}

/// The metrics of one compared layer (see the module doc of [`super`] for every formula).
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct LayerComparison {
    /// The base tensor's name.
    pub name: String,
    /// The other tensor's name (or the adapter module's).
    pub other_name: String,
    /// Shape as stored in the base (rows, cols).
    pub shape: Vec<usize>,
    /// `full` (two checkpoints), `lora`, `lora_embedding`, `modules_to_save`.
    pub kind: String,
    /// The other tensor was stored transposed and was transposed back.
    pub transposed: bool,
    /// llama.cpp's Q/K row permutation was undone on the other tensor.
    pub unpermuted: bool,
    /// LoRA rank r and scale s (adapters only).
    pub lora_rank: Option<usize>,
    pub lora_scale: Option<f64>,
    /// ‖W_base‖_F.
    pub base_fro: f64,
    /// ‖ΔW‖_F.
    pub delta_fro: f64,
    /// ‖ΔW‖_F / ‖W_base‖_F.
    pub delta_rel_fro: f64,
    /// σ₁(ΔW).
    pub delta_spectral_norm: f64,
    /// σ₁(ΔW) / σ₁(W_base).
    pub delta_spectral_rel: f64,
    /// ‖ΔW‖_F² / σ₁(ΔW)² (0 when ΔW = 0).
    pub delta_stable_rank: f64,
    /// Roy–Vetterli effective rank exp(H(p)), p_i = σ_i/Σσ of ΔW (0 when ΔW = 0).
    pub delta_erank: f64,
    /// Power-law α (WeightWatcher's default fit) of the base and the other weight.
    pub alpha_base: Option<f64>,
    pub alpha_other: Option<f64>,
    /// alpha_other − alpha_base.
    pub delta_alpha: Option<f64>,
    /// FARMS α of the base and the other weight (with [`CompareParams::farms`]).
    pub farms_alpha_base: Option<f64>,
    pub farms_alpha_other: Option<f64>,
    /// Mean cos² of the principal angles between the top-k left (right) singular subspaces.
    pub overlap_left: f64,
    pub overlap_right: f64,
    /// #{j ≤ k : c_j < ε} over left (right) singular vectors.
    pub intruders: usize,
    pub intruders_right: usize,
    /// c_j = max_i |⟨u_j(W_other), u_i(W_base)⟩| for the top-k left vectors, in σ order.
    pub intruder_sims: Vec<f64>,
    /// The same with right singular vectors.
    pub intruder_sims_right: Vec<f64>,
    /// Left intruder counts at ε = 0.1, 0.2, …, 0.9.
    pub intruder_sweep: Vec<usize>,
    /// √(2 ln m / m), m = rows: c of a random unit vector against the base's left vectors.
    pub chance_level: f64,
    /// 10·log₁₀(‖W_base‖_F² / ‖ΔW‖_F²) dB (+∞ — `null` in JSON — when ΔW = 0).
    pub sqnr_db: f64,
    /// |⟨u_j(W_other), u_i(W_base)⟩| for j, i < k (row j: the other model's j-th left vector):
    /// the heatmap behind `intruder_sims` restricted to the base's top k.
    pub overlap_matrix: Vec<Vec<f64>>,
    /// The ESDs σᵢ² of W_base and W_other (descending). Not serialised: the bindings keep them
    /// and send only the selected layer's.
    #[serde(skip)]
    pub evals_base: Vec<f64>,
    #[serde(skip)]
    pub evals_other: Vec<f64>,
}

/// Singular values of `s·P·Q` (P m×r, Q r×n) from the r×r core, without forming the product:
/// P = Q_P R_P, Qᵀ = Q_Q R_Q, σ(sPQ) = |s|·σ(R_P R_Qᵀ). Descending, length min(m, n, r).
pub fn low_rank_singular_values(
    p: ArrayView2<'_, f64>,
    q: ArrayView2<'_, f64>,
    scale: f64,
) -> Result<Vec<f64>> {
    if p.ncols() != q.nrows() {
        return Err(Error::Shape {
            expected: format!("inner dimensions to agree (P has {} columns)", p.ncols()),
            found: format!("Q with {} rows", q.nrows()),
        });
    }
    let rp = householder_qr(p)?.r;
    let rq = householder_qr(q.t())?.r;
    let core = rp.dot(&rq.t());
    let sv = singular_values(core.view())?;
    Ok(sv.iter().map(|v| v * scale.abs()).collect())
}

fn frobenius(a: ArrayView2<'_, f64>) -> f64 {
    a.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Power-law α of a matrix from its singular values (ESD = σ², ascending), WeightWatcher's
/// default fit; `None` when the ESD is shorter than [`MIN_EVALS_FOR_ALPHA`] or the fit fails.
pub fn alpha_from_singular_values(sv: &[f64]) -> Option<f64> {
    if sv.len() < MIN_EVALS_FOR_ALPHA {
        return None;
    }
    let mut ev: Vec<f64> = sv.iter().map(|v| v * v).collect();
    ev.sort_by(f64::total_cmp);
    fit_power_law(&ev, &PowerLawParams::default())
        .ok()
        .map(|f| f.alpha)
}

/// c_j = max_i |⟨x_j, y_i⟩| for the first `k` columns x_j of `x` against all columns of `y`.
fn max_similarities(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>, k: usize) -> Vec<f64> {
    let k = k.min(x.ncols());
    let s = x.slice(s![.., ..k]).t().dot(&y);
    s.rows()
        .into_iter()
        .map(|r| r.iter().fold(0.0f64, |m, v| m.max(v.abs())))
        .collect()
}

/// |⟨x_j, y_i⟩| for the first k columns of each: row j is x_j.
fn abs_cosines(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>, k: usize) -> Vec<Vec<f64>> {
    let (kx, ky) = (k.min(x.ncols()), k.min(y.ncols()));
    let m = x.slice(s![.., ..kx]).t().dot(&y.slice(s![.., ..ky]));
    m.rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v.abs()).collect())
        .collect()
}

/// ‖Xₖᵀ Yₖ‖_F² / k for the first k columns of each (mean cos² of the principal angles).
fn subspace_overlap(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>, k: usize) -> f64 {
    let k = k.min(x.ncols()).min(y.ncols());
    if k == 0 {
        return 0.0;
    }
    let m = x.slice(s![.., ..k]).t().dot(&y.slice(s![.., ..k]));
    m.iter().map(|v| v * v).sum::<f64>() / k as f64
}

/// Everything after the decompositions: `base`/`other` SVDs, ΔW's singular values and ‖W_base‖_F.
fn finish(
    base: &Svd<f64>,
    other: &Svd<f64>,
    delta_sv: &[f64],
    base_fro: f64,
    params: &CompareParams,
) -> LayerComparison {
    let (m, _) = base.u.dim();
    let d_fro2: f64 = delta_sv.iter().map(|v| v * v).sum();
    let d_fro = d_fro2.sqrt();
    let d1 = delta_sv.first().copied().unwrap_or(0.0);
    let b1 = base.s.first().copied().unwrap_or(0.0);
    let sum: f64 = delta_sv.iter().sum();
    let erank = if sum > 0.0 {
        let h: f64 = delta_sv
            .iter()
            .filter(|&&v| v > 0.0)
            .map(|&v| {
                let p = v / sum;
                -p * p.ln()
            })
            .sum();
        h.exp()
    } else {
        0.0
    };
    let v_base = base.vt.t();
    let v_other = other.vt.t();
    let sims = max_similarities(other.u.view(), base.u.view(), params.k);
    let sims_right = max_similarities(v_other.view(), v_base.view(), params.k);
    let count = |c: &[f64], eps: f64| c.iter().filter(|&&x| x < eps).count();
    let (alpha_base, alpha_other) = if params.alpha {
        (
            alpha_from_singular_values(&base.s.to_vec()),
            alpha_from_singular_values(&other.s.to_vec()),
        )
    } else {
        (None, None)
    };
    let mf = m as f64;
    LayerComparison {
        base_fro,
        delta_fro: d_fro,
        delta_rel_fro: d_fro / base_fro,
        delta_spectral_norm: d1,
        delta_spectral_rel: d1 / b1,
        delta_stable_rank: if d1 > 0.0 { d_fro2 / (d1 * d1) } else { 0.0 },
        delta_erank: erank,
        alpha_base,
        alpha_other,
        delta_alpha: alpha_base.zip(alpha_other).map(|(a, b)| b - a),
        overlap_left: subspace_overlap(base.u.view(), other.u.view(), params.k),
        overlap_right: subspace_overlap(v_base.view(), v_other.view(), params.k),
        intruders: count(&sims, params.eps),
        intruders_right: count(&sims_right, params.eps),
        intruder_sweep: EPS_SWEEP.iter().map(|&e| count(&sims, e)).collect(),
        intruder_sims: sims,
        intruder_sims_right: sims_right,
        chance_level: if m > 1 {
            (2.0 * mf.ln() / mf).sqrt()
        } else {
            1.0
        },
        sqnr_db: 10.0 * (base_fro * base_fro / d_fro2).log10(),
        overlap_matrix: abs_cosines(other.u.view(), base.u.view(), params.k),
        evals_base: base.s.iter().map(|v| v * v).collect(),
        evals_other: other.s.iter().map(|v| v * v).collect(),
        shape: vec![base.u.nrows(), base.vt.ncols()],
        ..Default::default()
    }
}

/// FARMS α of both matrices (when asked for; `None` where the fit fails).
fn add_farms(
    r: &mut LayerComparison,
    w0: ArrayView2<'_, f64>,
    w1: ArrayView2<'_, f64>,
    params: &CompareParams,
) {
    if !params.farms {
        return;
    }
    let fa = |w: ArrayView2<'_, f64>| {
        farms_layer(
            w.into_dyn(),
            LayerKind::Dense,
            &FarmsParams::default(),
            &GramParams::default(),
        )
        .ok()
        .map(|f| f.alpha)
    };
    r.farms_alpha_base = fa(w0);
    r.farms_alpha_other = fa(w1);
}

fn check_same_shape(w0: &ArrayView2<'_, f64>, w1: &ArrayView2<'_, f64>) -> Result<()> {
    if w0.dim() != w1.dim() {
        return Err(Error::Shape {
            expected: format!("{}×{} (the base)", w0.nrows(), w0.ncols()),
            found: format!("{}×{}", w1.nrows(), w1.ncols()),
        });
    }
    if w0.is_empty() {
        return Err(Error::Empty {
            rows: w0.nrows(),
            cols: w0.ncols(),
        });
    }
    Ok(())
}

/// Compares two dense matrices of the same shape: ΔW = W₁ − W₀, three SVDs (W₀, W₁ thin with
/// vectors; ΔW values only).
pub fn compare_matrices(
    w0: ArrayView2<'_, f64>,
    w1: ArrayView2<'_, f64>,
    params: &CompareParams,
) -> Result<LayerComparison> {
    params.validate()?;
    check_same_shape(&w0, &w1)?;
    let delta = &w1 - &w0;
    let delta_sv = singular_values(delta.view())?;
    let base = thin_svd(w0)?;
    let other = thin_svd(w1)?;
    let mut r = finish(&base, &other, &delta_sv.to_vec(), frobenius(w0), params);
    r.kind = "full".into();
    add_farms(&mut r, w0, w1, params);
    Ok(r)
}

/// Compares W₀ with W₀ + s·P·Q (P m×r, Q r×n): ΔW's singular values come from the r×r core
/// ([`low_rank_singular_values`]); W₀ + sPQ is formed once for its singular vectors (intruders,
/// overlaps) and α.
pub fn compare_low_rank(
    w0: ArrayView2<'_, f64>,
    p: ArrayView2<'_, f64>,
    q: ArrayView2<'_, f64>,
    scale: f64,
    params: &CompareParams,
) -> Result<LayerComparison> {
    params.validate()?;
    if p.nrows() != w0.nrows() || q.ncols() != w0.ncols() || p.ncols() != q.nrows() {
        return Err(Error::Shape {
            expected: format!(
                "factors ({}×r)·(r×{}) of the base's shape",
                w0.nrows(),
                w0.ncols()
            ),
            found: format!(
                "({}×{})·({}×{})",
                p.nrows(),
                p.ncols(),
                q.nrows(),
                q.ncols()
            ),
        });
    }
    check_same_shape(&w0, &w0)?;
    let delta_sv = low_rank_singular_values(p, q, scale)?;
    let w1: Array2<f64> = &w0 + &(p.dot(&q) * scale);
    let base = thin_svd(w0)?;
    let other = thin_svd(w1.view())?;
    let mut r = finish(&base, &other, &delta_sv, frobenius(w0), params);
    r.kind = "lora".into();
    add_farms(&mut r, w0, w1.view(), params);
    Ok(r)
}

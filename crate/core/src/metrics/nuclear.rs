//! Matrix Nuclear-Norm (MNN, Li et al. 2024) and the exact nuclear norm beside it.

use super::entropy::{centre_normalise_rows, to_f64};
use crate::linalg::{singular_values, Real};
use crate::Result;
use ndarray::{ArrayView2, Axis};
use serde::Serialize;

/// MNN of a set of rows and the exact quantity it approximates.
#[derive(Debug, Clone, Serialize)]
pub struct MnnReport {
    /// `MNN = L₁,₂ / N`: the authors' per-sentence score (the `L₁,₂` proxy).
    pub mnn: f64,
    /// `L₁,₂` = sum of the `min(N, d)` largest column norms of `R̂`.
    pub l12: f64,
    /// Exact nuclear norm `‖R̂‖_* = Σσᵢ(R̂)`.
    pub nuclear_norm: f64,
    /// `‖R̂‖_* / N`, the exact counterpart of `mnn` (`≤ mnn` up to the proxy's error, which
    /// can reach ~2×).
    pub nuclear_norm_over_n: f64,
}

/// Matrix Nuclear-Norm as MatrixNuclearNorm's `MNN.py` computes it: `R̂` = rows of `X`
/// (`N × d`) centred and L2-normalised (as Diff-eRank), `cⱼ = ‖R̂_{:,j}‖₂`,
/// `L₁,₂ = Σ` of the `min(N, d)` largest `cⱼ`, `MNN = L₁,₂/N`; plus the exact `‖R̂‖_*/N`.
/// For `N ≥ d`: `1/√N ≤ MNN ≤ √(d/N)`. Errors as [`super::matrix_entropy`] (centring
/// degeneracy is [`crate::Error::InvalidParameter`]).
pub fn matrix_nuclear_norm<T: Real>(x: ArrayView2<'_, T>) -> Result<MnnReport> {
    let x = to_f64(x)?;
    let (n, d) = x.dim();
    let r = centre_normalise_rows(&x)?;
    let mut c: Vec<f64> = r
        .axis_iter(Axis(1))
        .map(|col| col.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    c.sort_by(|a, b| b.total_cmp(a));
    let l12: f64 = c[..n.min(d)].iter().sum();
    let nuclear = singular_values(r.view())?.sum();
    Ok(MnnReport {
        mnn: l12 / n as f64,
        l12,
        nuclear_norm: nuclear,
        nuclear_norm_over_n: nuclear / n as f64,
    })
}

/// Exact nuclear norm `‖A‖_* = Σσᵢ` of `A` as given (no centring, no normalisation).
pub fn nuclear_norm<T: Real>(a: ArrayView2<'_, T>) -> Result<f64> {
    let a = to_f64(a)?;
    Ok(singular_values(a.view())?.sum())
}

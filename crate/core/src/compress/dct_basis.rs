//! Fixed DCT basis with column selection (SVD-free low rank), as DCT-AdamW's projector
//! (`FFTLowRankProjector`, matmul path, of IST-DASLab/ISTA-DASLab-Optimizers) computes it.
//!
//! `Q = dct3_matrix(c)`: `Q[a, b] = √(2/c)·cos(π a (2b + 1) / (2c))`, row `a = 0` scaled by
//! `1/√2` (the orthonormal DCT-II matrix, `Q Qᵀ = I`; built here in f64, the anchor builds it
//! in float32).
//! - **Right projection** when `N ≥ M` (and the anchor's special case `N ∈ {512, 1024}`,
//!   `M ∈ {3584, 4096}`): `c = M`, `S = W Q` (`N × c`), score each *column* of `S`, keep the top
//!   `r` columns `I`, `Ŵ = S[:, I] Q[:, I]ᵀ`.
//! - **Left projection** otherwise: `c = N`, `S = Qᵀ W`, score each *row*, `Ŵ = Q[:, I] S[I, :]`.
//! - Because `Q` is orthogonal, `‖W − Ŵ‖² = ‖W‖² − ‖S_I‖²`.
//! - Scores: [`DctScore::L1`] (ℓ1 norm: the anchor's default `ell_norm = 1`) or [`DctScore::L2`]
//!   (ℓ2 norm: the Frobenius-optimal choice). Ties: the lower index first (the anchor's
//!   `torch.topk` leaves them unspecified).
//! - Bytes: `r·(other side)` coefficients at `precision` plus a 4-byte index per kept column;
//!   the basis is implicit.
//!
//! Golden: `tests/goldens/compress/dct_basis.json` from a numpy port of the anchor
//! (`make_goldens.py` beside it), matched to 1e-9.

use super::{check_matrix, ratio, Precision, TradeoffPoint};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// Orthonormal DCT-II matrix of size `n` (O(n²), f64).
pub fn dct_ii_matrix(n: usize) -> Array2<f64> {
    let nf = n as f64;
    Array2::from_shape_fn((n, n), |(a, b)| {
        let v = (2.0 / nf).sqrt()
            * (std::f64::consts::PI * a as f64 * (2 * b + 1) as f64 / (2.0 * nf)).cos();
        if a == 0 {
            v / 2f64.sqrt()
        } else {
            v
        }
    })
}

/// How DCT columns are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DctScore {
    L2,
    L1,
}

/// Options of [`dct_basis_curve`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DctParams {
    pub score: DctScore,
    pub precision: Precision,
}

impl Default for DctParams {
    fn default() -> Self {
        DctParams {
            score: DctScore::L2,
            precision: Precision::F16,
        }
    }
}

/// Whether the anchor projects on the right (`S = W Q`, `Q` of size `M`).
fn is_right_projection(n: usize, m: usize) -> bool {
    n >= m || ([512, 1024].contains(&n) && [3584, 4096].contains(&m))
}

/// Coefficients `S` in "right" orientation (`W Q`, or `(Qᵀ W)ᵀ = Wᵀ Q` for the left
/// projection), the basis `Q`, and the order of the columns by decreasing score.
fn coefficients(w: ArrayView2<'_, f64>, score: DctScore) -> (Array2<f64>, Array2<f64>, Vec<usize>) {
    let right = is_right_projection(w.nrows(), w.ncols());
    let wt = if right {
        w.to_owned()
    } else {
        w.t().to_owned()
    };
    let q = dct_ii_matrix(wt.ncols());
    let s = wt.dot(&q);
    let scores: Vec<f64> = s
        .columns()
        .into_iter()
        .map(|col| match score {
            DctScore::L2 => col.iter().map(|v| v * v).sum(),
            DctScore::L1 => col.iter().map(|v| v.abs()).sum(),
        })
        .collect();
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    (s, q, order)
}

/// `Ŵ` from the top-`r` DCT columns (see the module doc).
pub fn dct_basis_approx(w: ArrayView2<'_, f64>, r: usize, score: DctScore) -> Result<Array2<f64>> {
    check_matrix(w)?;
    let right = is_right_projection(w.nrows(), w.ncols());
    let cmax = if right { w.ncols() } else { w.nrows() };
    if r > cmax {
        return Err(Error::InvalidParameter {
            name: "rank",
            reason: format!("{r} exceeds the basis size {cmax}"),
        });
    }
    let (s, q, order) = coefficients(w, score);
    let mut out = Array2::<f64>::zeros((s.nrows(), q.nrows()));
    for &f in order.iter().take(r) {
        let col = s.column(f);
        let basis = q.column(f);
        for (i, &v) in col.iter().enumerate() {
            out.row_mut(i).scaled_add(v, &basis);
        }
    }
    Ok(if right { out } else { out.t().to_owned() })
}

/// DCT-basis curve for `r = 0..=c` (`c` the basis size) (`method = "dct-l2"` / `"dct-l1"`, `param` = r).
pub fn dct_basis_curve(w: ArrayView2<'_, f64>, params: &DctParams) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    let (s, _, order) = coefficients(w, params.score);
    let energy: Vec<f64> = s
        .columns()
        .into_iter()
        .map(|c| c.iter().map(|v| v * v).sum())
        .collect();
    let long = if is_right_projection(w.nrows(), w.ncols()) {
        w.nrows()
    } else {
        w.ncols()
    } as u64;
    let method = match params.score {
        DctScore::L2 => "dct-l2",
        DctScore::L1 => "dct-l1",
    };
    // Discarded energy summed from the least important column up (no `total − kept` cancellation).
    let ordered: Vec<f64> = order.iter().map(|&f| energy[f]).collect();
    let tail = super::truncation::tail_energies(&ordered);
    let total = tail[0];
    let out = (0..=order.len())
        .map(|r| TradeoffPoint {
            method: method.into(),
            param: r as f64,
            bytes: params.precision.bytes(r as u64 * long) + 4 * r as u64,
            rel_fro_error: ratio(tail[r], total),
        })
        .collect();
    Ok(out)
}

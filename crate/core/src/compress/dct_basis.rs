//! Fixed DCT basis with column selection (SVD-free low rank, as in the DCT-AdamW projector).
//!
//! Works on the smaller side `c = min(N, M)` with the orthonormal DCT-II matrix
//! `C[a, b] = √(2/c)·cos(π a (2b + 1) / (2c))`, row `a = 0` scaled by `1/√2` (`C Cᵀ = I`).
//! If `N ≥ M`: `S = W Cᵀ` (every row's DCT coefficients, `N × c`), keep the frequency columns
//! `I` with the largest scores, `Ŵ = S[:, I] C[I, :]`. Otherwise the same on `Wᵀ`.
//! Because `C` is orthogonal, `‖W − Ŵ‖² = ‖W‖² − ‖S[:, I]‖²`.
//! Scores: [`DctScore::L2`] (column energy: the Frobenius-optimal choice) or [`DctScore::L1`]
//! (ℓ1 norm, as in the paper's code). Bytes: `r·max(N, M)` coefficients at `precision` plus a
//! 4-byte index per kept column; the basis is implicit.

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

/// Coefficients `S` (long side × c) and the order of the columns by decreasing score.
fn coefficients(w: ArrayView2<'_, f64>, score: DctScore) -> (Array2<f64>, Array2<f64>, Vec<usize>) {
    let tall = w.nrows() >= w.ncols();
    let wt = if tall { w.to_owned() } else { w.t().to_owned() };
    let c = dct_ii_matrix(wt.ncols());
    let s = wt.dot(&c.t());
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
    (s, c, order)
}

/// `Ŵ` from the top-`r` DCT columns (see the module doc).
pub fn dct_basis_approx(w: ArrayView2<'_, f64>, r: usize, score: DctScore) -> Result<Array2<f64>> {
    check_matrix(w)?;
    let cmax = w.nrows().min(w.ncols());
    if r > cmax {
        return Err(Error::InvalidParameter {
            name: "rank",
            reason: format!("{r} exceeds min(N, M) = {cmax}"),
        });
    }
    let (s, c, order) = coefficients(w, score);
    let mut out = Array2::<f64>::zeros((s.nrows(), c.ncols()));
    for &f in order.iter().take(r) {
        let col = s.column(f);
        let basis = c.row(f);
        for (i, &v) in col.iter().enumerate() {
            out.row_mut(i).scaled_add(v, &basis);
        }
    }
    Ok(if w.nrows() >= w.ncols() {
        out
    } else {
        out.t().to_owned()
    })
}

/// DCT-basis curve for `r = 0..=min(N, M)` (`method = "dct-l2"` / `"dct-l1"`, `param` = r).
pub fn dct_basis_curve(w: ArrayView2<'_, f64>, params: &DctParams) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    let (s, _, order) = coefficients(w, params.score);
    let energy: Vec<f64> = s
        .columns()
        .into_iter()
        .map(|c| c.iter().map(|v| v * v).sum())
        .collect();
    let long = w.nrows().max(w.ncols()) as u64;
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

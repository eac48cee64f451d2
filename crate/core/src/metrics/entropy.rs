//! Entropies of spectra (Rényi / von Neumann), Diff-eRank matrix entropy, UNComp truncated
//! entropy, Roy–Vetterli effective rank and stable rank.

use crate::linalg::{check_finite, gram, singular_values, symmetric_eigenvalues, GramParams, Real};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// Below this distance from 1 the Shannon branch replaces `ln(Σλ^q)/(1−q)` (which cancels
/// catastrophically near `q = 1`). The Rényi entropy is smooth in `q`, so the switch costs at
/// most `~|q−1|·Var(ln λ)/2` relative.
pub(crate) const SHANNON_BAND: f64 = 1e-6;

/// Rényi entropy of order `q ≥ 0` (natural log) of the probabilities `p`.
///
/// Only `pᵢ > 0` count; `p` is used as given (callers pass a normalised spectrum):
/// `q = 0`: `ln #{pᵢ > 0}`; `|q − 1| < 10⁻⁶`: `−Σ pᵢ ln pᵢ`; `q = +∞`: `−ln max pᵢ`;
/// otherwise `ln(Σ pᵢ^q)/(1 − q)`, evaluated as `q ln p_max + ln Σ (pᵢ/p_max)^q` so that large
/// `q` neither underflows nor overflows. Returns 0 when no `pᵢ` is positive.
/// Errors: [`Error::InvalidParameter`] for `q < 0` or NaN.
pub fn renyi_entropy(p: &[f64], q: f64) -> Result<f64> {
    if q.is_nan() || q < 0.0 {
        return Err(Error::InvalidParameter {
            name: "q",
            reason: format!("order must be ≥ 0 (got {q})"),
        });
    }
    let pmax = p.iter().copied().fold(0.0f64, f64::max);
    if pmax <= 0.0 {
        return Ok(0.0);
    }
    let pos = p.iter().copied().filter(|&v| v > 0.0);
    if q == 0.0 {
        return Ok((pos.count() as f64).ln());
    }
    if q.is_infinite() {
        return Ok(-pmax.ln());
    }
    if (q - 1.0).abs() < SHANNON_BAND {
        return Ok(-pos.map(|v| v * v.ln()).sum::<f64>());
    }
    let s: f64 = pos.map(|v| (v / pmax).powf(q)).sum();
    Ok((q * pmax.ln() + s.ln()) / (1.0 - q))
}

/// Rényi entropy of order `q` of an arbitrary non-negative spectrum (e.g. eigenvalues of a
/// covariance): negative round-off is dropped, the rest divided by its sum, then
/// [`renyi_entropy`]. Errors: [`Error::NonFinite`] (`row` = index, `col` = 0) for NaN/±Inf,
/// [`Error::InvalidParameter`] when nothing is positive or `q` is invalid.
pub fn spectrum_entropy(values: &[f64], q: f64) -> Result<f64> {
    if let Some((i, &v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            row: i,
            col: 0,
            value: v,
        });
    }
    let total: f64 = values.iter().filter(|&&v| v > 0.0).sum();
    if total <= 0.0 {
        return Err(Error::InvalidParameter {
            name: "values",
            reason: "no positive value: the entropy is undefined".into(),
        });
    }
    let p: Vec<f64> = values.iter().map(|&v| v.max(0.0) / total).collect();
    renyi_entropy(&p, q)
}

/// Hill number (effective number of species) `exp(H_q(p))`; see [`renyi_entropy`].
pub fn hill_number(p: &[f64], q: f64) -> Result<f64> {
    Ok(renyi_entropy(p, q)?.exp())
}

/// `X` in f64 after checking it is finite and non-empty.
pub(crate) fn to_f64<T: Real>(x: ArrayView2<'_, T>) -> Result<Array2<f64>> {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Err(Error::Empty { rows: n, cols: d });
    }
    check_finite(x.view())?;
    Ok(x.mapv(|v| v.to_f64()))
}

/// Euclidean norm without overflow/underflow (scaled by the largest |entry|).
pub(crate) fn norm2(v: ndarray::ArrayView1<'_, f64>) -> f64 {
    let m = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 {
        return 0.0;
    }
    m * v.iter().map(|x| (x / m) * (x / m)).sum::<f64>().sqrt()
}

/// Diff-eRank's `normalize`: rows centred (`rᵢ − r̄`) and L2-normalised, with the degeneracy
/// check of the module doc.
pub(crate) fn centre_normalise_rows(x: &Array2<f64>) -> Result<Array2<f64>> {
    let (n, d) = x.dim();
    let mean = x.sum_axis(ndarray::Axis(0)) / n as f64;
    let mut z = x - &mean;
    let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let floor = 1e-12 * scale * (d as f64).sqrt();
    for (i, mut row) in z.rows_mut().into_iter().enumerate() {
        let norm = norm2(row.view());
        if norm <= floor || norm == 0.0 {
            return Err(Error::InvalidParameter {
                name: "input",
                reason: format!(
                    "row {i} equals the mean of the rows (n = {n}, or identical rows): \
                     centred metrics are undefined"
                ),
            });
        }
        row.mapv_inplace(|v| v / norm);
    }
    Ok(z)
}

/// Eigenvalues of `ZᵀZ/tr(ZᵀZ)` (all `d` of them, zeros padded when `N < d`), descending,
/// negative round-off clamped to 0.
pub(crate) fn normalised_cov_spectrum(z: &Array2<f64>) -> Result<Vec<f64>> {
    let d = z.ncols();
    let g = gram(z.view(), &GramParams::default())?;
    let tr = g.diag().sum();
    let mut ev: Vec<f64> = symmetric_eigenvalues(g.view())?
        .iter()
        .map(|&v| (v / tr).max(0.0))
        .collect();
    ev.resize(d, 0.0);
    ev.sort_by(|a, b| b.total_cmp(a));
    Ok(ev)
}

/// Diff-eRank matrix entropy of a set of rows (see [`matrix_entropy`]).
#[derive(Debug, Clone, Serialize)]
pub struct MatrixEntropyReport {
    /// `H = −Σ λᵢ ln λᵢ` of `Σ/tr Σ` (nats).
    pub entropy: f64,
    /// `H / ln d` in `[0, 1]` (0 when `d = 1`).
    pub normalized_entropy: f64,
    /// Effective rank `exp(H)` (Diff-eRank's `cal_erank`).
    pub erank: f64,
}

/// Diff-eRank matrix entropy: centre and L2-normalise the rows of `X` (`N × d`),
/// `Σ = ZᵀZ/N`, `H = −Σ λᵢ ln λᵢ` over the eigenvalues of `Σ/tr Σ`; `erank = exp(H)`.
/// Errors: non-finite / empty input; [`Error::InvalidParameter`] on centring degeneracy
/// (`N = 1`, identical rows, a row equal to the mean).
pub fn matrix_entropy<T: Real>(x: ArrayView2<'_, T>) -> Result<MatrixEntropyReport> {
    let x = to_f64(x)?;
    let z = centre_normalise_rows(&x)?;
    let ev = normalised_cov_spectrum(&z)?;
    Ok(entropy_report(&ev, x.ncols()))
}

pub(crate) fn entropy_report(ev: &[f64], d: usize) -> MatrixEntropyReport {
    let h = renyi_entropy(ev, 1.0).expect("q = 1 is valid");
    let ln_d = (d as f64).ln();
    MatrixEntropyReport {
        entropy: h,
        normalized_entropy: if d > 1 { h / ln_d } else { 0.0 },
        erank: h.exp(),
    }
}

/// Parameters of [`uncomp_entropy`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UncompParams {
    /// Number of leading eigenvalues kept; `None` → `max(1, d/4)` (UNComp's `svdn = 32` for
    /// `d = 128`). `k ≥ d` gives the full entropy.
    pub k: Option<usize>,
}

/// UNComp truncated matrix entropy (see [`uncomp_entropy`]).
#[derive(Debug, Clone, Serialize)]
pub struct UncompReport {
    /// Number of eigenvalues summed (`min(k, d)`).
    pub k: usize,
    /// `H_k = −Σ_{i≤k} λᵢ ln λᵢ` (nats), not renormalised.
    pub entropy: f64,
    /// `H_k / ln d`, the value UNComp ranks heads by.
    pub normalized_entropy: f64,
}

/// UNComp truncated matrix entropy: `λ` = eigenvalues of `Σ/tr Σ + 10⁻¹⁰ I` (Diff-eRank's `Σ`,
/// all `d` of them), descending; `H_k = −Σ_{i ≤ k} λᵢ ln λᵢ` (no renormalisation of the top
/// `k`); reported `H_k/ln d`. Errors as [`matrix_entropy`], plus `k = 0` or `d = 1`.
pub fn uncomp_entropy<T: Real>(
    x: ArrayView2<'_, T>,
    params: &UncompParams,
) -> Result<UncompReport> {
    let x = to_f64(x)?;
    let d = x.ncols();
    if d < 2 {
        return Err(Error::InvalidParameter {
            name: "input",
            reason: "UNComp divides by ln d: needs d ≥ 2 columns".into(),
        });
    }
    let k = params.k.unwrap_or((d / 4).max(1));
    if k == 0 {
        return Err(Error::InvalidParameter {
            name: "k",
            reason: "must be at least 1".into(),
        });
    }
    let z = centre_normalise_rows(&x)?;
    let ev = normalised_cov_spectrum(&z)?;
    Ok(uncomp_from_spectrum(&ev, k))
}

pub(crate) fn uncomp_from_spectrum(ev: &[f64], k: usize) -> UncompReport {
    let d = ev.len();
    let k = k.min(d);
    let h: f64 = ev[..k]
        .iter()
        .map(|&v| {
            let l = v + 1e-10;
            -l * l.ln()
        })
        .sum();
    UncompReport {
        k,
        entropy: h,
        normalized_entropy: h / (d as f64).ln(),
    }
}

/// Roy–Vetterli effective rank `exp(−Σ pₖ ln pₖ)`, `pₖ = σₖ/Σⱼσⱼ` over the singular values of
/// `A` (no centring, no normalisation). `1 ≤ erank ≤ rank(A)`. Errors: non-finite / empty
/// input; [`Error::InvalidParameter`] for `A = 0`.
pub fn roy_vetterli_erank<T: Real>(a: ArrayView2<'_, T>) -> Result<f64> {
    let a = to_f64(a)?;
    let s = singular_values(a.view())?;
    roy_vetterli_from_singular_values(s.as_slice().expect("contiguous"))
}

pub(crate) fn roy_vetterli_from_singular_values(s: &[f64]) -> Result<f64> {
    let total: f64 = s.iter().sum();
    if total <= 0.0 {
        return Err(zero_matrix("effective rank"));
    }
    let p: Vec<f64> = s.iter().map(|v| v / total).collect();
    hill_number(&p, 1.0)
}

pub(crate) fn zero_matrix(what: &str) -> Error {
    Error::InvalidParameter {
        name: "input",
        reason: format!("the matrix is zero: {what} is undefined"),
    }
}

/// Stable rank `‖A‖_F² / ‖A‖₂²` (`∈ [1, rank A]`). Errors as [`roy_vetterli_erank`].
pub fn stable_rank<T: Real>(a: ArrayView2<'_, T>) -> Result<f64> {
    let a = to_f64(a)?;
    let s = singular_values(a.view())?;
    stable_rank_from_singular_values(s.as_slice().expect("contiguous"))
}

pub(crate) fn stable_rank_from_singular_values(s: &[f64]) -> Result<f64> {
    let top = s.first().copied().unwrap_or(0.0);
    if top <= 0.0 {
        return Err(zero_matrix("stable rank"));
    }
    Ok(s.iter().map(|v| (v / top) * (v / top)).sum())
}

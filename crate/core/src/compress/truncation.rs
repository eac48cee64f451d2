//! Per-layer truncation curves from the spectrum alone (Eckart–Young).
//!
//! Input is the singular values `σ` of `W` (any order) or the ESD eigenvalues `λ = σ²` of its
//! Gram matrix (as [`crate::spectrum`] computes them, ascending): the lab computes the spectrum
//! once and this module only does reverse cumulative sums. Fewer values than `min(N, M)` are
//! allowed (the missing ones are zeros); more are a [`crate::Error::Shape`].

use super::Precision;
use crate::{Error, Result};
use serde::Serialize;

/// The spectrum of one layer, as singular values or as Gram eigenvalues.
#[derive(Debug, Clone, Copy)]
pub enum Spectrum<'a> {
    /// `σᵢ ≥ 0`, any order.
    SingularValues(&'a [f64]),
    /// `λᵢ = σᵢ²`, any order. Round-off negatives down to `−1e-9·λ_max` are clamped to 0.
    Eigenvalues(&'a [f64]),
}

/// Energy thresholds reported by [`truncation_curve`].
pub const ENERGY_THRESHOLDS: [f64; 3] = [0.90, 0.95, 0.99];

/// Bytes of one item at every [`Precision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BytesByPrecision {
    pub f32: u64,
    pub f16: u64,
    pub int8: u64,
    pub int4: u64,
}

impl BytesByPrecision {
    /// Bytes of `count` stored numbers at each precision ([`Precision::bytes`]).
    pub fn of_count(count: u64) -> Self {
        BytesByPrecision {
            f32: Precision::F32.bytes(count),
            f16: Precision::F16.bytes(count),
            int8: Precision::Int8.bytes(count),
            int4: Precision::Int4.bytes(count),
        }
    }

    /// The entry for `p`.
    pub fn get(&self, p: Precision) -> u64 {
        match p {
            Precision::F32 => self.f32,
            Precision::F16 => self.f16,
            Precision::Int8 => self.int8,
            Precision::Int4 => self.int4,
        }
    }
}

/// One rank of a truncation curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TruncationPoint {
    /// Kept singular triplets `k`.
    pub rank: usize,
    /// `√(Σ_{i>k} σᵢ² / Σ σᵢ²)`.
    pub rel_fro_error: f64,
    /// `σ_{k+1} / σ₁` (0 for `k ≥` the number of σ, or a zero matrix).
    pub spectral_error: f64,
    /// `Σ_{i≤k} σᵢ² / Σ σᵢ²` (1 for a zero matrix).
    pub retained_energy: f64,
    /// `k(N + M)` stored numbers.
    pub params: u64,
    /// Bytes of the factors at each precision.
    pub bytes: BytesByPrecision,
    /// Whether the factors are smaller than the dense tensor (`k(N+M) < NM`).
    pub saves_bytes: bool,
}

/// Smallest rank reaching a retained-energy threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EnergyRank {
    pub threshold: f64,
    pub rank: usize,
}

/// The truncation curve of one layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruncationReport {
    pub rows: usize,
    pub cols: usize,
    /// `Σ σᵢ² = ‖W‖_F²`.
    pub total_energy: f64,
    /// `N·M` numbers of the dense tensor.
    pub dense_params: u64,
    /// Dense tensor bytes at each precision.
    pub dense_bytes: BytesByPrecision,
    /// Ranks `0..=min(N, M)`.
    pub points: Vec<TruncationPoint>,
    /// Smallest ranks with retained energy ≥ 90 %, 95 %, 99 % ([`ENERGY_THRESHOLDS`]).
    pub energy_ranks: Vec<EnergyRank>,
    /// `NM/(N+M)`: factors of rank ≥ this are no smaller than the dense tensor.
    pub break_even: f64,
    /// Largest rank whose factors are strictly smaller than the dense tensor (`⌈NM/(N+M)⌉ − 1`).
    pub max_saving_rank: usize,
}

/// Descending `σ²` of a spectrum, validated against `rows × cols`.
pub fn squared_singular_values(
    spectrum: Spectrum<'_>,
    rows: usize,
    cols: usize,
) -> Result<Vec<f64>> {
    let (values, squared) = match spectrum {
        Spectrum::SingularValues(v) => (v, false),
        Spectrum::Eigenvalues(v) => (v, true),
    };
    if rows == 0 || cols == 0 {
        return Err(Error::Empty { rows, cols });
    }
    if values.len() > rows.min(cols) {
        return Err(Error::Shape {
            expected: format!("at most min({rows}, {cols}) = {} values", rows.min(cols)),
            found: format!("{} values", values.len()),
        });
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            row: i,
            col: 0,
            value: values[i],
        });
    }
    let vmax = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut s2: Vec<f64> = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        if squared {
            if v < -1e-9 * vmax {
                return Err(Error::InvalidParameter {
                    name: "eigenvalues",
                    reason: format!("λ[{i}] = {v} is negative: not a Gram spectrum"),
                });
            }
            s2.push(v.max(0.0));
        } else {
            if v < 0.0 {
                return Err(Error::InvalidParameter {
                    name: "singular_values",
                    reason: format!("σ[{i}] = {v} is negative"),
                });
            }
            s2.push(v * v);
        }
    }
    if s2.iter().any(|v| v.is_infinite()) {
        return Err(Error::Overflow {
            what: "σ² of the spectrum".into(),
        });
    }
    s2.sort_by(|a, b| b.total_cmp(a));
    Ok(s2)
}

/// `tail[k] = Σ_{i>k} σᵢ²` for `k = 0..=len` (reverse cumulative sum, exact at `tail[len] = 0`).
pub fn tail_energies(s2_desc: &[f64]) -> Vec<f64> {
    let mut tail = vec![0.0; s2_desc.len() + 1];
    for k in (0..s2_desc.len()).rev() {
        tail[k] = tail[k + 1] + s2_desc[k];
    }
    tail
}

/// Largest `k` with `k(N+M) < NM`.
pub fn max_saving_rank(rows: usize, cols: usize) -> usize {
    let (nm, s) = (rows as u128 * cols as u128, (rows + cols) as u128);
    if s == 0 {
        return 0;
    }
    (nm.div_ceil(s).saturating_sub(1)) as usize
}

/// The full truncation curve of an `rows × cols` layer from its spectrum (see the module doc).
///
/// The tail is summed from the smallest σ upward (no `total − cumsum` cancellation), so the
/// error at high ranks keeps its relative precision.
pub fn truncation_curve(
    spectrum: Spectrum<'_>,
    rows: usize,
    cols: usize,
) -> Result<TruncationReport> {
    let s2 = squared_singular_values(spectrum, rows, cols)?;
    let kmax = rows.min(cols);
    let tail = tail_energies(&s2);
    let total = tail[0];
    let s1 = s2.first().copied().unwrap_or(0.0).sqrt();
    let dense_params = rows as u64 * cols as u64;
    let points = (0..=kmax)
        .map(|k| {
            let t = tail[k.min(s2.len())];
            let params = k as u64 * (rows + cols) as u64;
            TruncationPoint {
                rank: k,
                rel_fro_error: super::ratio(t, total),
                spectral_error: if s1 > 0.0 && k < s2.len() {
                    s2[k].sqrt() / s1
                } else {
                    0.0
                },
                retained_energy: if total > 0.0 {
                    ((total - t) / total).clamp(0.0, 1.0)
                } else {
                    1.0
                },
                params,
                bytes: BytesByPrecision::of_count(params),
                saves_bytes: params < dense_params,
            }
        })
        .collect::<Vec<_>>();
    let energy_ranks = ENERGY_THRESHOLDS
        .iter()
        .map(|&threshold| EnergyRank {
            threshold,
            rank: energy_rank(&tail, threshold),
        })
        .collect();
    Ok(TruncationReport {
        rows,
        cols,
        total_energy: total,
        dense_params,
        dense_bytes: BytesByPrecision::of_count(dense_params),
        points,
        energy_ranks,
        break_even: dense_params as f64 / (rows + cols) as f64,
        max_saving_rank: max_saving_rank(rows, cols),
    })
}

/// Smallest `k` with `Σ_{i≤k} σᵢ² ≥ τ·Σσᵢ²`, i.e. `tail[k] ≤ (1−τ)·total`, from
/// [`tail_energies`] (binary search; `tail` is non-increasing).
pub fn energy_rank(tail: &[f64], threshold: f64) -> usize {
    let total = tail[0];
    let allowed = (1.0 - threshold).max(0.0) * total;
    // Relative slack against round-off in the sums.
    let allowed = allowed + 1e-12 * total;
    tail.partition_point(|&t| t > allowed).min(tail.len() - 1)
}

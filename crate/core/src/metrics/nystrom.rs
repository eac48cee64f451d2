//! Nyström approximation of the RBF Vendi spectrum (no dual form exists for RBF).

use super::diffusion::sample_indices;
use super::entropy::to_f64;
use super::vendi::{clean_spectrum, weights, Kernel, VendiParams, VendiPath, VendiSpectrum};
use crate::linalg::{symmetric_eigen, symmetric_eigenvalues, Real};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// Parameters of [`nystrom_vendi`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NystromParams {
    /// Number of landmarks `m` (uniformly sampled rows, seeded). Default 500. `m ≥ n` is exact.
    pub landmarks: usize,
    /// Seed of the landmark sample.
    pub seed: u64,
}

impl Default for NystromParams {
    fn default() -> Self {
        NystromParams {
            landmarks: 500,
            seed: 0,
        }
    }
}

/// Approximate spectrum and what the approximation kept.
#[derive(Debug, Clone, Serialize)]
pub struct NystromReport {
    /// Approximate spectrum of `ρ` (length `n`, descending, unit trace): the eigenvalues of
    /// the Nyström `ρ̃`, then the residual trace `1 − tr ρ̃` spread evenly over the remaining
    /// `n − r`. Its `score(q)` is the approximate `Vendi_q` (`q = 0` is then meaningless).
    pub spectrum: VendiSpectrum,
    /// Landmarks used (`min(m, n)`).
    pub landmarks: usize,
    /// `tr(ρ̃)` (`≤ 1`): the share of `tr ρ = 1` the landmarks capture.
    pub captured_trace: f64,
}

/// Nyström RBF Vendi: with landmarks `L` (`m` rows), `C = K(X, L)` (`n × m`), `W = K(L, L)`,
/// `K ≈ C W⁺ Cᵀ = F Fᵀ` with `F = C V Λ^{-1/2}` (eigenpairs of `W` above `m·ε·λ_max`); the
/// spectrum of `ρ̃ = diag(√p) F Fᵀ diag(√p)` is that of the small `FᵀPF` (`r ≤ m` values);
/// the trace it misses (`1 − tr ρ̃ ≥ 0`, since `ρ` has unit trace) is spread evenly over the
/// other `n − r` eigenvalues. On the digits (1797 × 64, median bandwidth) this gives relative
/// errors of 5e-2 / 3e-4 / 1e-4 (q = 1 / 2 / ∞) at `m = 300` and 9e-3 / 3e-5 / 8e-6 at
/// `m = 900`; renormalising `ρ̃` instead is 3–100× worse. Cost `O(n m d + n m² + m³)` time, `O(n m)` memory, instead of `O(n² d + n³)` and
/// `O(n²)` for the exact kernel. `params.kernel` must be [`Kernel::Rbf`]; `params.q` is ignored.
pub fn nystrom_vendi<T: Real>(
    x: ArrayView2<'_, T>,
    params: &VendiParams,
    nystrom: &NystromParams,
) -> Result<NystromReport> {
    let Kernel::Rbf { bandwidth: h } = params.kernel else {
        return Err(Error::InvalidParameter {
            name: "kernel",
            reason: "the Nyström path is for the RBF kernel (cosine/linear have an exact dual)"
                .into(),
        });
    };
    if !(h.is_finite() && h > 0.0) {
        return Err(Error::InvalidParameter {
            name: "bandwidth",
            reason: format!("RBF bandwidth must be finite and > 0 (got {h})"),
        });
    }
    if nystrom.landmarks == 0 {
        return Err(Error::InvalidParameter {
            name: "landmarks",
            reason: "must be at least 1".into(),
        });
    }
    let x = to_f64(x)?;
    let (n, d) = x.dim();
    let p = weights(params.weights.as_deref(), n)?;
    let idx = sample_indices(n, nystrom.landmarks, nystrom.seed);
    let m = idx.len();
    let l = x.select(ndarray::Axis(0), &idx);
    let c = -1.0 / (2.0 * h * h);
    let kern = |a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>| {
        let s: f64 = a.iter().zip(b.iter()).map(|(u, v)| (u - v) * (u - v)).sum();
        (s * c).exp()
    };
    let cm = Array2::from_shape_fn((n, m), |(i, j)| kern(x.row(i), l.row(j)));
    let w = Array2::from_shape_fn((m, m), |(i, j)| kern(l.row(i), l.row(j)));
    let e = symmetric_eigen(w.view())?;
    let lmax = e.values.iter().copied().fold(0.0f64, f64::max);
    let keep: Vec<usize> = (0..m)
        .filter(|&i| e.values[i] > m as f64 * f64::EPSILON * lmax)
        .collect();
    // F = C V_k Λ_k^{-1/2}, rows scaled by √pᵢ.
    let mut vk = e.vectors.select(ndarray::Axis(1), &keep);
    for (mut col, &i) in vk.columns_mut().into_iter().zip(&keep) {
        let s = e.values[i].sqrt().recip();
        col.mapv_inplace(|v| v * s);
    }
    let mut f = cm.dot(&vk);
    for (mut row, &pi) in f.rows_mut().into_iter().zip(&p) {
        let s = pi.sqrt();
        row.mapv_inplace(|v| v * s);
    }
    let g = f.t().dot(&f);
    let raw = symmetric_eigenvalues(g.view())?;
    let tr: f64 = g.diag().sum();
    let rel = params
        .rel_threshold
        .unwrap_or(n.max(d) as f64 * f64::EPSILON);
    // tr ρ = Σ pᵢ K_ii = 1 exactly; the residual K − FFᵀ is PSD with trace 1 − tr(ρ̃), spread
    // evenly over the n − r eigenvalues the landmarks cannot see (the maximum-entropy guess).
    let r = raw.len().min(n);
    let rest = n - r;
    let residual = (1.0 - tr).max(0.0);
    let tail = if rest > 0 {
        residual / rest as f64
    } else {
        0.0
    };
    let all = raw.iter().copied().chain(std::iter::repeat_n(tail, rest));
    let (eigenvalues, threshold) = clean_spectrum(all, rel);
    Ok(NystromReport {
        spectrum: VendiSpectrum {
            eigenvalues,
            threshold,
            rel_threshold: rel,
            path: VendiPath::Dual,
            n,
            d,
        },
        landmarks: m,
        captured_trace: tr,
    })
}

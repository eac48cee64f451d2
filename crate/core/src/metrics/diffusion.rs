//! Diffusion spectral entropy (Liao et al. 2023, PyPI `dse-dsmi` 1.1).

use super::entropy::to_f64;
use super::vendi::squared_distances;
use crate::linalg::{symmetric_eigenvalues, Real};
use crate::random::SeededRng;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// Parameters of [`diffusion_spectral_entropy`] (defaults = the anchor's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DseParams {
    /// Gaussian kernel bandwidth `σ`, **absolute** (not adapted to the data's scale). Default 10.
    pub sigma: f64,
    /// Diffusion time `t ≥ 0`. Default 1.
    pub t: f64,
    /// Rows above this are subsampled (seeded, without replacement) to `max_n`. Default 10000.
    /// The cost is `O(n² d + n³)` time and `O(n²)` memory in the rows kept.
    pub max_n: usize,
    /// Seed of the subsample (our own generator: the anchor's Python `random.sample` draws a
    /// different subset).
    pub seed: u64,
}

impl Default for DseParams {
    fn default() -> Self {
        DseParams {
            sigma: 10.0,
            t: 1.0,
            max_n: 10_000,
            seed: 0,
        }
    }
}

/// Diffusion spectral entropy and the spectrum it came from.
#[derive(Debug, Clone, Serialize)]
pub struct DseReport {
    /// `DSE` in **bits**, `∈ [≈0, log₂ n]`.
    pub entropy_bits: f64,
    /// Rows used (after subsampling).
    pub n_used: usize,
    /// Eigenvalues of the symmetric diffusion matrix, descending (`λ₁ = 1`).
    pub eigenvalues: Vec<f64>,
}

/// DSE: `G_ij = exp(−‖xᵢ − xⱼ‖²/(2σ²))` (the anchor's `(σ√2π)⁻¹` prefactor cancels),
/// `K = Q^{-1/2} G Q^{-1/2}` with `Q = diag(Σⱼ G_ij)`, `λ` = eigenvalues of `K` (in `[−1, 1]`),
/// `αᵢ = |λᵢ|^t / Σⱼ |λⱼ|^t`, `DSE = −Σᵢ (αᵢ + ε) log₂(αᵢ + ε)` with `ε = 2⁻⁵²` (the anchor
/// adds it to every probability). `n = 1` gives `≈ −3·10⁻¹⁶` as in the anchor.
pub fn diffusion_spectral_entropy<T: Real>(
    x: ArrayView2<'_, T>,
    params: &DseParams,
) -> Result<DseReport> {
    if !(params.sigma.is_finite() && params.sigma > 0.0) {
        return Err(Error::InvalidParameter {
            name: "sigma",
            reason: format!("must be finite and > 0 (got {})", params.sigma),
        });
    }
    if !(params.t.is_finite() && params.t >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "t",
            reason: format!("must be finite and ≥ 0 (got {})", params.t),
        });
    }
    if params.max_n == 0 {
        return Err(Error::InvalidParameter {
            name: "max_n",
            reason: "must be at least 1".into(),
        });
    }
    let mut x = to_f64(x)?;
    if x.nrows() > params.max_n {
        x = subsample_rows(&x, params.max_n, params.seed);
    }
    let n = x.nrows();
    let c = -1.0 / (2.0 * params.sigma * params.sigma);
    let mut k: Array2<f64> = squared_distances(&x).mapv(|v| (v * c).exp());
    let q: Vec<f64> = k
        .rows()
        .into_iter()
        .map(|r| r.sum().sqrt().recip())
        .collect();
    for ((i, j), v) in k.indexed_iter_mut() {
        *v *= q[i] * q[j];
    }
    let mut ev: Vec<f64> = symmetric_eigenvalues(k.view())?.to_vec();
    ev.sort_by(|a, b| b.total_cmp(a));
    let w: Vec<f64> = ev.iter().map(|v| v.abs().powf(params.t)).collect();
    let total: f64 = w.iter().sum();
    let eps = f64::EPSILON;
    let h: f64 = w
        .iter()
        .map(|v| {
            let a = v / total + eps;
            -a * a.log2()
        })
        .sum();
    Ok(DseReport {
        entropy_bits: h,
        n_used: n,
        eigenvalues: ev,
    })
}

/// `m` distinct rows chosen uniformly (partial Fisher–Yates), kept in their original order.
pub(crate) fn subsample_rows(x: &Array2<f64>, m: usize, seed: u64) -> Array2<f64> {
    let idx = sample_indices(x.nrows(), m, seed);
    x.select(ndarray::Axis(0), &idx)
}

pub(crate) fn sample_indices(n: usize, m: usize, seed: u64) -> Vec<usize> {
    let mut rng = SeededRng::new(seed);
    let mut idx: Vec<usize> = (0..n).collect();
    let m = m.min(n);
    for i in 0..m {
        let j = i + ((rng.uniform() * (n - i) as f64) as usize).min(n - i - 1);
        idx.swap(i, j);
    }
    let mut chosen = idx[..m].to_vec();
    chosen.sort_unstable();
    chosen
}

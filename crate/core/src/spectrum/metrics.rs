//! Per-layer spectral metrics with WeightWatcher's names and definitions.
//!
//! `λ` = the layer ESD (eigenvalues of `WᵀW`, no `1/N`; conv slices pooled, ×½), `N` = the larger
//! dimension of a slice, logs base 10 for the `log_*` columns, natural log in `entropy`:
//! - `norm = Σλ` (= ‖W‖_F²), `log_norm = log₁₀ norm`;
//! - `spectral_norm = λ_max` (= ‖W‖₂², the squared spectral norm), `log_spectral_norm`;
//! - `alpha_weighted = α·log₁₀ λ_max`, `log_alpha_norm = log₁₀ Σ λᵢ^α`;
//! - `stable_rank = Σλ / λ_max`;
//! - `matrix_rank = #{√λ > √λ_max · N · ε₆₄}` (numpy's tolerance on singular values);
//! - `entropy = −Σ pᵢ ln pᵢ / ln(R + ε)`, `pᵢ = λᵢ/Σλ + ε`, `R = matrix_rank`, `ε = 1e‑10`.
//!
//! The ESDs reaching these functions resolve tiny eigenvalues as an SVD would (see
//! [`super::layers`]), so WW's singular-value tolerance applies unchanged.

/// WW's `EPSILON` (matrix entropy).
pub const ENTROPY_EPSILON: f64 = 1e-10;

/// Numerical rank of an ESD (see the module doc); `n_big` = the larger matrix dimension.
pub fn matrix_rank(evals: &[f64], n_big: usize) -> usize {
    let smax = evals.iter().copied().fold(0.0f64, f64::max).sqrt();
    let tol = smax * n_big as f64 * f64::EPSILON;
    evals.iter().filter(|&&l| l.max(0.0).sqrt() > tol).count()
}

/// WW's normalised matrix entropy (see the module doc), in `[0, 1]` up to the ε terms.
pub fn matrix_entropy(evals: &[f64], n_big: usize) -> f64 {
    let rank = matrix_rank(evals, n_big) as f64 + ENTROPY_EPSILON;
    let total: f64 = evals.iter().sum();
    let h: f64 = evals
        .iter()
        .map(|&l| {
            let p = l / total + ENTROPY_EPSILON;
            -p * p.ln()
        })
        .sum();
    h / rank.ln()
}

/// The norm columns of a layer (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormMetrics {
    pub norm: f64,
    pub log_norm: f64,
    pub spectral_norm: f64,
    pub log_spectral_norm: f64,
    pub alpha_weighted: f64,
    pub log_alpha_norm: f64,
    pub stable_rank: f64,
    pub matrix_rank: usize,
    pub entropy: f64,
}

/// Norm metrics of an ESD given the fitted `alpha` (WW uses −1 when the fit failed).
pub fn norm_metrics(evals: &[f64], alpha: f64, n_big: usize) -> NormMetrics {
    let norm: f64 = evals.iter().sum();
    let spectral_norm = evals.iter().copied().fold(0.0f64, f64::max);
    let log_spectral_norm = spectral_norm.log10();
    NormMetrics {
        norm,
        log_norm: norm.log10(),
        spectral_norm,
        log_spectral_norm,
        alpha_weighted: alpha * log_spectral_norm,
        log_alpha_norm: evals.iter().map(|l| l.powf(alpha)).sum::<f64>().log10(),
        stable_rank: norm / spectral_norm,
        matrix_rank: matrix_rank(evals, n_big),
        entropy: matrix_entropy(evals, n_big),
    }
}

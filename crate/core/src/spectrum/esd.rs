//! Histogram of a spectrum and the Marchenko–Pastur law (conventions in [`super`]).

use crate::{Error, Result};

/// Equal-width bins: `edges` has `counts.len() + 1` entries (in value units, also for log bins).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    /// Bins are equal-width in log10(value) (values ≤ 0 are dropped and counted in `dropped`).
    pub log_scale: bool,
    pub dropped: u64,
}

/// Histogram of the finite values in `bins` bins spanning `[min, max]` (log10 axis if `log_scale`).
pub fn histogram(values: &[f64], bins: usize, log_scale: bool) -> Result<Histogram> {
    if bins == 0 {
        return Err(Error::InvalidParameter {
            name: "bins",
            reason: "must be at least 1".into(),
        });
    }
    let tr = |v: f64| if log_scale { v.log10() } else { v };
    let kept: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && (!log_scale || *v > 0.0))
        .map(tr)
        .collect();
    let dropped = (values.len() - kept.len()) as u64;
    let (lo, hi) = kept
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if kept.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for v in kept {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let edges = (0..=bins)
        .map(|i| {
            let e = lo + width * i as f64;
            if log_scale {
                10f64.powf(e)
            } else {
                e
            }
        })
        .collect();
    Ok(Histogram {
        edges,
        counts,
        log_scale,
        dropped,
    })
}

/// `(λ₋, λ₊)` of the MP law for an `n×m` matrix (`Q = max/min`) with entry variance `sigma2`.
pub fn marchenko_pastur_bounds(n: usize, m: usize, sigma2: f64) -> (f64, f64) {
    let (big, small) = (n.max(m) as f64, n.min(m) as f64);
    let r = (small / big).sqrt();
    (
        sigma2 * big * (1.0 - r).powi(2),
        sigma2 * big * (1.0 + r).powi(2),
    )
}

/// MP density at each `x` (see [`super`]), for an `n×m` matrix with entry variance `sigma2`.
pub fn marchenko_pastur_density(x: &[f64], n: usize, m: usize, sigma2: f64) -> Vec<f64> {
    let (big, small) = (n.max(m) as f64, n.min(m) as f64);
    let q = big / small;
    let (lo, hi) = marchenko_pastur_bounds(n, m, sigma2);
    x.iter()
        .map(|&l| {
            if l <= lo || l >= hi || l <= 0.0 {
                0.0
            } else {
                q * ((hi - l) * (l - lo)).sqrt() / (2.0 * std::f64::consts::PI * sigma2 * big * l)
            }
        })
        .collect()
}

//! Chart-specific numerics: histogram binning and curve sampling. Nothing here is a fit; the
//! fitted parameters come from the core's report.

use crate::{err, ChartMp, Result};

/// A histogram on log-spaced bins, as a density.
#[derive(Debug, Clone, PartialEq)]
pub struct LogHistogram {
    /// `bins + 1` edges, geometric from the smallest to the largest value.
    pub edges: Vec<f64>,
    /// Counts per bin (the last bin includes its right edge).
    pub counts: Vec<usize>,
    /// `counts[i] / (n · (edges[i+1] − edges[i]))`: integrates to 1 over the edges.
    pub density: Vec<f64>,
}

/// Histogram of positive, finite `values` on `bins` log-spaced bins spanning
/// `[min, max]` (numpy `histogram(values, bins=logspace(log10 min, log10 max, bins+1),
/// density=True)`). When all values are equal the span is widened to `[v/√2, v·√2]`.
pub fn log_histogram(values: &[f64], bins: usize) -> Result<LogHistogram> {
    if bins == 0 {
        return Err(err("histogram needs at least one bin"));
    }
    if values.is_empty() {
        return Err(err("histogram of no values"));
    }
    if values.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return Err(err("log histogram needs positive finite values"));
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0f64, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo / 2f64.sqrt(), hi * 2f64.sqrt())
    };
    let (l0, l1) = (lo.ln(), hi.ln());
    let step = (l1 - l0) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| (l0 + step * i as f64).exp()).collect();
    edges[0] = lo;
    edges[bins] = hi;
    let mut counts = vec![0usize; bins];
    for &v in values {
        let i = (((v.ln() - l0) / step).floor() as isize).clamp(0, bins as isize - 1) as usize;
        // Correct for rounding at the edges of the bin found in log space.
        let i = if v < edges[i] && i > 0 {
            i - 1
        } else if i + 1 < bins && v >= edges[i + 1] {
            i + 1
        } else {
            i
        };
        counts[i] += 1;
    }
    let n = values.len() as f64;
    let density = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| c as f64 / (n * (edges[i + 1] - edges[i])))
        .collect();
    Ok(LogHistogram {
        edges,
        counts,
        density,
    })
}

/// `samples` points (log-spaced in x) of the fitted power-law density drawn over a histogram
/// of all eigenvalues: `tail · (α−1)/x_min · (x/x_min)^{−α}` on `[x_min, x_end]`, where `tail`
/// is the fraction of eigenvalues ≥ `x_min` (the PL density is normalised on the tail only).
pub fn power_law_curve(
    alpha: f64,
    xmin: f64,
    tail: f64,
    x_end: f64,
    samples: usize,
) -> Vec<(f64, f64)> {
    let x_end = x_end.max(xmin);
    let samples = samples.max(2);
    let (l0, l1) = (xmin.ln(), x_end.ln());
    (0..samples)
        .map(|i| {
            let x = (l0 + (l1 - l0) * i as f64 / (samples - 1) as f64).exp();
            (x, tail * (alpha - 1.0) / xmin * (x / xmin).powf(-alpha))
        })
        .collect()
}

/// `samples` points of the Marchenko–Pastur density in raw eigenvalue units, on the fitted
/// bulk `[bulk_min, bulk_max]` (raw units), or `None` if the fit is degenerate.
///
/// The fit works on `λ̃ = W²λ` (`W = W_scale`) with edges `λ̃± = σ²(1 ± r)²`, `r = Q^{−½}`.
/// σ and r are recovered from the reported edges (so the curve matches them exactly):
/// `σ = (√λ̃₊ + √λ̃₋)/2`, `r = (√λ̃₊ − √λ̃₋)/(√λ̃₊ + √λ̃₋)`, `Q = 1/r²`; then
/// `ρ_raw(λ) = W² · Q/(2πσ²λ̃) · √((λ̃₊ − λ̃)(λ̃ − λ̃₋))`. For `Q = 1` (`bulk_min = 0`,
/// where WeightWatcher fits a quarter circle to singular values instead) this is the MP law
/// with `Q = 1`. Points are spaced so that both edges, where the density has square-root
/// zeros, are resolved (cosine spacing in λ̃).
pub fn mp_density_curve(mp: &ChartMp, samples: usize) -> Option<Vec<(f64, f64)>> {
    let w2 = mp.w_scale * mp.w_scale;
    let (lp, lm) = (mp.bulk_max * w2, mp.bulk_min.max(0.0) * w2);
    if !(w2.is_finite() && w2 > 0.0 && lp.is_finite() && lp > lm) {
        return None;
    }
    let (sp, sm) = (lp.sqrt(), lm.sqrt());
    let sigma = (sp + sm) / 2.0;
    let r = (sp - sm) / (sp + sm);
    if !(sigma > 0.0 && r > 0.0) {
        return None;
    }
    let q = 1.0 / (r * r);
    let s2 = sigma * sigma;
    let samples = samples.max(3);
    let pts = (1..samples - 1)
        .map(|i| {
            let t = i as f64 / (samples - 1) as f64;
            let xt = lm + (lp - lm) * (1.0 - (std::f64::consts::PI * t).cos()) / 2.0;
            let rho = q / (2.0 * std::f64::consts::PI * s2 * xt) * ((lp - xt) * (xt - lm)).sqrt();
            (xt / w2, w2 * rho)
        })
        .collect();
    Some(pts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_everything_and_integrates_to_one() {
        let v: Vec<f64> = (1..=1000).map(|i| i as f64 * 0.01).collect();
        let h = log_histogram(&v, 60).unwrap();
        assert_eq!(h.counts.iter().sum::<usize>(), 1000);
        let area: f64 = (0..60)
            .map(|i| h.density[i] * (h.edges[i + 1] - h.edges[i]))
            .sum();
        assert!((area - 1.0).abs() < 1e-12);
        for (i, &c) in h.counts.iter().enumerate() {
            let direct = v
                .iter()
                .filter(|&&x| {
                    x >= h.edges[i] && (x < h.edges[i + 1] || (i == 59 && x <= h.edges[60]))
                })
                .count();
            assert_eq!(c, direct, "bin {i}");
        }
        assert!(
            log_histogram(&[1.0, 1.0], 10)
                .unwrap()
                .counts
                .iter()
                .sum::<usize>()
                == 2
        );
        assert!(log_histogram(&[0.0, 1.0], 10).is_err());
    }

    #[test]
    fn mp_density_integrates_to_one_in_raw_units() {
        // Q = 4, σ = 1 in rescaled units, W_scale = 2 (raw = rescaled / 4).
        let r: f64 = 0.5;
        let mp = ChartMp {
            sigma_mp: 1.0,
            w_scale: 2.0,
            bulk_max: (1.0 + r).powi(2) / 4.0,
            bulk_min: (1.0 - r).powi(2) / 4.0,
            num_spikes: 0,
        };
        let pts = mp_density_curve(&mp, 20001).unwrap();
        let area: f64 = pts
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
            .sum();
        assert!((area - 1.0).abs() < 2e-3, "{area}");
    }

    #[test]
    fn power_law_curve_matches_formula() {
        let c = power_law_curve(3.0, 2.0, 0.25, 20.0, 5);
        assert_eq!(c.len(), 5);
        assert!((c[0].0 - 2.0).abs() < 1e-12 && (c[4].0 - 20.0).abs() < 1e-9);
        assert!((c[0].1 - 0.25 * 2.0 / 2.0).abs() < 1e-12);
    }
}

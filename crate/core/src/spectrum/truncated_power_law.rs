//! Truncated power-law (TPL) fit of an ESD tail: WeightWatcher's `fit='TPL'` / `'E_TPL'`, which
//! WW delegates to `powerlaw==1.5` (`Fit(data, distribution=…, xmin_distribution=
//! 'truncated_power_law')`). We reproduce that computation, not its speed.
//!
//! ## Model
//! On the tail `x ≥ x_min` (continuous, no upper cut):
//! - density `p(x) = x^{−α} e^{−Λx} · x_min^{α−1} / E_α(Λ x_min)`, where
//!   `E_p(z) = ∫₁^∞ e^{−zt} t^{−p} dt` is the generalised exponential integral
//!   (powerlaw writes the same normaliser as `Λ^{1−α} / Γ(1−α, Λx_min)`;
//!   `Γ(1−α, z) = z^{1−α} E_α(z)`);
//! - CDF `F(x) = 1 − (x/x_min)^{1−α} E_α(Λx) / E_α(Λx_min)`;
//! - valid parameters: `α > 1`, `Λ > 0`. Outside, powerlaw's likelihood is `10^−307` per point
//!   and its CDF is `10^−307` everywhere; we do the same, so the optimiser sees the same walls.
//!
//! ## Fit at one x_min (powerlaw `Distribution.fit`)
//! Maximum likelihood by [`nelder_mead`] (scipy `fmin` defaults) from
//! `α₀ = 1 + k / Σ ln(x_j/x_min)`, `Λ₀ = 1/mean(x_j)` over the `k` tail points. The
//! log-likelihood is `−α Σ ln x_j − Λ Σ x_j + k((α−1) ln x_min − ln E_α(Λx_min))` (suffix sums,
//! O(1) per evaluation); where numpy's per-point density would underflow to 0 (replaced by
//! `10^−307`), we evaluate per point as numpy does.
//!
//! ## Choice of x_min (powerlaw `Fit.find_xmin`)
//! Candidates: the unique data values (within the optional `[lo, hi]` range) except the largest.
//! For each, the KS distance `D = max |F(v) − S(v)|` over the unique tail values `v`, with the
//! empirical `S(v)` = fraction of tail points `< v`. The candidate with the smallest `D` among
//! those whose fit is valid wins (all candidates if none is valid). WW reports `alpha`, `Lambda`,
//! `xmin` and `D` of that fit; `sigma` is undefined for TPL.
//!
//! `E_p(z)`: continued fraction (modified Lentz) for `z ≥ 1`; for `z < 1`, Gauss–Legendre
//! (16 nodes) on panels of `∫₀^∞ exp(−z eᵘ − (p−1)u) du` sized so the exponent changes by at
//! most 2 per panel, stopped once it has fallen by 45. Checked against mpmath to ~1e-14.

use super::optimize::{nelder_mead, NelderMeadParams};
use crate::{Error, Result};
use std::sync::OnceLock;

/// powerlaw's floor for a zero likelihood / invalid CDF: `10**sys.float_info.min_10_exp`.
const TINY: f64 = 1e-307;

fn gauss_legendre_16() -> &'static ([f64; 16], [f64; 16]) {
    static GL: OnceLock<([f64; 16], [f64; 16])> = OnceLock::new();
    GL.get_or_init(|| {
        const N: usize = 16;
        let mut nodes = [0.0; N];
        let mut weights = [0.0; N];
        for i in 0..N {
            // Newton on P_N from the Chebyshev-like initial guess.
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (N as f64 + 0.5)).cos();
            let mut dp = 0.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=N {
                    let kf = k as f64;
                    let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
                    p0 = p1;
                    p1 = p2;
                }
                dp = N as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            nodes[i] = x;
            weights[i] = 2.0 / ((1.0 - x * x) * dp * dp);
        }
        (nodes, weights)
    })
}

/// Generalised exponential integral `E_p(z) = ∫₁^∞ e^{−zt} t^{−p} dt` for `z ≥ 0`, `p > 0`
/// (`z = 0` needs `p > 1`: `1/(p−1)`). NaN outside the domain.
pub fn expint_e(p: f64, z: f64) -> f64 {
    if p.is_nan() || p <= 0.0 || z.is_nan() || z < 0.0 || !p.is_finite() {
        return f64::NAN;
    }
    if z == 0.0 {
        return if p > 1.0 {
            1.0 / (p - 1.0)
        } else {
            f64::INFINITY
        };
    }
    if z.is_infinite() {
        return 0.0;
    }
    if z >= 1.0 {
        // Modified Lentz on the even continued fraction (NR 6.3.5, real order).
        let tiny = 1e-300;
        let mut b = z + p;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let fi = i as f64;
            let an = -fi * (p - 1.0 + fi);
            b += 2.0;
            d = 1.0 / (an * d + b);
            c = b + an / c;
            let del = c * d;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        return h * (-z).exp();
    }
    let (nodes, weights) = gauss_legendre_16();
    let g = |u: f64| z * u.exp() + (p - 1.0) * u;
    let g0 = g(0.0);
    let mut u = 0.0f64;
    let mut sum = 0.0;
    for _ in 0..100_000 {
        let slope = z * u.exp() + (p - 1.0).max(0.0);
        let h = (2.0 / slope.max(1e-300)).min(0.5);
        let (mid, half) = (u + 0.5 * h, 0.5 * h);
        let mut panel = 0.0;
        for (x, w) in nodes.iter().zip(weights) {
            panel += w * (-g(mid + half * x)).exp();
        }
        sum += half * panel;
        u += h;
        if g(u) - g0 > 45.0 {
            break;
        }
    }
    sum
}

/// Where to look for `x_min` ([`fit_truncated_power_law`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TplParams {
    /// Only data values in `[lo, hi]` are candidates (WW `E_TPL` passes the `xmin_peak` window);
    /// `None`: every value.
    pub xmin_range: Option<(f64, f64)>,
}

/// Result of a TPL fit (WeightWatcher columns `alpha`, `Lambda`, `xmin`, `D`).
#[derive(Debug, Clone, PartialEq)]
pub struct TplFit {
    pub alpha: f64,
    pub lambda: f64,
    pub xmin: f64,
    pub d: f64,
    /// Tail size (points `≥ x_min`).
    pub n_tail: usize,
    /// No candidate had a valid fit (`α > 1`, `Λ > 0`); the smallest D was taken anyway
    /// (powerlaw's `noise_flag`).
    pub noise: bool,
}

/// Sorted data plus suffix sums shared by all candidates.
struct Tail<'a> {
    x: &'a [f64],
    ln_x: Vec<f64>,
    suffix_ln: Vec<f64>,
    suffix_x: Vec<f64>,
}

impl<'a> Tail<'a> {
    fn new(x: &'a [f64]) -> Self {
        let n = x.len();
        let ln_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
        let mut suffix_ln = vec![0.0; n + 1];
        let mut suffix_x = vec![0.0; n + 1];
        for i in (0..n).rev() {
            suffix_ln[i] = suffix_ln[i + 1] + ln_x[i];
            suffix_x[i] = suffix_x[i + 1] + x[i];
        }
        Tail {
            x,
            ln_x,
            suffix_ln,
            suffix_x,
        }
    }

    /// −log-likelihood of the tail starting at index `i` (all copies of `x_i` included).
    fn neg_loglik(&self, i: usize, alpha: f64, lambda: f64) -> f64 {
        let xs = &self.x[i..];
        let k = xs.len() as f64;
        if !(alpha > 1.0 && lambda > 0.0) {
            return -k * TINY.ln();
        }
        let xmin = self.x[i];
        let e = expint_e(alpha, lambda * xmin);
        let ln_c = (alpha - 1.0) * xmin.ln() - e.ln();
        let xmax = *xs.last().unwrap_or(&xmin);
        let smallest = -alpha * xmax.ln() - lambda * xmax + ln_c;
        if smallest > -700.0 && ln_c.is_finite() && lambda * xmax < 700.0 {
            -(-alpha * self.suffix_ln[i] - lambda * self.suffix_x[i] + k * ln_c)
        } else {
            // numpy path: f = x^−α · e^{−Λx} · C, zeros floored at 1e-307.
            let c = ln_c.exp();
            -xs.iter()
                .zip(&self.ln_x[i..])
                .map(|(&x, &lx)| {
                    let v = (-alpha * lx).exp() * (-lambda * x).exp() * c;
                    if v == 0.0 {
                        TINY.ln()
                    } else {
                        v.ln()
                    }
                })
                .sum::<f64>()
        }
    }

    /// NM fit at candidate `i`: `(α, Λ)`.
    fn fit_at(&self, i: usize) -> (f64, f64) {
        let k = (self.x.len() - i) as f64;
        let xmin = self.x[i];
        let s: f64 = self.x[i..].iter().map(|v| (v / xmin).ln()).sum();
        let alpha0 = 1.0 + k / s;
        let lambda0 = 1.0 / (self.suffix_x[i] / k);
        let r = nelder_mead(
            |p| self.neg_loglik(i, p[0], p[1]),
            &[alpha0, lambda0],
            &NelderMeadParams::default(),
        );
        (r.x[0], r.x[1])
    }

    /// KS distance of the fit `(α, Λ)` at candidate `i` against the tail's empirical CDF.
    fn ks(&self, i: usize, alpha: f64, lambda: f64) -> f64 {
        let n = self.x.len();
        let nf = n as f64;
        let f0 = i as f64 / nf;
        let xmin = self.x[i];
        let valid = alpha > 1.0 && lambda > 0.0;
        // cdf_base(x) = 1 − x^{1−α} E_α(Λx)  (powerlaw: 1 − Γ(1−α, Λx)/Λ^{1−α})
        let base = |x: f64| 1.0 - x.powf(1.0 - alpha) * expint_e(alpha, lambda * x);
        let base_min = if valid { base(xmin) } else { 0.0 };
        let (mut dplus, mut dminus) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut j = i;
        while j < n {
            let v = self.x[j];
            let actual = (j as f64 / nf - f0) / (1.0 - f0);
            let theory = if !valid {
                TINY
            } else if base_min == 1.0 {
                1.0
            } else {
                (base(v) - base_min) / (1.0 - base_min)
            };
            let diff = theory - actual;
            dplus = dplus.max(diff);
            dminus = dminus.max(-diff);
            while j < n && self.x[j] == v {
                j += 1;
            }
        }
        dplus.max(dminus)
    }
}

/// TPL fit of the eigenvalues `evals` (any order; values `≤ thresh` dropped first, WW's 1e‑5).
/// See the module doc.
pub fn fit_truncated_power_law(evals: &[f64], thresh: f64, params: &TplParams) -> Result<TplFit> {
    if evals.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "evals",
            reason: "non-finite eigenvalue".into(),
        });
    }
    let mut x: Vec<f64> = evals.iter().copied().filter(|&v| v > thresh).collect();
    x.sort_by(f64::total_cmp);
    let n = x.len();
    // Candidates: first index of each unique in-range value, the largest dropped.
    let mut cands: Vec<usize> = Vec::new();
    for i in 0..n {
        if i > 0 && x[i] == x[i - 1] {
            continue;
        }
        if let Some((lo, hi)) = params.xmin_range {
            if x[i] < lo || x[i] > hi {
                continue;
            }
        }
        cands.push(i);
    }
    cands.pop();
    if cands.is_empty() {
        return Err(Error::InvalidParameter {
            name: "evals",
            reason: format!(
                "a truncated power law needs 2 distinct values in range, got {n} eigenvalues"
            ),
        });
    }
    let tail = Tail::new(&x);
    let fits: Vec<(usize, f64, f64, f64, bool)> = cands
        .iter()
        .map(|&i| {
            let (a, l) = tail.fit_at(i);
            let d = tail.ks(i, a, l);
            (i, a, l, d, a > 1.0 && l > 0.0)
        })
        .collect();
    let any_valid = fits.iter().any(|f| f.4);
    let mut best: Option<&(usize, f64, f64, f64, bool)> = None;
    for f in &fits {
        if any_valid && !f.4 {
            continue;
        }
        // numpy argmin: first minimum; NaN wins as numpy's argmin returns the first NaN.
        match best {
            None => best = Some(f),
            Some(b) if b.3.is_nan() => {}
            Some(b) if f.3.is_nan() || f.3 < b.3 => best = Some(f),
            _ => {}
        }
    }
    let &(i, alpha, lambda, d, _) = best.expect("at least one candidate");
    Ok(TplFit {
        alpha,
        lambda,
        xmin: x[i],
        d,
        n_tail: n - i,
        noise: !any_valid,
    })
}

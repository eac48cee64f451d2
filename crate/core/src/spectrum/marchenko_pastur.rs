//! Marchenko–Pastur fit of an ESD, WeightWatcher 0.7.7's definition (`mp_fit`), computed fast.
//!
//! 1. Rescale to unit mean: `W_scale = √n/√Σλ`, `λ̃ = W_scale²·λ`.
//! 2. Data density: a KDE with the triangular ("linear") kernel of bandwidth `h = 0.1`,
//!    `ρ̂(x) = (1/n) Σᵢ max(0, 1 − |x − xᵢ|/h)/h`, on 1000 points `x ∈ linspace(0, max + 0.5)`;
//!    only grid points with `ρ̂ > 0.01` count.
//! 3. Model, for `Q = N/M ≠ 1`: `ρ(x) = Q/(2πσ²x)·√((λ₊−x)(x−λ₋))`, `λ± = σ²(1 ± Q^{−½})²`
//!    (0 outside the support); residual `r = ρ − ρ̂`, replaced by 1000 when `λ₊` is below the KDE
//!    peak or above the grid, or `λ₋` is above the peak. For `Q = 1` WW fits the quarter-circle
//!    law `(1/(πσ²))√(4 − x²)` to the singular values `√λ̃` (fixed support [0, 2], WW's quirk).
//! 4. `σ̂ = argmin Σ r²`: a grid of 195 values `σ ∈ [0.05 s₀, 2 s₀)` step `0.01 s₀`
//!    (`s₀ = √λ̃_max/(1 + Q^{−½})`), then a Nelder–Mead polish from the best grid point with
//!    scipy `fmin`'s rules (initial step ×1.05, xtol = ftol = 1e‑4) — WW's `optimize.brute`.
//! 5. `bulk_max = λ₊(σ̂)`, `bulk_min = λ₋(σ̂)`, Tracy–Widom margin
//!    `TW = Q^{−½}·bulk_max^{2/3}·M^{−2/3}`, `num_spikes = #{λ̃ > bulk_max + √TW}`,
//!    `mp_softrank = bulk_max/λ̃_max`; the reported `bulk_*` are divided back by `W_scale²`.
//!
//! WW evaluates the KDE with scikit-learn (≈1 s per layer); here the KDE is a sorted sweep,
//! O(n log n + 1000·h-window), so the fit costs microseconds to milliseconds.

use crate::{Error, Result};
use serde::Serialize;

/// Result of [`fit_marchenko_pastur`], WW's column names.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct MpFit {
    pub num_spikes: usize,
    pub sigma_mp: f64,
    pub mp_softrank: f64,
    #[serde(rename = "W_scale")]
    pub w_scale: f64,
    pub bulk_max: f64,
    pub bulk_min: f64,
}

const BANDWIDTH: f64 = 0.1;
const GRID: usize = 1000;
const KDE_THRESH: f64 = 0.01;

/// numpy `linspace(0, stop, n)`.
fn linspace(stop: f64, n: usize) -> Vec<f64> {
    let step = stop / (n - 1) as f64;
    let mut x: Vec<f64> = (0..n).map(|i| i as f64 * step).collect();
    x[n - 1] = stop;
    x
}

/// Triangular-kernel KDE of sorted `data` at `xs`.
fn kde_linear(data: &[f64], xs: &[f64], h: f64) -> Vec<f64> {
    let n = data.len() as f64;
    xs.iter()
        .map(|&x| {
            let lo = data.partition_point(|&v| v <= x - h);
            let hi = data.partition_point(|&v| v < x + h);
            let s: f64 = data[lo..hi]
                .iter()
                .map(|&v| (1.0 - (x - v).abs() / h).max(0.0))
                .sum();
            s / (n * h)
        })
        .collect()
}

struct Objective {
    xs: Vec<f64>,
    ys: Vec<f64>,
    x_peak: f64,
    x_max: f64,
    q: f64,
    n_bad: usize,
}

impl Objective {
    fn new(to_fit: &[f64], q: f64) -> Objective {
        let top = to_fit[to_fit.len() - 1];
        let grid = linspace(top + 0.5, GRID);
        let dens = kde_linear(to_fit, &grid, BANDWIDTH);
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for (x, y) in grid.iter().zip(&dens) {
            if *y > KDE_THRESH {
                xs.push(*x);
                ys.push(*y);
            }
        }
        let n_bad = GRID - xs.len();
        let ipk = (0..ys.len()).fold(0, |m, i| if ys[i] > ys[m] { i } else { m });
        let x_peak = xs.get(ipk).copied().unwrap_or(0.0);
        let x_max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Objective {
            xs,
            ys,
            x_peak,
            x_max,
            q,
            n_bad,
        }
    }

    /// Σ r² (the bad grid points contribute 0, as in WW).
    fn eval(&self, sigma: f64) -> f64 {
        let _ = self.n_bad;
        if self.q == 1.0 {
            let c = 1.0 / (std::f64::consts::PI * sigma * sigma);
            return self
                .xs
                .iter()
                .zip(&self.ys)
                .map(|(&x, &y)| {
                    let v = c * (4.0 - x * x).sqrt();
                    let v = if v.is_nan() { 0.0 } else { v };
                    (v - y) * (v - y)
                })
                .sum();
        }
        let r = (1.0 / self.q).sqrt();
        let b = (sigma * (1.0 + r)).powi(2);
        let a = (sigma * (1.0 - r)).powi(2);
        if b < self.x_peak || b > self.x_max || a > self.x_peak {
            return 1000.0 * 1000.0 * self.xs.len() as f64;
        }
        let yinv = self.q;
        self.xs
            .iter()
            .zip(&self.ys)
            .map(|(&x, &y)| {
                let v = (1.0 / (2.0 * std::f64::consts::PI * sigma * sigma * x / yinv))
                    * ((b - x) * (x - a)).sqrt();
                let v = if v.is_nan() {
                    0.0
                } else if v.is_infinite() {
                    f64::MAX.copysign(v)
                } else {
                    v
                };
                (v - y) * (v - y)
            })
            .sum()
    }
}

/// scipy.optimize.fmin (Nelder–Mead) in one dimension, with scipy's defaults.
fn nelder_mead_1d(f: impl Fn(f64) -> f64, x0: f64) -> f64 {
    let (rho, chi, psi, sig) = (1.0, 2.0, 0.5, 0.5);
    let (xtol, ftol, maxiter) = (1e-4, 1e-4, 200);
    let x1 = if x0 != 0.0 { 1.05 * x0 } else { 0.00025 };
    let mut sim = [x0, x1];
    let mut fs = [f(x0), f(x1)];
    let sort = |sim: &mut [f64; 2], fs: &mut [f64; 2]| {
        if fs[1] < fs[0] {
            sim.swap(0, 1);
            fs.swap(0, 1);
        }
    };
    sort(&mut sim, &mut fs);
    let mut evals = 2;
    for _ in 0..maxiter {
        if (sim[1] - sim[0]).abs() <= xtol && (fs[1] - fs[0]).abs() <= ftol {
            break;
        }
        if evals >= maxiter {
            break;
        }
        let xbar = sim[0];
        let xr = (1.0 + rho) * xbar - rho * sim[1];
        let fxr = f(xr);
        evals += 1;
        let mut shrink = false;
        if fxr < fs[0] {
            let xe = (1.0 + rho * chi) * xbar - rho * chi * sim[1];
            let fxe = f(xe);
            evals += 1;
            if fxe < fxr {
                sim[1] = xe;
                fs[1] = fxe;
            } else {
                sim[1] = xr;
                fs[1] = fxr;
            }
        } else if fxr < fs[1] {
            // fsim[0] ≤ fxr < fsim[-1]: outside contraction
            let xc = (1.0 + psi * rho) * xbar - psi * rho * sim[1];
            let fxc = f(xc);
            evals += 1;
            if fxc <= fxr {
                sim[1] = xc;
                fs[1] = fxc;
            } else {
                shrink = true;
            }
        } else {
            // fxr ≥ fsim[-1]: inside contraction
            let xcc = (1.0 - psi) * xbar + psi * sim[1];
            let fxcc = f(xcc);
            evals += 1;
            if fxcc < fs[1] {
                sim[1] = xcc;
                fs[1] = fxcc;
            } else {
                shrink = true;
            }
        }
        if shrink {
            sim[1] = sim[0] + sig * (sim[1] - sim[0]);
            fs[1] = f(sim[1]);
            evals += 1;
        }
        sort(&mut sim, &mut fs);
    }
    sim[0]
}

/// MP fit of the ESD `evals` of an `n_big × m_small` layer (see the module doc).
pub fn fit_marchenko_pastur(evals: &[f64], n_big: usize, m_small: usize) -> Result<MpFit> {
    if evals.len() < 2 || m_small == 0 {
        return Err(Error::InvalidParameter {
            name: "evals",
            reason: "an MP fit needs at least 2 eigenvalues".into(),
        });
    }
    let q = n_big as f64 / m_small as f64;
    let total: f64 = evals.iter().sum();
    if total.is_nan() || total <= 0.0 || !total.is_finite() {
        return Err(Error::InvalidParameter {
            name: "evals",
            reason: "zero or non-finite spectrum".into(),
        });
    }
    let w_scale = (evals.len() as f64).sqrt() / total.sqrt();
    let mut lt: Vec<f64> = evals.iter().map(|&l| w_scale * w_scale * l).collect();
    lt.sort_by(f64::total_cmp);
    let lmax = lt[lt.len() - 1];
    let s0 = (lmax / (1.0 + 1.0 / q.sqrt()).powi(2)).sqrt();
    let to_fit: Vec<f64> = if q == 1.0 {
        lt.iter().map(|v| v.max(0.0).sqrt()).collect()
    } else {
        lt.clone()
    };
    let obj = Objective::new(&to_fit, q);
    // optimize.brute grid: np.mgrid[0.05 s0 : 2 s0 : 0.01 s0]
    let (start, stop, step) = (0.05 * s0, 2.0 * s0, 0.01 * s0);
    let count = ((stop - start) / step).ceil() as usize;
    let mut best = (f64::INFINITY, start);
    for i in 0..count {
        let s = start + i as f64 * step;
        let v = obj.eval(s);
        if v < best.0 {
            best = (v, s);
        }
    }
    let sigma = nelder_mead_1d(|s| obj.eval(s), best.1);
    let r = 1.0 / q.sqrt();
    let bulk_max = (sigma * (1.0 + r)).powi(2);
    let bulk_min = (sigma * (1.0 - r)).powi(2);
    let tw = r * bulk_max.powf(2.0 / 3.0) * (m_small as f64).powf(-2.0 / 3.0);
    let cut = bulk_max + tw.sqrt();
    Ok(MpFit {
        num_spikes: lt.iter().filter(|&&v| v > cut).count(),
        sigma_mp: sigma,
        mp_softrank: bulk_max / lmax,
        w_scale,
        bulk_max: bulk_max / (w_scale * w_scale),
        bulk_min: bulk_min / (w_scale * w_scale),
    })
}

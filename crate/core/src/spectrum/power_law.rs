//! Power-law fits of the tail of an ESD (WeightWatcher 0.7.7 `WWFit`, FARMS/TempBalance Hill).
//!
//! Data: eigenvalues `x₀ ≤ … ≤ x_{n−1}` (after dropping `λ ≤ evals_thresh`, WW's 1e‑5).
//! For a candidate index `i` (so `x_min = x_i`) with tail size `k = n − i` (x_min included):
//! - continuous MLE (Clauset et al.): `α(i) = 1 + k / Σ_{j≥i} ln(x_j / x_i)`;
//!   WW's small‑n path (n < 20) uses the bias-corrected `1 + (k − 1)/Σ…` over tails `k ≥ 8`;
//! - KS distance at the data points with ECDF `m/k` (one-sided evaluation, WW's convention):
//!   `D(i) = max_{0≤m<k} |1 − (x_{i+m}/x_i)^{1−α(i)} − m/k|`, and `D = 1` when `α(i) ≤ 1`;
//! - `σ(i) = (α(i) − 1)/√k`.
//!
//! `x_min` choices ([`XminMethod`]):
//! - `KsScan` (WW default): every `i = 0…n−2`, take the first `argmin D`. In WW 0.7.7 the
//!   small‑n path computes an objective `J = D − 0.868/√k` but its caller then re-selects by
//!   `argmin D` over the tails `k ≥ 8` (others keep `D = 1`); we reproduce that exactly.
//! - `Median` (TempBalance / FARMS `xmin_pos = 2`): `i = ⌊n/2⌋`, no search, no thresholding.
//! - `Peak` (FARMS/AlphaPruning `xmin_peak`): histogram of `log₁₀ x` (100 bins), `p` = 10^(left
//!   edge of the fullest bin); scan `i` upwards, skipping `x_i < log₁₀(0.95 p)` (the anchors'
//!   log/linear bound, kept for parity) and stopping at the first `x_i > 1.5 p` (or `xmin_max`);
//!   `argmin D` among the scanned candidates.
//!
//! The KS scan is exact but not O(n²): the α's come from suffix sums of `ln x`, and each D is the
//! max over blocks of the tail whose bound `max(F(x_b) − a/k, b/k − F(x_a))` (F is monotone)
//! can still beat the running max; other blocks are skipped. [`ks_scan_naive`] is the
//! definition, used by the tests.

use crate::{Error, Result};

/// WeightWatcher's `EVALS_THRESH`: eigenvalues at or below it are not fitted.
pub const EVALS_THRESH: f64 = 1e-5;
/// WW 0.7.7 `SMALL_N_CUTOFF`: fewer fitted eigenvalues switch to the bias-corrected estimator.
pub const SMALL_N_CUTOFF: usize = 20;
/// WW 0.7.7 small‑n path: smallest tail considered.
pub const SMALL_N_MIN_TAIL: usize = 8;

/// How `x_min` is chosen (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XminMethod {
    KsScan,
    Median,
    /// `drop_last`: WeightWatcher's `xmin_peak` goes through powerlaw 1.5's `Fit`, whose
    /// candidates are `unique(in-range values)[:-1]` — the last in-range value is never tried.
    /// FARMS's own scan (`drop_last = false`) tries it.
    Peak {
        bins: usize,
        xmin_max: Option<f64>,
        drop_last: bool,
    },
}

/// Parameters of [`fit_power_law`].
#[derive(Debug, Clone, Copy)]
pub struct PowerLawParams {
    pub xmin_method: XminMethod,
    /// Eigenvalues `≤ evals_thresh` are dropped before fitting (WW: 1e‑5; FARMS median: none,
    /// use `None`).
    pub evals_thresh: Option<f64>,
    /// Keep α(i) and D(i) of every candidate (for D‑vs‑x_min plots).
    pub keep_scan: bool,
}

impl Default for PowerLawParams {
    fn default() -> Self {
        PowerLawParams {
            xmin_method: XminMethod::KsScan,
            evals_thresh: Some(EVALS_THRESH),
            keep_scan: false,
        }
    }
}

/// Result of a power-law fit. `alpha = −1` etc. is never used: a failed fit is an `Err`.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerLawFit {
    pub alpha: f64,
    pub xmin: f64,
    /// Largest fitted eigenvalue.
    pub xmax: f64,
    /// KS distance at the chosen x_min.
    pub d: f64,
    pub sigma: f64,
    /// Tail size `k` (eigenvalues ≥ x_min among the fitted ones).
    pub n_tail: usize,
    /// Number of eigenvalues that were fitted (after the threshold).
    pub n_fitted: usize,
    /// Index of x_min among the fitted eigenvalues.
    pub xmin_index: usize,
    /// The small‑n (bias-corrected) estimator was used.
    pub small_n: bool,
    /// Per-candidate `(x_min, α, D)` when `keep_scan` (KsScan only).
    pub scan: Option<Vec<(f64, f64, f64)>>,
}

fn fitted(evals: &[f64], thresh: Option<f64>) -> Result<Vec<f64>> {
    if evals.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "evals",
            reason: "non-finite eigenvalue".into(),
        });
    }
    let mut x: Vec<f64> = match thresh {
        Some(t) => evals.iter().copied().filter(|&v| v > t).collect(),
        None => evals.to_vec(),
    };
    x.sort_by(f64::total_cmp);
    Ok(x)
}

/// `α(i)` for every candidate from suffix sums of `ln x`.
fn alphas(x: &[f64], small_n: bool) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let mut suffix = vec![0.0; n + 1];
    for i in (0..n).rev() {
        suffix[i] = suffix[i + 1] + logs[i];
    }
    let mut a = vec![0.0; n.saturating_sub(1)];
    let mut s = vec![0.0; n.saturating_sub(1)];
    for i in 0..n.saturating_sub(1) {
        let k = (n - i) as f64;
        s[i] = suffix[i] - k * logs[i];
        a[i] = if small_n {
            1.0 + (k - 1.0) / s[i]
        } else {
            1.0 + k / s[i]
        };
    }
    (a, s)
}

/// `D(i)` by the definition (O(k)); the reference for [`ks_distance`].
pub fn ks_distance_naive(x: &[f64], i: usize, alpha: f64) -> f64 {
    let k = (x.len() - i) as f64;
    let xi = x[i];
    (0..x.len() - i).fold(0.0f64, |m, j| {
        m.max((1.0 - (x[i + j] / xi).powf(1.0 - alpha) - j as f64 / k).abs())
    })
}

/// `D(i)` with block pruning; equal to [`ks_distance_naive`] (same operations on the evaluated
/// points; skipped blocks are bounded below the running max with a relative margin).
pub fn ks_distance(x: &[f64], i: usize, alpha: f64) -> f64 {
    let len = x.len() - i;
    const B: usize = 32;
    if len <= 2 * B {
        return ks_distance_naive(x, i, alpha);
    }
    let k = len as f64;
    let xi = x[i];
    let e = 1.0 - alpha;
    let f = |m: usize| 1.0 - (x[i + m] / xi).powf(e);
    let nb = len.div_ceil(B);
    // Bounds per block [a, b]: |g| ≤ max(F(b) − a/k, b/k − F(a)).
    let mut blocks: Vec<(f64, usize)> = (0..nb)
        .map(|bi| {
            let a = bi * B;
            let b = (a + B).min(len) - 1;
            let (fa, fb) = (f(a), f(b));
            ((fb - a as f64 / k).max(b as f64 / k - fa), bi)
        })
        .collect();
    blocks.sort_by(|p, q| q.0.total_cmp(&p.0));
    let mut best = 0.0f64;
    for &(bound, bi) in &blocks {
        if bound + 1e-12 * (1.0 + bound.abs()) < best {
            break; // sorted by bound: no later block can beat `best`
        }
        let a = bi * B;
        let b = (a + B).min(len);
        for m in a..b {
            best = best.max((f(m) - m as f64 / k).abs());
        }
    }
    best
}

/// Every candidate's `(α, D)` by the definition: O(n²), for tests.
pub fn ks_scan_naive(evals_sorted: &[f64], small_n: bool) -> Vec<(f64, f64)> {
    let (a, _) = alphas(evals_sorted, small_n);
    a.iter()
        .enumerate()
        .map(|(i, &al)| {
            let d = if al > 1.0 && !(small_n && evals_sorted.len() - i < SMALL_N_MIN_TAIL) {
                ks_distance_naive(evals_sorted, i, al)
            } else {
                1.0
            };
            (al, d)
        })
        .collect()
}

fn finish(
    x: &[f64],
    i: usize,
    alpha: f64,
    d: f64,
    small_n: bool,
    scan: Option<Vec<(f64, f64, f64)>>,
) -> PowerLawFit {
    let k = x.len() - i;
    PowerLawFit {
        alpha,
        xmin: x[i],
        xmax: x[x.len() - 1],
        d,
        sigma: (alpha - 1.0) / (k as f64).sqrt(),
        n_tail: k,
        n_fitted: x.len(),
        xmin_index: i,
        small_n,
        scan,
    }
}

/// Fits a power law to the tail of `evals` (any order) as described in the module doc.
/// Errors when fewer than 2 eigenvalues remain after the threshold (WW reports `alpha = −1`).
pub fn fit_power_law(evals: &[f64], params: &PowerLawParams) -> Result<PowerLawFit> {
    let x = fitted(evals, params.evals_thresh)?;
    let n = x.len();
    if n < 2 {
        return Err(Error::InvalidParameter {
            name: "evals",
            reason: format!("{n} eigenvalue(s) above the threshold: a power law needs at least 2"),
        });
    }
    match params.xmin_method {
        XminMethod::KsScan => {
            let small_n = n < SMALL_N_CUTOFF;
            let (a, s) = alphas(&x, small_n);
            let mut best = (f64::INFINITY, 0usize);
            let mut ds = Vec::with_capacity(if params.keep_scan { n - 1 } else { 0 });
            for i in 0..n - 1 {
                let skip = small_n && (n - i < SMALL_N_MIN_TAIL || s[i] <= 1e-12);
                let d = if !skip && a[i] > 1.0 {
                    ks_distance(&x, i, a[i])
                } else {
                    1.0
                };
                if d < best.0 {
                    best = (d, i);
                }
                if params.keep_scan {
                    ds.push((x[i], a[i], d));
                }
            }
            if small_n && n < SMALL_N_MIN_TAIL {
                // WW's fallback when no tail reaches 8: the whole sample from x₀.
                if s[0] <= 1e-12 {
                    return Ok(PowerLawFit {
                        alpha: 1.0,
                        sigma: 0.0,
                        d: 1.0,
                        ..finish(&x, 0, 1.0, 1.0, true, None)
                    });
                }
                let d = ks_distance_naive(&x, 0, a[0]);
                return Ok(finish(&x, 0, a[0], d, true, params.keep_scan.then_some(ds)));
            }
            let i = best.1;
            Ok(finish(
                &x,
                i,
                a[i],
                best.0,
                small_n,
                params.keep_scan.then_some(ds),
            ))
        }
        XminMethod::Median => {
            let i = n / 2;
            let k = (n - i) as f64;
            let s: f64 = x[i..].iter().map(|v| (v / x[i]).ln()).sum();
            let alpha = 1.0 + k / s;
            let d = if alpha > 1.0 {
                ks_distance(&x, i, alpha)
            } else {
                1.0
            };
            Ok(finish(&x, i, alpha, d, false, None))
        }
        XminMethod::Peak {
            bins,
            xmin_max,
            drop_last,
        } => {
            let p = histogram_peak(&x, bins.max(1));
            let lower = (0.95 * p).log10(); // sic: a log10 value used as a linear bound
            let upper = xmin_max.unwrap_or(1.5 * p);
            let (a, _) = alphas(&x, false);
            // Last in-range candidate index (exclusive end of the scan).
            let mut end = (0..n - 1).find(|&i| x[i] > upper).unwrap_or(n - 1);
            if drop_last {
                let in_range_end = (0..n).find(|&i| x[i] > upper).unwrap_or(n);
                // unique(in-range)[:-1]: drop every copy of the largest in-range value.
                if in_range_end > 0 {
                    let last = x[in_range_end - 1];
                    end = end.min(
                        (0..in_range_end)
                            .find(|&i| x[i] == last)
                            .unwrap_or(in_range_end),
                    );
                }
            }
            let mut best: Option<(f64, usize)> = None;
            for i in 0..end {
                if x[i] < lower || (i > 0 && x[i] == x[i - 1]) {
                    continue;
                }
                let d = if a[i] > 1.0 {
                    ks_distance(&x, i, a[i])
                } else {
                    1.0
                };
                if best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, i));
                }
            }
            let (d, i) = best.ok_or_else(|| Error::InvalidParameter {
                name: "xmin_peak",
                reason: "no eigenvalue within the peak window".into(),
            })?;
            Ok(finish(&x, i, a[i], d, false, None))
        }
    }
}

/// `10^(left edge of the fullest bin)` of a `bins`-bin histogram of `log₁₀ x` over [min, max]
/// (numpy/torch.histc bin rule: the last bin is closed; first fullest bin wins).
pub fn histogram_peak(x: &[f64], bins: usize) -> f64 {
    let h: Vec<f64> = x.iter().map(|v| v.log10()).collect();
    let lo = h.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi <= lo {
        return 10f64.powf(lo - 0.5);
    }
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in &h {
        let b = (((v - lo) / w) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let ib = (0..bins).fold(0, |m, b| if counts[b] > counts[m] { b } else { m });
    10f64.powf(lo + w * ib as f64)
}

/// WW `fix_fingers='clip_xmax'`: refit with the top `idx = 2…max_fingers−1` eigenvalues removed;
/// the first fit whose α is below `α₀ − finger_thresh` wins (`num_fingers = idx − 1`); stop early
/// when α ≤ 2. Returns `(fit, num_fingers, raw_fit)`. `max_fingers` below n/2 is replaced by 10,
/// as WW does.
pub fn fit_clipped_power_law(
    evals: &[f64],
    params: &PowerLawParams,
    max_fingers: usize,
    finger_thresh: f64,
) -> Result<(PowerLawFit, usize, PowerLawFit)> {
    let x = fitted(evals, params.evals_thresh)?;
    let max_fingers = if (max_fingers as f64) < 0.5 * x.len() as f64 {
        10
    } else {
        max_fingers
    };
    let inner = PowerLawParams {
        evals_thresh: None,
        ..*params
    };
    let first = fit_power_law(&x, &inner)?;
    for idx in 2..max_fingers {
        if idx >= x.len() {
            break;
        }
        let fit = fit_power_law(&x[..x.len() - idx], &inner)?;
        if fit.alpha + finger_thresh < first.alpha {
            return Ok((fit, idx - 1, first));
        }
        if fit.alpha <= 2.0 {
            break;
        }
    }
    Ok((first.clone(), 0, first))
}

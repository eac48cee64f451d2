//! Derivative-free minimisation that reproduces `scipy.optimize.fmin` (Nelder–Mead) step for
//! step, so fits that WeightWatcher/powerlaw run through scipy land on the same point.
//!
//! Algorithm (scipy ≥ 1.11 `_minimize_neldermead`, `adaptive=False`):
//! - coefficients ρ = 1 (reflection), χ = 2 (expansion), ψ = ½ (contraction), σ = ½ (shrink);
//! - initial simplex: `x₀` and, for each coordinate `k`, `x₀` with `x₀[k]·1.05`
//!   (`0.00025` where `x₀[k] = 0`);
//! - vertices kept sorted by `f` (stable order, NaN last);
//! - stop when `max|x_j − x_0| ≤ xatol` **and** `max|f_j − f_0| ≤ fatol`, or after `maxiter`
//!   iterations, or when the `maxfun`-th evaluation has been made (a further evaluation request
//!   aborts the iteration in progress, as scipy's `_MaxFuncCallError` does);
//! - defaults `xatol = fatol = 1e-4`, `maxiter = maxfun = 200·N`.

/// Options of [`nelder_mead`]; `Default` = scipy's.
#[derive(Debug, Clone, Copy)]
pub struct NelderMeadParams {
    pub xatol: f64,
    pub fatol: f64,
    /// `None`: `200·N`.
    pub maxiter: Option<usize>,
    /// `None`: `200·N`.
    pub maxfun: Option<usize>,
}

impl Default for NelderMeadParams {
    fn default() -> Self {
        NelderMeadParams {
            xatol: 1e-4,
            fatol: 1e-4,
            maxiter: None,
            maxfun: None,
        }
    }
}

/// Result of [`nelder_mead`].
#[derive(Debug, Clone, PartialEq)]
pub struct NelderMeadResult {
    /// Best vertex.
    pub x: Vec<f64>,
    /// `f(x)`.
    pub fun: f64,
    pub iterations: usize,
    pub evaluations: usize,
}

/// Counts calls and refuses the one past `maxfun` (scipy's `_MaxFuncCallError`).
struct Counted<F> {
    f: F,
    calls: usize,
    maxfun: usize,
}

impl<F: FnMut(&[f64]) -> f64> Counted<F> {
    fn call(&mut self, x: &[f64]) -> Option<f64> {
        if self.calls >= self.maxfun {
            return None;
        }
        self.calls += 1;
        Some((self.f)(x))
    }
}

/// Stable sort of the vertices by value, NaN last (numpy `argsort` on ≤ 16 items).
fn sort_simplex(sim: &mut Vec<Vec<f64>>, fsim: &mut Vec<f64>) {
    let mut idx: Vec<usize> = (0..fsim.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (fsim[a], fsim[b]);
        match (x.is_nan(), y.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        }
    });
    *sim = idx.iter().map(|&i| sim[i].clone()).collect();
    *fsim = idx.iter().map(|&i| fsim[i]).collect();
}

/// `a·x + b·y`, element-wise (scipy's expressions, e.g. `(1 + ρ)·x̄ − ρ·x_worst`).
fn affine(a: f64, x: &[f64], b: f64, y: &[f64]) -> Vec<f64> {
    x.iter().zip(y).map(|(&u, &v)| a * u + b * v).collect()
}

/// Minimises `f` from `x0` (see the module doc). `x0` must be non-empty.
pub fn nelder_mead(
    f: impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    params: &NelderMeadParams,
) -> NelderMeadResult {
    let n = x0.len();
    assert!(n > 0, "nelder_mead needs at least one variable");
    let (rho, chi, psi, sigma) = (1.0, 2.0, 0.5, 0.5);
    let maxiter = params.maxiter.unwrap_or(200 * n);
    let maxfun = params.maxfun.unwrap_or(200 * n);
    let mut sim: Vec<Vec<f64>> = vec![x0.to_vec()];
    for k in 0..n {
        let mut y = x0.to_vec();
        y[k] = if y[k] != 0.0 { 1.05 * y[k] } else { 0.00025 };
        sim.push(y);
    }
    let mut f = Counted {
        f,
        calls: 0,
        maxfun,
    };
    let mut fsim = vec![f64::INFINITY; n + 1];
    for k in 0..=n {
        match f.call(&sim[k]) {
            Some(v) => fsim[k] = v,
            None => break,
        }
    }
    sort_simplex(&mut sim, &mut fsim);
    let mut iterations = 1;
    while f.calls < maxfun && iterations < maxiter {
        let xspread = sim[1..]
            .iter()
            .flat_map(|v| v.iter().zip(&sim[0]).map(|(a, b)| (a - b).abs()))
            .fold(f64::NEG_INFINITY, f64::max);
        let fspread = fsim[1..]
            .iter()
            .map(|v| (fsim[0] - v).abs())
            .fold(f64::NEG_INFINITY, f64::max);
        if xspread <= params.xatol && fspread <= params.fatol {
            break;
        }
        // One iteration; `None` from an evaluation aborts it (maxfun reached).
        let step = (|| -> Option<()> {
            let mut xbar = vec![0.0; n];
            for v in &sim[..n] {
                for (b, x) in xbar.iter_mut().zip(v) {
                    *b += x;
                }
            }
            for b in &mut xbar {
                *b /= n as f64;
            }
            let worst = sim[n].clone();
            let xr = affine(1.0 + rho, &xbar, -rho, &worst);
            let fxr = f.call(&xr)?;
            let mut shrink = false;
            if fxr < fsim[0] {
                let xe = affine(1.0 + rho * chi, &xbar, -rho * chi, &worst);
                let fxe = f.call(&xe)?;
                if fxe < fxr {
                    sim[n] = xe;
                    fsim[n] = fxe;
                } else {
                    sim[n] = xr;
                    fsim[n] = fxr;
                }
            } else if fxr < fsim[n - 1] {
                sim[n] = xr;
                fsim[n] = fxr;
            } else {
                if fxr < fsim[n] {
                    let xc = affine(1.0 + psi * rho, &xbar, -psi * rho, &worst);
                    let fxc = f.call(&xc)?;
                    if fxc <= fxr {
                        sim[n] = xc;
                        fsim[n] = fxc;
                    } else {
                        shrink = true;
                    }
                } else {
                    let xcc = affine(1.0 - psi, &xbar, psi, &worst);
                    let fxcc = f.call(&xcc)?;
                    if fxcc < fsim[n] {
                        sim[n] = xcc;
                        fsim[n] = fxcc;
                    } else {
                        shrink = true;
                    }
                }
                if shrink {
                    for j in 1..=n {
                        // scipy: sim[0] + σ·(sim[j] − sim[0]), in that order.
                        let shrunk: Vec<f64> = sim[0]
                            .iter()
                            .zip(&sim[j])
                            .map(|(&b, &v)| b + sigma * (v - b))
                            .collect();
                        sim[j] = shrunk;
                        fsim[j] = f.call(&sim[j])?;
                    }
                }
            }
            Some(())
        })();
        if step.is_some() {
            iterations += 1;
        }
        sort_simplex(&mut sim, &mut fsim);
    }
    NelderMeadResult {
        x: sim[0].clone(),
        fun: fsim[0],
        iterations,
        evaluations: f.calls,
    }
}

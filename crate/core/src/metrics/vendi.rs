//! Vendi score of order `q` (Friedman & Dieng 2023): `exp(H_q)` of the spectrum of `K/n`.

use super::entropy::{renyi_entropy, to_f64};
use crate::linalg::{check_finite, gram, symmetric_eigenvalues, GramParams, Real};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, Axis};
use serde::Serialize;

/// Similarity kernel of a Vendi score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Kernel {
    /// `K_ij = ⟨xᵢ, xⱼ⟩/(‖xᵢ‖‖xⱼ‖)`; a zero row is an error.
    Cosine,
    /// `ρ = Y Yᵀ / tr(Y Yᵀ)` with `Y = diag(√p) X` (no row normalisation).
    Linear,
    /// `K_ij = exp(−‖xᵢ − xⱼ‖² / (2 h²))`, `h = bandwidth > 0`. No dual path.
    Rbf { bandwidth: f64 },
}

/// Which matrix is decomposed: `n × n` (primal) or `d × d` (dual, cosine/linear only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VendiPath {
    /// The smaller of the two (dual when `d ≤ n`); RBF and user kernels are always primal.
    #[default]
    Auto,
    /// The `n × n` kernel.
    Primal,
    /// The `d × d` Gram `YᵀY`.
    Dual,
}

/// Parameters of [`vendi_score`], [`vendi_spectrum`], [`vendi_profile`].
#[derive(Debug, Clone, PartialEq)]
pub struct VendiParams {
    /// Order `q ≥ 0` (`f64::INFINITY` allowed). Default 1.
    pub q: f64,
    /// Default [`Kernel::Cosine`].
    pub kernel: Kernel,
    /// Optional sample weights `p` (length `n`, finite, `≥ 0`, positive sum; normalised to 1).
    pub weights: Option<Vec<f64>>,
    /// Relative eigenvalue threshold `τ`: `λ ≤ τ·λ_max` counts as zero. `None` → `max(n, d)·ε`.
    pub rel_threshold: Option<f64>,
    /// Default [`VendiPath::Auto`].
    pub path: VendiPath,
}

impl Default for VendiParams {
    fn default() -> Self {
        VendiParams {
            q: 1.0,
            kernel: Kernel::Cosine,
            weights: None,
            rel_threshold: None,
            path: VendiPath::Auto,
        }
    }
}

/// The spectrum of `ρ` (computed once; any number of orders from it).
#[derive(Debug, Clone, Serialize)]
pub struct VendiSpectrum {
    /// Eigenvalues of `ρ`, descending, length `min(n, d)` (dual/primal of a data kernel) or `n`;
    /// those at or below the threshold (and negative round-off) are set to exactly 0 and the
    /// rest renormalised to sum 1.
    pub eigenvalues: Vec<f64>,
    /// Absolute threshold used (`τ·λ_max`).
    pub threshold: f64,
    /// Relative threshold `τ`.
    pub rel_threshold: f64,
    /// `"primal"` (`n × n`) or `"dual"` (`d × d`).
    pub path: VendiPath,
    /// Number of items.
    pub n: usize,
    /// Number of features (`n` for a user similarity matrix).
    pub d: usize,
}

impl VendiSpectrum {
    /// `Vendi_q = exp(H_q(λ))`; see [`renyi_entropy`]. `O(rank)`. `q = 0` returns the rank
    /// exactly, and other orders are clamped to `[1, rank]` (their exact range).
    pub fn score(&self, q: f64) -> Result<f64> {
        let r = self.rank() as f64;
        if q == 0.0 {
            return Ok(r); // exactly, not exp(ln r)
        }
        // 1 ≤ Vendi_q ≤ rank holds exactly; clamping only removes round-off outside it.
        Ok(renyi_entropy(&self.eigenvalues, q)?
            .exp()
            .clamp(1.0, r.max(1.0)))
    }

    /// Number of eigenvalues above the threshold (`= Vendi₀`).
    pub fn rank(&self) -> usize {
        self.eigenvalues.iter().filter(|&&v| v > 0.0).count()
    }
}

/// One Vendi score with its context.
#[derive(Debug, Clone, Serialize)]
pub struct VendiReport {
    /// Order.
    pub q: f64,
    /// `Vendi_q = exp(entropy)`.
    pub score: f64,
    /// `H_q` (nats).
    pub entropy: f64,
    /// Numerical rank of `ρ` (eigenvalues above the threshold).
    pub rank: usize,
    /// Path taken.
    pub path: VendiPath,
    /// Items.
    pub n: usize,
    /// Features.
    pub d: usize,
}

/// `Vendi_q` at one order and the q-profile point type.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct QPoint {
    /// Order.
    pub q: f64,
    /// `Vendi_q`.
    pub vendi: f64,
}

/// Orders of the default q-profile: `0, 0.1, …, 1, 1.25, …, 2, 2.5, 3, 4, 5, 6, 8, 10, 16, 32`
/// (finite, so it serialises to JSON; `q = ∞` is reported separately).
pub fn default_q_grid() -> Vec<f64> {
    let mut g: Vec<f64> = (0..=10).map(|i| i as f64 / 10.0).collect();
    g.extend([
        1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 16.0, 32.0,
    ]);
    g
}

fn check_q(q: f64) -> Result<()> {
    if q.is_nan() || q < 0.0 {
        return Err(Error::InvalidParameter {
            name: "q",
            reason: format!("order must be ≥ 0 (got {q})"),
        });
    }
    Ok(())
}

/// Normalised weights `p` (uniform when `None`).
pub(crate) fn weights(w: Option<&[f64]>, n: usize) -> Result<Vec<f64>> {
    let Some(w) = w else {
        return Ok(vec![1.0 / n as f64; n]);
    };
    if w.len() != n {
        return Err(Error::Shape {
            expected: format!("{n} weights (one per row)"),
            found: format!("{}", w.len()),
        });
    }
    if let Some((i, &v)) = w
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite() || **v < 0.0)
    {
        return Err(Error::InvalidParameter {
            name: "weights",
            reason: format!("weight {i} is {v}: weights must be finite and ≥ 0"),
        });
    }
    let s: f64 = w.iter().sum();
    if s <= 0.0 {
        return Err(Error::InvalidParameter {
            name: "weights",
            reason: "weights sum to 0".into(),
        });
    }
    Ok(w.iter().map(|v| v / s).collect())
}

fn rbf_bandwidth(kernel: &Kernel) -> Result<Option<f64>> {
    match kernel {
        Kernel::Rbf { bandwidth } if !(bandwidth.is_finite() && *bandwidth > 0.0) => {
            Err(Error::InvalidParameter {
                name: "bandwidth",
                reason: format!("RBF bandwidth must be finite and > 0 (got {bandwidth})"),
            })
        }
        Kernel::Rbf { bandwidth } => Ok(Some(*bandwidth)),
        _ => Ok(None),
    }
}

/// Squared Euclidean distances `‖xᵢ − xⱼ‖²` (`n × n`), summed directly (no cancellation).
pub(crate) fn squared_distances(x: &Array2<f64>) -> Array2<f64> {
    let n = x.nrows();
    let mut d2 = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        let xi = x.row(i);
        for j in 0..i {
            let xj = x.row(j);
            let s: f64 = xi
                .iter()
                .zip(xj.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            d2[(i, j)] = s;
            d2[(j, i)] = s;
        }
    }
    d2
}

/// The RBF kernel `exp(−D²/(2h²))` of the rows of `x`.
pub(crate) fn rbf_kernel(x: &Array2<f64>, h: f64) -> Array2<f64> {
    let c = -1.0 / (2.0 * h * h);
    squared_distances(x).mapv(|v| (v * c).exp())
}

/// Median of the pairwise Euclidean distances of the rows (the "median heuristic" bandwidth;
/// not an anchor default). Uses at most the first `max_rows` rows (`O(max_rows² d)`).
pub fn median_pairwise_distance<T: Real>(x: ArrayView2<'_, T>, max_rows: usize) -> Result<f64> {
    let x = to_f64(x)?;
    let m = x.nrows().min(max_rows.max(2));
    let x = x.slice(ndarray::s![..m, ..]).to_owned();
    let d2 = squared_distances(&x);
    let mut v: Vec<f64> = (0..m)
        .flat_map(|i| (0..i).map(move |j| (i, j)))
        .map(|(i, j)| d2[(i, j)].sqrt())
        .collect();
    if v.is_empty() {
        return Ok(0.0);
    }
    v.sort_by(f64::total_cmp);
    Ok(v[v.len() / 2])
}

/// Descending, thresholded spectrum from raw eigenvalues of `ρ`.
pub(crate) fn clean_spectrum(raw: impl IntoIterator<Item = f64>, rel: f64) -> (Vec<f64>, f64) {
    let mut ev: Vec<f64> = raw.into_iter().collect();
    ev.sort_by(|a, b| b.total_cmp(a));
    let lmax = ev.first().copied().unwrap_or(0.0).max(0.0);
    let thr = rel * lmax;
    for v in ev.iter_mut() {
        if *v <= thr || *v <= 0.0 {
            *v = 0.0;
        }
    }
    // Renormalise the kept values to sum 1 (a change of order ε·rank: tr ρ = 1 analytically),
    // so that, e.g., a rank-1 ρ is exactly (1, 0, …) and every order gives exactly 1.
    let kept: f64 = ev.iter().sum();
    if kept > 0.0 {
        for v in ev.iter_mut() {
            *v /= kept;
        }
    }
    (ev, thr)
}

fn default_rel(n: usize, d: usize) -> f64 {
    n.max(d) as f64 * f64::EPSILON
}

fn check_rel(rel: Option<f64>, n: usize, d: usize) -> Result<f64> {
    match rel {
        None => Ok(default_rel(n, d)),
        Some(t) if t.is_finite() && (0.0..1.0).contains(&t) => Ok(t),
        Some(t) => Err(Error::InvalidParameter {
            name: "rel_threshold",
            reason: format!("must be in [0, 1) (got {t})"),
        }),
    }
}

/// Eigenvalues of `ρ` for `x` under `params.kernel` / `params.weights` / `params.path`
/// (`params.q` is ignored). Cosine and linear: `ρ = YYᵀ/c` or its dual `YᵀY/c`, with
/// `Y = diag(√p)·X̂` (`X̂` = L2-normalised rows for cosine, `c = 1`; `X` for linear,
/// `c = ‖Y‖_F²`). RBF: `ρ = diag(√p) K diag(√p)`.
///
/// Errors: empty / non-finite input; a zero row (cosine), a zero matrix (linear), bad weights,
/// bandwidth or threshold ([`Error::InvalidParameter`] / [`Error::Shape`]); `path = Dual`
/// with the RBF kernel.
pub fn vendi_spectrum<T: Real>(
    x: ArrayView2<'_, T>,
    params: &VendiParams,
) -> Result<VendiSpectrum> {
    let mut x = to_f64(x)?;
    let (n, d) = x.dim();
    let p = weights(params.weights.as_deref(), n)?;
    let rel = check_rel(params.rel_threshold, n, d)?;
    if let Some(h) = rbf_bandwidth(&params.kernel)? {
        if params.path == VendiPath::Dual {
            return Err(Error::InvalidParameter {
                name: "path",
                reason: "the RBF kernel has no d×d dual form".into(),
            });
        }
        let mut k = rbf_kernel(&x, h);
        scale_both(&mut k, &p);
        let (eigenvalues, threshold) = clean_spectrum(symmetric_eigenvalues(k.view())?, rel);
        return Ok(VendiSpectrum {
            eigenvalues,
            threshold,
            rel_threshold: rel,
            path: VendiPath::Primal,
            n,
            d,
        });
    }
    if params.kernel == Kernel::Linear {
        // ρ is scale-invariant: bring max|x| to 1 so ‖Y‖_F² cannot overflow or underflow.
        let m = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if m > 0.0 {
            x.mapv_inplace(|v| v / m);
        }
    }
    if params.kernel == Kernel::Cosine {
        for (i, mut row) in x.axis_iter_mut(Axis(0)).enumerate() {
            let norm = super::entropy::norm2(row.view());
            if norm == 0.0 {
                return Err(Error::InvalidParameter {
                    name: "input",
                    reason: format!("row {i} is zero: its cosine similarity is undefined"),
                });
            }
            row.mapv_inplace(|v| v / norm);
        }
    }
    for (mut row, &pi) in x.axis_iter_mut(Axis(0)).zip(&p) {
        let s = pi.sqrt();
        row.mapv_inplace(|v| v * s);
    }
    let c = if params.kernel == Kernel::Linear {
        let f: f64 = x.iter().map(|v| v * v).sum();
        if f == 0.0 {
            return Err(super::entropy::zero_matrix("the linear-kernel Vendi score"));
        }
        f
    } else {
        1.0
    };
    let dual = match params.path {
        VendiPath::Auto => d <= n,
        VendiPath::Primal => false,
        VendiPath::Dual => true,
    };
    let g = if params.path == VendiPath::Auto {
        // linalg::gram picks the smaller Gram (YᵀY when n ≥ d) with faer's triangular matmul.
        gram(x.view(), &GramParams::default())?
    } else if dual {
        x.t().dot(&x)
    } else {
        x.dot(&x.t())
    };
    let raw = symmetric_eigenvalues(g.view())?;
    let (eigenvalues, threshold) = clean_spectrum(raw.iter().map(|v| v / c), rel);
    Ok(VendiSpectrum {
        eigenvalues,
        threshold,
        rel_threshold: rel,
        path: if dual {
            VendiPath::Dual
        } else {
            VendiPath::Primal
        },
        n,
        d,
    })
}

fn scale_both(k: &mut Array2<f64>, p: &[f64]) {
    let s: Vec<f64> = p.iter().map(|v| v.sqrt()).collect();
    for ((i, j), v) in k.indexed_iter_mut() {
        *v *= s[i] * s[j];
    }
}

/// Vendi score of order `params.q` of the rows of `x` (see [`vendi_spectrum`] and the module
/// doc for the kernels, weights, path and threshold).
pub fn vendi_score<T: Real>(x: ArrayView2<'_, T>, params: &VendiParams) -> Result<VendiReport> {
    check_q(params.q)?;
    let s = vendi_spectrum(x, params)?;
    report(&s, params.q)
}

fn report(s: &VendiSpectrum, q: f64) -> Result<VendiReport> {
    let score = s.score(q)?;
    Ok(VendiReport {
        q,
        score,
        entropy: score.ln(),
        rank: s.rank(),
        path: s.path,
        n: s.n,
        d: s.d,
    })
}

/// The q-profile `q ↦ Vendi_q` for every order in `qs`: one eigen-decomposition, then
/// `O(rank)` per order, so it costs one score plus a negligible term.
pub fn vendi_profile<T: Real>(
    x: ArrayView2<'_, T>,
    params: &VendiParams,
    qs: &[f64],
) -> Result<Vec<QPoint>> {
    for &q in qs {
        check_q(q)?;
    }
    let s = vendi_spectrum(x, params)?;
    qs.iter()
        .map(|&q| {
            Ok(QPoint {
                q,
                vendi: s.score(q)?,
            })
        })
        .collect()
}

/// Vendi score from a user similarity matrix `K` (`n × n`), validated: finite, symmetric
/// (`|K_ij − K_ji| ≤ 10⁻⁶`), unit diagonal (`|K_ii − 1| ≤ 10⁻⁶`) and PSD up to round-off
/// (`λ_min ≥ −10⁻⁶·λ_max`, which admits kernels computed in f32). `ρ = K ∘ √p√pᵀ` (`K/n`
/// unweighted); `params.kernel` and `params.path` are ignored (always the `n × n` form).
pub fn vendi_from_similarity<T: Real>(
    k: ArrayView2<'_, T>,
    params: &VendiParams,
) -> Result<(VendiReport, VendiSpectrum)> {
    check_q(params.q)?;
    let (n, m) = k.dim();
    if n != m {
        return Err(Error::Shape {
            expected: "a square similarity matrix".into(),
            found: format!("{n}×{m}"),
        });
    }
    if n == 0 {
        return Err(Error::Empty { rows: n, cols: m });
    }
    check_finite(k.view())?;
    let mut k = k.mapv(|v| v.to_f64());
    for i in 0..n {
        if (k[(i, i)] - 1.0).abs() > 1e-6 {
            return Err(Error::InvalidParameter {
                name: "similarity",
                reason: format!("diagonal entry {i} is {} (must be 1)", k[(i, i)]),
            });
        }
        for j in 0..i {
            if (k[(i, j)] - k[(j, i)]).abs() > 1e-6 {
                return Err(Error::InvalidParameter {
                    name: "similarity",
                    reason: format!("not symmetric: K[{i},{j}] ≠ K[{j},{i}]"),
                });
            }
        }
    }
    let p = weights(params.weights.as_deref(), n)?;
    let rel = check_rel(params.rel_threshold, n, n)?;
    scale_both(&mut k, &p);
    let raw = symmetric_eigenvalues(k.view())?;
    let lmax = raw.iter().copied().fold(0.0f64, f64::max);
    let lmin = raw.iter().copied().fold(f64::INFINITY, f64::min);
    if lmin < -1e-6 * lmax {
        return Err(Error::InvalidParameter {
            name: "similarity",
            reason: format!(
                "not positive semidefinite: smallest eigenvalue {lmin:e} (largest {lmax:e})"
            ),
        });
    }
    let (eigenvalues, threshold) = clean_spectrum(raw, rel);
    let s = VendiSpectrum {
        eigenvalues,
        threshold,
        rel_threshold: rel,
        path: VendiPath::Primal,
        n,
        d: n,
    };
    Ok((report(&s, params.q)?, s))
}

//! Structures beyond plain low rank, each as an (error, bytes) curve for one matrix.
//!
//! | method string | structure | bytes |
//! |---|---|---|
//! | `svd` | truncated SVD, rank `k` | `k(N+M)` numbers |
//! | `lr+int{b}` | `L + Q(W − L)`, LQ-LoRA alternation | factors + [`QuantParams::bytes`]`(NM)` |
//! | `lr+sparse` | `L + S`, `S` = top-`s` magnitudes of `W − L` | factors + `s`·(value + 4-byte index) |
//! | `monarch-b{b}` | Monarch, `b` blocks, block rank ρ | `ρ·b·(N' + M')` numbers (padded sizes) |
//! | `kron-{m1}x{n1}` | `Σ_{t≤R} A_t ⊗ B_t`, `A_t` m1×n1 | `R(m1·n1 + m2·n2)` numbers |
//! | `pissa+int{b}` | PiSSA principal part + quantized residual (one round) | as `lr+int{b}` |
//!
//! Numbers are stored at the `precision` of each `…Params` (default f16, see [`super::Precision`]).
//! All SVDs are exact (faer), not randomized.

use super::quantize::QuantParams;
use super::{check_matrix, fro2, ratio, rel_error, Precision, TradeoffPoint};
use crate::linalg::{singular_values, thin_svd, Svd};
use crate::{Error, Result};
use ndarray::{s, Array2, ArrayView2};
use serde::Serialize;

/// The alternations (LR + quantized, LR + sparse) stop once a round lowers the error by less
/// than this fraction (a stall; exact structures keep converging linearly until round-off).
pub const STALL: f64 = 1e-4;

/// `U_k diag(s_k) Vᵀ_k`.
pub(crate) fn svd_truncate(svd: &Svd<f64>, k: usize) -> Array2<f64> {
    let k = k.min(svd.s.len());
    let mut u = svd.u.slice(s![.., ..k]).to_owned();
    for (j, mut col) in u.columns_mut().into_iter().enumerate() {
        col *= svd.s[j];
    }
    u.dot(&svd.vt.slice(s![..k, ..]))
}

/// Best rank-`k` approximation of `w` (exact SVD).
pub fn low_rank_approx(w: ArrayView2<'_, f64>, k: usize) -> Result<Array2<f64>> {
    check_matrix(w)?;
    check_ranks(&[k], w)?;
    Ok(svd_truncate(&thin_svd(w)?, k))
}

fn check_ranks(ranks: &[usize], w: ArrayView2<'_, f64>) -> Result<()> {
    let kmax = w.nrows().min(w.ncols());
    if let Some(&k) = ranks.iter().find(|&&k| k > kmax) {
        return Err(Error::InvalidParameter {
            name: "ranks",
            reason: format!("rank {k} exceeds min(N, M) = {kmax}"),
        });
    }
    Ok(())
}

/// Truncated-SVD curve (`method = "svd"`, `param` = rank) for ranks `0..=min(N, M)`.
pub fn svd_curve(w: ArrayView2<'_, f64>, precision: Precision) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    let (n, m) = w.dim();
    let sv = singular_values(w)?;
    let s2: Vec<f64> = sv.iter().map(|v| v * v).collect();
    let tail = super::truncation::tail_energies(&s2);
    Ok((0..=s2.len())
        .map(|k| TradeoffPoint {
            method: "svd".into(),
            param: k as f64,
            bytes: precision.bytes((k * (n + m)) as u64),
            rel_fro_error: ratio(tail[k], tail[0]),
        })
        .collect())
}

// ---------------------------------------------------------------- low rank + quantized residual

/// Options of [`lowrank_quantized`] / [`lowrank_quantized_curve`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LowRankQuantParams {
    /// Ranks of the curve (default 8, 16, 32, 64; clipped to `min(N, M)`).
    pub ranks: Vec<usize>,
    /// Residual quantizer (default int4, groups of 64).
    pub quant: QuantParams,
    /// Most alternation rounds `T ≥ 1` (default 5; 1 = "SVD, then quantize the residual").
    /// The alternation stops earlier once a round lowers the error by less than [`STALL`]
    /// relative (a fixed point, or LQ-LoRA's "error went up" stop).
    pub iterations: usize,
    /// Precision of the factors (default f16).
    pub precision: Precision,
}

impl Default for LowRankQuantParams {
    fn default() -> Self {
        LowRankQuantParams {
            ranks: vec![8, 16, 32, 64],
            quant: QuantParams::default(),
            iterations: 5,
            precision: Precision::F16,
        }
    }
}

/// Result of [`lowrank_quantized`].
#[derive(Debug, Clone, Serialize)]
pub struct LowRankQuantReport {
    pub rank: usize,
    /// How the alternation started: `"lq-lora"` (`Q₀ = 0`), `"gear"` (`Q₀ = quant(W)`: quantize
    /// first, then fit the low rank to the quantization error) or `"warm"` (the previous rank's
    /// quantized part, in [`lowrank_quantized_curve`]).
    pub start: &'static str,
    /// Relative error after each round `t = 1..=T` (a round = SVD step, then quantization step).
    pub errors: Vec<f64>,
    /// Rounds run (`errors.len()`).
    pub iterations: usize,
    /// The best error seen. Candidates are every round's `L_t + Q_t` and every half step
    /// `L_t + Q_{t−1}` (a valid stored pair: `Q_{t−1}` is on the quantization grid), so the
    /// result is never worse than the start's SVD step.
    pub rel_fro_error: f64,
    pub bytes: u64,
    /// The best reconstruction `L + Q` (not serialized).
    #[serde(skip)]
    pub reconstruction: Array2<f64>,
    /// The best pair's quantized part `Q` (dequantized; not serialized).
    #[serde(skip)]
    pub quantized: Array2<f64>,
}

/// The residual quantizer of LR + quantized: dequantized values and bytes.
fn quantize_residual(r: ArrayView2<'_, f64>, q: &QuantParams) -> Result<(Array2<f64>, u64)> {
    let out = super::quantize::quantize(r, q)?;
    Ok((out.dequantized, out.bytes))
}

/// The alternation `L_t = SVD_k(W − Q_{t−1})`, `Q_t = quant(W − L_t)` from `q0`.
fn lq_alternate(
    w: ArrayView2<'_, f64>,
    rank: usize,
    params: &LowRankQuantParams,
    q0: Array2<f64>,
    q0_is_stored: bool,
    start: &'static str,
) -> Result<LowRankQuantReport> {
    let (n, m) = w.dim();
    let mut q = q0;
    let mut errors: Vec<f64> = Vec::with_capacity(params.iterations);
    let mut best: Option<(f64, Array2<f64>, Array2<f64>)> = None;
    let keep = |e: f64, rec: Array2<f64>, q: &Array2<f64>, best: &mut Option<_>| {
        if best.as_ref().is_none_or(|(b, _, _)| e < *b) {
            *best = Some((e, rec, q.clone()));
        }
    };
    let qbytes = params.quant.bytes((n * m) as u64);
    for t in 0..params.iterations {
        let l = svd_truncate(&thin_svd((&w - &q).view())?, rank);
        if t > 0 || q0_is_stored {
            let rec = &l + &q;
            keep(rel_error(w, rec.view()), rec, &q, &mut best);
        }
        let (qd, _) = quantize_residual((&w - &l).view(), &params.quant)?;
        q = qd;
        let rec = &l + &q;
        let e = rel_error(w, rec.view());
        keep(e, rec, &q, &mut best);
        let prev = errors.last().copied();
        errors.push(e);
        if prev.is_some_and(|p| e >= p * (1.0 - STALL)) {
            break;
        }
    }
    let (e, rec, qbest) = best.expect("at least one iteration");
    Ok(LowRankQuantReport {
        rank,
        start,
        iterations: errors.len(),
        errors,
        rel_fro_error: e,
        bytes: params.precision.bytes((rank * (n + m)) as u64) + qbytes,
        reconstruction: rec,
        quantized: qbest,
    })
}

fn check_iterations(t: usize) -> Result<()> {
    if t == 0 {
        return Err(Error::InvalidParameter {
            name: "iterations",
            reason: "must be ≥ 1".into(),
        });
    }
    Ok(())
}

/// LQ-LoRA: `Q₀ = 0`; for `t = 1..=T`: `L_t = SVD_k(W − Q_{t−1})`, `Q_t = quant(W − L_t)`;
/// stops when a round no longer lowers the error and keeps the best pair seen (not the last).
pub fn lowrank_quantized(
    w: ArrayView2<'_, f64>,
    rank: usize,
    params: &LowRankQuantParams,
) -> Result<LowRankQuantReport> {
    check_matrix(w)?;
    check_ranks(&[rank], w)?;
    check_iterations(params.iterations)?;
    lq_alternate(w, rank, params, Array2::zeros(w.dim()), false, "lq-lora")
}

/// [`lowrank_quantized`] over `params.ranks` (ascending; `method = "lr+int{b}"`, `param` = rank).
///
/// Each rank alternates from two starts and keeps the better result: `Q₀ = 0` (LQ-LoRA) and
/// the better (by its first SVD step) of `quant(W)` (GEAR's order: quantize first, then the low
/// rank fits the quantization error) and the previous rank's best `Q` (warm start). Because the warm start's first half step is never worse than the previous
/// rank's result, the error is non-increasing along the curve while bytes grow.
pub fn lowrank_quantized_curve(
    w: ArrayView2<'_, f64>,
    params: &LowRankQuantParams,
) -> Result<Vec<TradeoffPoint>> {
    Ok(lowrank_quantized_reports(w, params)?
        .into_iter()
        .map(|r| TradeoffPoint {
            method: format!("lr+{}", params.quant.name()),
            param: r.rank as f64,
            bytes: r.bytes,
            rel_fro_error: r.rel_fro_error,
        })
        .collect())
}

/// The reports behind [`lowrank_quantized_curve`] (start, iterations, errors per rank).
pub fn lowrank_quantized_reports(
    w: ArrayView2<'_, f64>,
    params: &LowRankQuantParams,
) -> Result<Vec<LowRankQuantReport>> {
    check_matrix(w)?;
    check_iterations(params.iterations)?;
    let kmax = w.nrows().min(w.ncols());
    let mut ranks: Vec<usize> = params.ranks.iter().map(|&k| k.min(kmax)).collect();
    ranks.sort_unstable();
    ranks.dedup();
    let (gear_q, _) = quantize_residual(w, &params.quant)?;
    let mut out: Vec<LowRankQuantReport> = Vec::with_capacity(ranks.len());
    for &k in &ranks {
        let mut starts: Vec<(Array2<f64>, bool, &'static str)> = vec![
            (Array2::zeros(w.dim()), false, "lq-lora"),
            (gear_q.clone(), true, "gear"),
        ];
        if let Some(prev) = out.last() {
            starts.push((prev.quantized.clone(), true, "warm"));
        }
        // Alternate from LQ-LoRA's start and from the better of the other two (by their first
        // SVD step), and keep the better result.
        let mut chosen: Option<(f64, usize)> = None;
        for (idx, (q0, _, _)) in starts.iter().enumerate().skip(1) {
            let l = svd_truncate(&thin_svd((&w - q0).view())?, k);
            let e = rel_error(w, (&l + q0).view());
            if chosen.is_none_or(|(b, _)| e < b) {
                chosen = Some((e, idx));
            }
        }
        let (_, idx) = chosen.expect("two starts at least");
        let (q0, stored, name) = starts.swap_remove(idx);
        let other = lq_alternate(w, k, params, q0, stored, name)?;
        let lq = lq_alternate(w, k, params, Array2::zeros(w.dim()), false, "lq-lora")?;
        out.push(if lq.rel_fro_error < other.rel_fro_error {
            lq
        } else {
            other
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- low rank + sparse

/// Options of [`lowrank_sparse`] / [`lowrank_sparse_curve`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LowRankSparseParams {
    /// Ranks of the curve (default 8, 16, 32, 64).
    pub ranks: Vec<usize>,
    /// Kept fractions of `NM` entries (default 0.1 %, 1 %, 5 %).
    pub fractions: Vec<f64>,
    /// Most alternation rounds (default 30). Round 1 starts from GEAR's order
    /// (`S₀ = top(W)`, then `L₁ = SVD_k(W − S₀)`), every round is
    /// `L_t = SVD_k(W − S_{t−1})`, `S_t = top(W − L_t)` (hard-threshold projections,
    /// GoDec-like, fixed cardinality: the error is non-increasing in `t`). The alternation stops
    /// when a round lowers the error by less than [`STALL`] relative (with a fixed support the
    /// values keep converging, so an unchanged support is not yet a fixed point).
    pub iterations: usize,
    pub precision: Precision,
}

impl Default for LowRankSparseParams {
    fn default() -> Self {
        LowRankSparseParams {
            ranks: vec![8, 16, 32, 64],
            fractions: vec![0.001, 0.01, 0.05],
            iterations: 30,
            precision: Precision::F16,
        }
    }
}

/// Result of [`lowrank_sparse`].
#[derive(Debug, Clone, Serialize)]
pub struct LowRankSparseReport {
    pub rank: usize,
    /// Kept entries as `(row, col, value)`, sorted by flat index.
    pub sparse: Vec<(usize, usize, f64)>,
    /// GEAR's one-pass error: `S₀ = top(W)`, `L = SVD_k(W − S₀)`.
    pub gear_rel_error: f64,
    /// Relative error after each round.
    pub errors: Vec<f64>,
    /// Rounds run (`errors.len()`).
    pub iterations: usize,
    /// Whether the alternation stopped on the tolerance (not on the cap).
    pub converged: bool,
    pub rel_fro_error: f64,
    /// Factors + `nnz`·(value + 4-byte u32 flat index) (COO).
    pub bytes: u64,
    /// `L + S` (not serialized).
    #[serde(skip)]
    pub reconstruction: Array2<f64>,
}

/// Flat indices of the `k` largest-magnitude entries (ties: smaller flat index first).
fn top_k(a: &Array2<f64>, k: usize) -> Vec<usize> {
    let flat: Vec<f64> = a.iter().copied().collect();
    let mut idx: Vec<usize> = (0..flat.len()).collect();
    let k = k.min(flat.len());
    if k == 0 {
        return Vec::new();
    }
    let cmp = |x: &usize, y: &usize| flat[*y].abs().total_cmp(&flat[*x].abs()).then(x.cmp(y));
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, cmp);
        idx.truncate(k);
    }
    idx.sort_unstable();
    idx
}

/// `S` holding `a` on `support` (flat indices), zero elsewhere.
fn sparse_on(a: &Array2<f64>, support: &[usize]) -> Array2<f64> {
    let m = a.ncols();
    let mut sp = Array2::zeros(a.dim());
    for &f in support {
        sp[[f / m, f % m]] = a[[f / m, f % m]];
    }
    sp
}

/// Low rank + sparse residual with `nnz` kept entries: GEAR's order, then the alternation (see
/// [`LowRankSparseParams::iterations`]; `iterations` is the cap on rounds).
pub fn lowrank_sparse(
    w: ArrayView2<'_, f64>,
    rank: usize,
    nnz: usize,
    iterations: usize,
    precision: Precision,
) -> Result<LowRankSparseReport> {
    check_matrix(w)?;
    check_ranks(&[rank], w)?;
    check_iterations(iterations)?;
    lowrank_sparse_from(w, rank, nnz, iterations, precision, None)
}

/// [`lowrank_sparse`], optionally also trying a warm start `S₀` (the previous rank's sparse
/// part): the start whose first SVD step has the lower error is alternated.
fn lowrank_sparse_from(
    w: ArrayView2<'_, f64>,
    rank: usize,
    nnz: usize,
    iterations: usize,
    precision: Precision,
    warm: Option<&Array2<f64>>,
) -> Result<LowRankSparseReport> {
    let (n, m) = w.dim();
    let nnz = nnz.min(n * m);
    let w0 = w.to_owned();
    let mut sp = sparse_on(&w0, &top_k(&w0, nnz));
    let mut l = svd_truncate(&thin_svd((&w - &sp).view())?, rank);
    let gear = rel_error(w, (&l + &sp).view());
    if let Some(s0) = warm {
        let lw = svd_truncate(&thin_svd((&w - s0).view())?, rank);
        if rel_error(w, (&lw + s0).view()) < gear {
            sp = s0.clone();
            l = lw;
        }
    }
    let mut errors = Vec::new();
    let mut support: Vec<usize> = Vec::new();
    let mut converged = false;
    for t in 0..iterations {
        if t > 0 {
            l = svd_truncate(&thin_svd((&w - &sp).view())?, rank);
        }
        let resid = &w - &l;
        let next = top_k(&resid, nnz);
        sp = sparse_on(&resid, &next);
        let e = rel_error(w, (&l + &sp).view());
        support = next;
        let prev = errors.last().copied();
        errors.push(e);
        if prev.is_some_and(|p: f64| e >= p * (1.0 - STALL)) || e == 0.0 {
            converged = true;
            break;
        }
    }
    let sparse = support
        .iter()
        .map(|&f| (f / m, f % m, sp[[f / m, f % m]]))
        .collect();
    let bytes =
        precision.bytes((rank * (n + m)) as u64) + precision.bytes(nnz as u64) + 4 * nnz as u64;
    Ok(LowRankSparseReport {
        rank,
        sparse,
        gear_rel_error: gear,
        rel_fro_error: *errors.last().expect("at least one iteration"),
        iterations: errors.len(),
        converged,
        errors,
        bytes,
        reconstruction: &l + &sp,
    })
}

/// [`lowrank_sparse`] over ranks × fractions (`method = "lr+sparse{fraction}"`, `param` = rank).
/// Ranks are taken in ascending order and each rank also tries the previous rank's sparse part
/// as a start, so the error is non-increasing along each fraction's curve.
pub fn lowrank_sparse_curve(
    w: ArrayView2<'_, f64>,
    params: &LowRankSparseParams,
) -> Result<Vec<TradeoffPoint>> {
    Ok(lowrank_sparse_reports(w, params)?
        .into_iter()
        .map(|(f, r)| TradeoffPoint {
            method: format!("lr+sparse{f}"),
            param: r.rank as f64,
            bytes: r.bytes,
            rel_fro_error: r.rel_fro_error,
        })
        .collect())
}

/// The reports behind [`lowrank_sparse_curve`], as `(fraction, report)`.
pub fn lowrank_sparse_reports(
    w: ArrayView2<'_, f64>,
    params: &LowRankSparseParams,
) -> Result<Vec<(f64, LowRankSparseReport)>> {
    check_matrix(w)?;
    check_iterations(params.iterations)?;
    if let Some(f) = params.fractions.iter().find(|f| !(0.0..=1.0).contains(*f)) {
        return Err(Error::InvalidParameter {
            name: "fractions",
            reason: format!("{f} is not in [0, 1]"),
        });
    }
    let kmax = w.nrows().min(w.ncols());
    let mut ranks: Vec<usize> = params.ranks.iter().map(|&k| k.min(kmax)).collect();
    ranks.sort_unstable();
    ranks.dedup();
    let mut out = Vec::new();
    for &f in &params.fractions {
        let nnz = (f * w.len() as f64).round() as usize;
        let mut warm: Option<Array2<f64>> = None;
        for &k in &ranks {
            let r = lowrank_sparse_from(
                w,
                k,
                nnz,
                params.iterations,
                params.precision,
                warm.as_ref(),
            )?;
            let mut s0 = Array2::zeros(w.dim());
            for &(i, j, v) in &r.sparse {
                s0[[i, j]] = v;
            }
            warm = Some(s0);
            out.push((f, r));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- Monarch

/// The strided blocks of Monarch with `b` blocks of `w` zero-padded to `(b·⌈N/b⌉) × (b·⌈M/b⌉)`:
/// block `(k, j)` (input block `k`, output class `j`) is the `l × i` matrix
/// `W[l·b + j, k·i .. (k+1)·i]` for `l < N'/b` (rows interleaved with stride `b`, columns
/// contiguous; `i = M'/b`).
fn monarch_blocks(w: ArrayView2<'_, f64>, b: usize) -> (usize, usize, Vec<Array2<f64>>) {
    let (n, m) = w.dim();
    let (l, i) = (n.div_ceil(b), m.div_ceil(b));
    let mut blocks = Vec::with_capacity(b * b);
    for k in 0..b {
        for j in 0..b {
            blocks.push(Array2::from_shape_fn((l, i), |(r, c)| {
                let (row, col) = (r * b + j, k * i + c);
                if row < n && col < m {
                    w[[row, col]]
                } else {
                    0.0
                }
            }));
        }
    }
    (l, i, blocks)
}

fn check_nblocks(w: ArrayView2<'_, f64>, b: usize) -> Result<()> {
    if b == 0 || b > w.nrows().min(w.ncols()) {
        return Err(Error::InvalidParameter {
            name: "nblocks",
            reason: format!("{b} is not in 1..=min(N, M) = {}", w.nrows().min(w.ncols())),
        });
    }
    Ok(())
}

/// Frobenius projection onto Monarch matrices with `nblocks` blocks and block rank
/// `block_rank` (each strided block replaced by its best rank-ρ approximation), on the
/// zero-padded matrix, cropped back to `N × M` (exact projection when `b` divides `N` and `M`).
pub fn monarch_project(
    w: ArrayView2<'_, f64>,
    nblocks: usize,
    block_rank: usize,
) -> Result<Array2<f64>> {
    check_matrix(w)?;
    check_nblocks(w, nblocks)?;
    let b = nblocks;
    let (n, m) = w.dim();
    let (l, i, blocks) = monarch_blocks(w, b);
    let mut out = Array2::zeros((n, m));
    for k in 0..b {
        for j in 0..b {
            let approx = svd_truncate(&thin_svd(blocks[k * b + j].view())?, block_rank);
            for r in 0..l {
                for c in 0..i {
                    let (row, col) = (r * b + j, k * i + c);
                    if row < n && col < m {
                        out[[row, col]] = approx[[r, c]];
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Options of [`monarch_curve`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonarchParams {
    /// Block counts to try; empty (the default) = [`monarch_nblocks`] (2, 4, 8, … up to `√n`,
    /// and the divisor nearest `√n`). Counts above `min(N, M)` are skipped.
    pub nblocks: Vec<usize>,
    pub precision: Precision,
}

impl Default for MonarchParams {
    fn default() -> Self {
        MonarchParams {
            nblocks: Vec::new(),
            precision: Precision::F16,
        }
    }
}

/// The default block counts for an `N × M` matrix, `n = min(N, M)`: the powers of two
/// `2, 4, 8, …` with `b² ≤ n`, plus the divisor of `n` nearest `√n` ([`near_square_factor`];
/// for a square `n = s²` that is `s`, the canonical Monarch of `blockdiag_butterfly_project`,
/// `sizes = (√n, √n)`, block rank 1). Ascending, without repeats.
pub fn monarch_nblocks(rows: usize, cols: usize) -> Vec<usize> {
    let n = rows.min(cols);
    let mut out: Vec<usize> = std::iter::successors(Some(2usize), |b| Some(b * 2))
        .take_while(|b| b * b <= n)
        .collect();
    let root = near_square_factor(n);
    if root >= 2 {
        out.push(root);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Monarch curves: for each `b`, block ranks `ρ = 1..=min(l, i)` while the factors are smaller
/// than the padded dense matrix (`method = "monarch-b{b}"`, `param` = ρ). Bytes count
/// `ρ·b·(N' + M')` numbers; the error (from the blocks' singular values, `Σ` discarded `σ²`)
/// is that of the padded projection.
pub fn monarch_curve(w: ArrayView2<'_, f64>, params: &MonarchParams) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    let total = fro2(w);
    let mut out = Vec::new();
    let nblocks = if params.nblocks.is_empty() {
        monarch_nblocks(w.nrows(), w.ncols())
    } else {
        params.nblocks.clone()
    };
    for &b in nblocks
        .iter()
        .filter(|&&b| b >= 1 && b <= w.nrows().min(w.ncols()))
    {
        let (l, i, blocks) = monarch_blocks(w, b);
        let mut s2: Vec<Vec<f64>> = Vec::with_capacity(blocks.len());
        for blk in &blocks {
            s2.push(singular_values(blk.view())?.iter().map(|v| v * v).collect());
        }
        let (pn, pm) = (l * b, i * b);
        for rho in 1..=l.min(i) {
            let count = (rho * b * (pn + pm)) as u64;
            if count >= (pn * pm) as u64 {
                break;
            }
            let tail: f64 = s2.iter().map(|s| s.iter().skip(rho).sum::<f64>()).sum();
            out.push(TradeoffPoint {
                method: format!("monarch-b{b}"),
                param: rho as f64,
                bytes: params.precision.bytes(count),
                rel_fro_error: ratio(tail, total),
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- Kronecker

/// Van Loan–Pitsianis rearrangement `R(W)` for `A` of shape `m1 × n1`, `B` of `m2 × n2`: row
/// `i1·n1 + j1` is the row-major vec of block `W[i1·m2.., j1·n2..]` (`m1·n1 × m2·n2`).
fn kron_rearrange(
    w: ArrayView2<'_, f64>,
    m1: usize,
    n1: usize,
) -> Result<(usize, usize, Array2<f64>)> {
    let (n, m) = w.dim();
    if m1 == 0 || n1 == 0 || n % m1 != 0 || m % n1 != 0 {
        return Err(Error::Shape {
            expected: format!("A of m1 × n1 with m1 | {n} and n1 | {m}"),
            found: format!("{m1} × {n1}"),
        });
    }
    let (m2, n2) = (n / m1, m / n1);
    let r = Array2::from_shape_fn((m1 * n1, m2 * n2), |(a, bidx)| {
        let (i1, j1) = (a / n1, a % n1);
        let (i2, j2) = (bidx / n2, bidx % n2);
        w[[i1 * m2 + i2, j1 * n2 + j2]]
    });
    Ok((m2, n2, r))
}

/// Best `Σ_{t≤R} A_t ⊗ B_t` approximation (`A_t` is `m1 × n1`) via the SVD of the rearrangement.
pub fn kronecker_approx(
    w: ArrayView2<'_, f64>,
    m1: usize,
    n1: usize,
    rank: usize,
) -> Result<Array2<f64>> {
    check_matrix(w)?;
    let (m2, n2, r) = kron_rearrange(w, m1, n1)?;
    let approx = svd_truncate(&thin_svd(r.view())?, rank);
    let (n, m) = w.dim();
    Ok(Array2::from_shape_fn((n, m), |(row, col)| {
        let (i1, i2) = (row / m2, row % m2);
        let (j1, j2) = (col / n2, col % n2);
        approx[[i1 * n1 + j1, i2 * n2 + j2]]
    }))
}

/// The divisor of `n` closest to `√n` (ties: the smaller).
pub fn near_square_factor(n: usize) -> usize {
    let mut best = 1;
    for d in 1..=n {
        if d * d > n {
            break;
        }
        if n.is_multiple_of(d) {
            best = d;
        }
    }
    // best ≤ √n; its cofactor n/best ≥ √n may be closer.
    let other = n / best.max(1);
    let root = (n as f64).sqrt();
    if (other as f64 - root).abs() < (root - best as f64).abs() {
        other
    } else {
        best
    }
}

/// Options of [`kronecker_curve`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KroneckerParams {
    /// Rows `m1` of `A` (default: the divisor of `N` nearest `√N`).
    pub m1: Option<usize>,
    /// Columns `n1` of `A` (default: the divisor of `M` nearest `√M`).
    pub n1: Option<usize>,
    pub precision: Precision,
}

impl Default for KroneckerParams {
    fn default() -> Self {
        KroneckerParams {
            m1: None,
            n1: None,
            precision: Precision::F16,
        }
    }
}

/// Kronecker-sum curve for `R = 1..=min(m1 n1, m2 n2)` while smaller than dense
/// (`method = "kron-{m1}x{n1}"`, `param` = R; error = tail of `R(W)`'s spectrum).
pub fn kronecker_curve(
    w: ArrayView2<'_, f64>,
    params: &KroneckerParams,
) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    let (n, m) = w.dim();
    let m1 = params.m1.unwrap_or_else(|| near_square_factor(n));
    let n1 = params.n1.unwrap_or_else(|| near_square_factor(m));
    let (m2, n2, r) = kron_rearrange(w, m1, n1)?;
    let s2: Vec<f64> = singular_values(r.view())?.iter().map(|v| v * v).collect();
    let tail = super::truncation::tail_energies(&s2);
    let per = (m1 * n1 + m2 * n2) as u64;
    Ok((1..=s2.len())
        .take_while(|&k| k as u64 * per < (n * m) as u64)
        .map(|k| TradeoffPoint {
            method: format!("kron-{m1}x{n1}"),
            param: k as f64,
            bytes: params.precision.bytes(k as u64 * per),
            rel_fro_error: ratio(tail[k], tail[0]),
        })
        .collect())
}

// ---------------------------------------------------------------- PiSSA

/// PiSSA's split `W = A B + W_res` at rank `r` (`A = U_r Σ_r^{1/2}`, `B = Σ_r^{1/2} V_rᵀ`).
#[derive(Debug, Clone, Serialize)]
pub struct PissaReport {
    pub rank: usize,
    /// `Σ_{i≤r} σᵢ² / Σ σᵢ²`.
    pub principal_energy: f64,
    /// `‖W_res‖ / ‖W‖` (= the truncated-SVD error: dropping the residual *is* the SVD curve).
    pub residual_rel_norm: f64,
    /// Spectrum of the residual: `σ_{r+1}, σ_{r+2}, …` (descending).
    pub residual_singular_values: Vec<f64>,
    /// QPiSSA: principal part kept in the factor precision, residual quantized (one round).
    pub quantized_residual_rel_error: f64,
    pub quantized_bytes: u64,
}

/// PiSSA's principal/residual split and the QPiSSA point (`quant` on the residual, one round —
/// the same as [`lowrank_quantized`] with `T = 1`).
pub fn pissa_split(
    w: ArrayView2<'_, f64>,
    rank: usize,
    quant: &QuantParams,
    precision: Precision,
) -> Result<PissaReport> {
    check_matrix(w)?;
    check_ranks(&[rank], w)?;
    let svd = thin_svd(w)?;
    let s2: Vec<f64> = svd.s.iter().map(|v| v * v).collect();
    let tail = super::truncation::tail_energies(&s2);
    let q = lowrank_quantized(
        w,
        rank,
        &LowRankQuantParams {
            ranks: vec![rank],
            quant: *quant,
            iterations: 1,
            precision,
        },
    )?;
    Ok(PissaReport {
        rank,
        principal_energy: if tail[0] > 0.0 {
            (tail[0] - tail[rank]) / tail[0]
        } else {
            1.0
        },
        residual_rel_norm: ratio(tail[rank], tail[0]),
        residual_singular_values: svd.s.iter().skip(rank).copied().collect(),
        quantized_residual_rel_error: q.rel_fro_error,
        quantized_bytes: q.bytes,
    })
}

/// PiSSA curve over `ranks`: `"pissa"` (residual dropped: the truncated-SVD point, factors at
/// `precision`) and `"qpissa-{quant}"` (residual quantized with `quant`, one round);
/// `param` = rank.
pub fn pissa_curve(
    w: ArrayView2<'_, f64>,
    ranks: &[usize],
    quant: &QuantParams,
    precision: Precision,
) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    check_ranks(ranks, w)?;
    let (n, m) = w.dim();
    let mut out = Vec::with_capacity(2 * ranks.len());
    for &k in ranks {
        let p = pissa_split(w, k, quant, precision)?;
        out.push(TradeoffPoint {
            method: "pissa".into(),
            param: k as f64,
            bytes: precision.bytes((k * (n + m)) as u64),
            rel_fro_error: p.residual_rel_norm,
        });
        out.push(TradeoffPoint {
            method: format!("qpissa-{}", quant.name()),
            param: k as f64,
            bytes: p.quantized_bytes,
            rel_fro_error: p.quantized_residual_rel_error,
        });
    }
    Ok(out)
}

/// Options of [`tradeoff_curves`]: one set per structure (each with its own defaults).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeoffParams {
    /// Precision of the plain SVD factors and of the PiSSA principal part (default f16).
    pub precision: Precision,
    pub quantization: super::quantize::QuantCurveParams,
    pub lowrank_quantized: LowRankQuantParams,
    pub lowrank_sparse: LowRankSparseParams,
    pub monarch: MonarchParams,
    pub kronecker: KroneckerParams,
    /// DCT precision (both rankings, `dct-l1` and `dct-l2`, are computed; `score` is unused here).
    pub dct: super::dct_basis::DctParams,
    /// PiSSA ranks (default 8, 16, 32, 64), residual quantized with `pissa_quant`.
    pub pissa_ranks: Vec<usize>,
    /// QPiSSA's residual quantizer (default NF4, blocks of 64, no double quantization: the
    /// anchor's bitsandbytes call).
    pub pissa_quant: QuantParams,
    /// Further LR + quantized curves with other residual quantizers (default: NF4, `lr+nf4`).
    pub lowrank_extra_quants: Vec<QuantParams>,
    /// llama.cpp types, one point each (`gguf-q4_k`, …; default Q8_0, Q6_K, Q5_K, Q5_0, Q4_K,
    /// Q4_0, IQ4_NL; a type whose blocks do not fit the rows uses llama-quantize's fallback).
    pub gguf_types: Vec<super::ggml_quant::GgmlType>,
}

impl Default for TradeoffParams {
    fn default() -> Self {
        TradeoffParams {
            precision: Precision::F16,
            quantization: Default::default(),
            lowrank_quantized: Default::default(),
            lowrank_sparse: Default::default(),
            monarch: Default::default(),
            kronecker: Default::default(),
            dct: Default::default(),
            pissa_ranks: vec![8, 16, 32, 64],
            pissa_quant: QuantParams::nf(4, false),
            lowrank_extra_quants: vec![QuantParams::nf(4, false)],
            gguf_types: {
                use super::ggml_quant::GgmlType as G;
                vec![G::Q8_0, G::Q6K, G::Q5K, G::Q5_0, G::Q4K, G::Q4_0, G::Iq4Nl]
            },
        }
    }
}

/// Every structure's (error, bytes) curve for one matrix, concatenated (feed the result to
/// [`super::pareto_front`]). Ranks above `min(N, M)` are dropped from the rank lists.
pub fn tradeoff_curves(
    w: ArrayView2<'_, f64>,
    params: &TradeoffParams,
) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    let kmax = w.nrows().min(w.ncols());
    let fit = |r: &[usize]| r.iter().copied().filter(|&k| k <= kmax).collect::<Vec<_>>();
    let mut out = svd_curve(w, params.precision)?;
    out.extend(super::quantize::quantization_curve(
        w,
        &params.quantization,
    )?);
    let mut lq = params.lowrank_quantized.clone();
    lq.ranks = fit(&lq.ranks);
    out.extend(lowrank_quantized_curve(w, &lq)?);
    for q in &params.lowrank_extra_quants {
        lq.quant = *q;
        out.extend(lowrank_quantized_curve(w, &lq)?);
    }
    let mut ls = params.lowrank_sparse.clone();
    ls.ranks = fit(&ls.ranks);
    out.extend(lowrank_sparse_curve(w, &ls)?);
    out.extend(monarch_curve(w, &params.monarch)?);
    out.extend(kronecker_curve(w, &params.kronecker)?);
    // Both DCT rankings: ℓ1 (the anchor's default) and ℓ2 (Frobenius-optimal).
    for score in [
        super::dct_basis::DctScore::L1,
        super::dct_basis::DctScore::L2,
    ] {
        let dct = super::dct_basis::DctParams {
            score,
            ..params.dct
        };
        out.extend(super::dct_basis::dct_basis_curve(w, &dct)?);
    }
    out.extend(pissa_curve(
        w,
        &fit(&params.pissa_ranks),
        &params.pissa_quant,
        params.precision,
    )?);
    out.extend(super::ggml_quant::ggml_quant_curve(w, &params.gguf_types)?);
    Ok(drop_dominated_within_method(out))
}

/// Drops every point whose own method already has a point with fewer-or-equal bytes and a
/// lower-or-equal error (keeping the first of equal points), so each method's curve is
/// non-increasing in bytes. Only one-round anchors lose points here (QPiSSA: one SVD, then the
/// residual quantized once; a larger rank can leave a residual that quantizes worse) and bit
/// widths whose grids are not nested; the alternating fits are monotone by construction.
pub fn drop_dominated_within_method(points: Vec<TradeoffPoint>) -> Vec<TradeoffPoint> {
    let keep: Vec<bool> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            !points.iter().enumerate().any(|(j, q)| {
                j != i
                    && q.method == p.method
                    && q.bytes <= p.bytes
                    && q.rel_fro_error <= p.rel_fro_error
                    && (q.bytes < p.bytes || q.rel_fro_error < p.rel_fro_error || j < i)
            })
        })
        .collect();
    points
        .into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect()
}

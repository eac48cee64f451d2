//! Eigenvalues only of a symmetric f64 matrix: Householder reduction to tridiagonal form, then a
//! root-free implicit QL iteration on the tridiagonal (Pal–Walker–Kahan form: it works on the
//! squared off-diagonals, so a sweep needs no square root and no rotation vectors).
//!
//! **Reduction.** Small matrices (`n <` [`TWO_STAGE_MIN`]) use faer's blocked one-stage
//! tridiagonalisation. Half of its flops are symmetric matrix–vector products, which stream the
//! whole trailing matrix from memory once per column: on a 4096² Gram that is ≈ 90 GB of traffic
//! and the reduction is memory-bound (12.6 s on this machine, against 1.6 s for the exact Gram itself; two-stage: 3.9 s).
//! Larger matrices use the **two-stage** reduction:
//! 1. *dense → band* (bandwidth `b` = [`BAND`]): for each block of `b` columns, a Householder QR of
//!    the panel below the band, `P = QR` with `Q = I − V T Vᵀ` (compact WY, `T` upper triangular),
//!    then the trailing matrix `A₂₂ ← QᵀA₂₂Q = A₂₂ − W Vᵀ − V Wᵀ` with `X = A₂₂V`, `Y = XT`,
//!    `W = Y − ½ V (Tᵀ VᵀY)`. Both products are matrix–matrix (rank-`2b` updates of the lower
//!    triangle), so the ≈ 4/3·n³ flops run at matmul speed.
//! 2. *band → tridiagonal* by bulge chasing: for each column `j`, a reflector on rows
//!    `j+1 … j+b` zeroes column `j` below the sub-diagonal; applying it from the right fills a
//!    `b × b` block below the band, whose first column the next reflector (rows `+b`) zeroes, and
//!    so on down the matrix. Every reflector touches only the window of rows/columns
//!    `[col, r + L + b)` that can be non-zero (the band plus the bulge), ≈ 12·b·n² flops in all.
//!
//! Both stages are orthogonal similarity transforms, so the eigenvalues are those of the input up
//! to the usual backward error ≲ c·n·ε·‖A‖. Tests compare against faer's solver.

use crate::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::tridiag::{tridiag_in_place, tridiag_in_place_scratch};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// Matrices from this order up use the two-stage reduction. Below it the one-stage one is
/// faster (the matrix stays in cache); measured natively (AVX-512): n = 1280 one-stage 171 ms,
/// two-stage 205 ms; n = 1536 337 vs 303 ms; n = 2048 1212 vs 664 ms; n = 4096 12.6 vs 3.9 s.
pub const TWO_STAGE_MIN: usize = 1400;
/// Bandwidth of the intermediate band matrix in the two-stage reduction.
pub const BAND: usize = 32;

/// Eigenvalues (ascending) of the symmetric matrix whose **lower** triangle is `lower`.
pub fn lower_symmetric_eigenvalues_f64(lower: MatRef<'_, f64>) -> Result<Vec<f64>> {
    let n = lower.nrows();
    assert_eq!(n, lower.ncols(), "square matrix expected");
    let a = Mat::<f64>::from_fn(n, n, |i, j| if i >= j { lower[(i, j)] } else { 0.0 });
    lower_symmetric_eigenvalues_owned(a)
}

/// [`lower_symmetric_eigenvalues_f64`] on a matrix it may overwrite (no copy); the upper
/// triangle is ignored.
pub fn lower_symmetric_eigenvalues_owned(mut a: Mat<f64>) -> Result<Vec<f64>> {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "square matrix expected");
    if n == 0 {
        return Ok(Vec::new());
    }
    let (d, e) = if n < TWO_STAGE_MIN {
        for j in 1..n {
            a.col_mut(j).subrows_mut(0, j).fill(0.0);
        }
        tridiagonalize(a)
    } else {
        two_stage_tridiagonalize(a, BAND)?
    };
    tridiagonal_eigenvalues(d, e)
}

/// Householder tridiagonalisation of the (lower-triangle-filled) matrix `a`, consumed:
/// returns the diagonal and the `n − 1` sub-diagonal.
fn tridiagonalize(mut a: Mat<f64>) -> (Vec<f64>, Vec<f64>) {
    let n = a.nrows();
    // Block size of the Householder factor: faer's tuning for QR of an n×n matrix.
    let bs = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(n, n);
    let mut h = Mat::<f64>::zeros(bs, n.saturating_sub(1));
    let req = tridiag_in_place_scratch::<f64>(n, Par::Seq, Default::default());
    let mut buf = MemBuffer::new(req);
    let stack = MemStack::new(&mut buf);
    tridiag_in_place(a.as_mut(), h.as_mut(), Par::Seq, stack, Default::default());
    let d: Vec<f64> = (0..n).map(|i| a[(i, i)]).collect();
    let e: Vec<f64> = (0..n.saturating_sub(1)).map(|i| a[(i + 1, i)]).collect();
    (d, e)
}

/// A Householder reflector `H = I − τ v vᵀ` (`v₀ = 1`) with `H x = β e₀`; `x` is overwritten
/// by `v`. Returns `(τ, β)`; `τ = 0` when `x` already is a multiple of `e₀`. Entries must be
/// moderate (the callers scale the matrix to max|aᵢⱼ| ≈ 1), so the plain sum of squares is safe.
pub(super) fn householder(x: &mut [f64]) -> (f64, f64) {
    let alpha = x[0];
    let sigma: f64 = x[1..].iter().map(|v| v * v).sum();
    if sigma == 0.0 {
        x[0] = 1.0;
        return (0.0, alpha);
    }
    let norm = (alpha * alpha + sigma).sqrt();
    let beta = if alpha >= 0.0 { -norm } else { norm };
    let tau = (beta - alpha) / beta;
    let inv = 1.0 / (alpha - beta);
    x[0] = 1.0;
    for v in &mut x[1..] {
        *v *= inv;
    }
    (tau, beta)
}

/// `Σ xᵢyᵢ` with eight independent partial sums (so that it vectorises).
#[inline(always)]
pub(super) fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0f64; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (a, b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

/// Scales `a` by a power of two (exact) so that its largest entry is in `[0.5, 1)`; returns the
/// factor that undoes it on eigenvalues. Errors on a non-finite entry of the lower triangle.
fn scale_lower(a: &mut Mat<f64>) -> Result<f64> {
    let n = a.nrows();
    let mut m = 0f64;
    for j in 0..n {
        for (i, v) in a.col(j).iter().enumerate().skip(j) {
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    row: i,
                    col: j,
                    value: *v,
                });
            }
            m = m.max(v.abs());
        }
    }
    if m == 0.0 {
        return Ok(1.0);
    }
    let k = m.log2().floor() as i32 + 1;
    let s = 2f64.powi(-k);
    for j in 0..n {
        for v in a.col_mut(j).iter_mut().skip(j) {
            *v *= s;
        }
    }
    Ok(2f64.powi(k))
}

/// Two-stage reduction (see the module doc) of the symmetric matrix whose lower triangle is `a`:
/// returns the diagonal and sub-diagonal of a tridiagonal matrix with the same eigenvalues.
fn two_stage_tridiagonalize(mut a: Mat<f64>, b: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = a.nrows();
    let unscale = scale_lower(&mut a)?;
    to_band(a.as_mut(), b);
    let (mut d, mut e) = band_to_tridiagonal(&BandLower { n, a: a.as_ref() }, b);
    drop(a);
    for x in d.iter_mut().chain(e.iter_mut()) {
        *x *= unscale;
    }
    Ok((d, e))
}

/// Stage 1: reduces the symmetric matrix whose lower triangle is `a` to lower bandwidth `b`,
/// in place (lower triangle; entries below the band are set to zero).
fn to_band(mut a: MatMut<'_, f64>, b: usize) {
    let n = a.nrows();
    let mut k = 0;
    while k + b + 1 < n {
        let m = n - k - b; // rows of the panel (below the band)
        let w = b.min(m); // reflectors
        let (v, t) = {
            let panel = a.rb_mut().submatrix_mut(k + b, k, m, b);
            panel_qr(panel, w)
        };
        // X = A₂₂ V with A₂₂ symmetric, from its lower triangle.
        let a22 = a.rb().submatrix(k + b, k + b, m, m);
        let mut x = Mat::<f64>::zeros(m, w);
        tri_matmul(
            x.as_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            a22,
            BlockStructure::TriangularLower,
            v.as_ref(),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        tri_matmul(
            x.as_mut(),
            BlockStructure::Rectangular,
            Accum::Add,
            a22.transpose(),
            BlockStructure::StrictTriangularUpper,
            v.as_ref(),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        // Y = X T;  Z = Tᵀ (Vᵀ Y);  W = Y − ½ V Z.
        let mut y = Mat::<f64>::zeros(m, w);
        matmul(
            y.as_mut(),
            Accum::Replace,
            x.as_ref(),
            t.as_ref(),
            1.0,
            Par::Seq,
        );
        let mut vty = Mat::<f64>::zeros(w, w);
        matmul(
            vty.as_mut(),
            Accum::Replace,
            v.transpose(),
            y.as_ref(),
            1.0,
            Par::Seq,
        );
        let mut z = Mat::<f64>::zeros(w, w);
        matmul(
            z.as_mut(),
            Accum::Replace,
            t.transpose(),
            vty.as_ref(),
            1.0,
            Par::Seq,
        );
        // [W | V] and [V | W]: the update is A₂₂ −= [W V]·[V W]ᵀ on the lower triangle.
        let mut wv = Mat::<f64>::zeros(m, 2 * w);
        let mut vw = Mat::<f64>::zeros(m, 2 * w);
        wv.as_mut().submatrix_mut(0, 0, m, w).copy_from(y.as_ref());
        matmul(
            wv.as_mut().submatrix_mut(0, 0, m, w),
            Accum::Add,
            v.as_ref(),
            z.as_ref(),
            -0.5,
            Par::Seq,
        );
        wv.as_mut().submatrix_mut(0, w, m, w).copy_from(v.as_ref());
        vw.as_mut().submatrix_mut(0, 0, m, w).copy_from(v.as_ref());
        let wpart = wv.as_ref().submatrix(0, 0, m, w).to_owned();
        vw.as_mut()
            .submatrix_mut(0, w, m, w)
            .copy_from(wpart.as_ref());
        tri_matmul(
            a.rb_mut().submatrix_mut(k + b, k + b, m, m),
            BlockStructure::TriangularLower,
            Accum::Add,
            wv.as_ref(),
            BlockStructure::Rectangular,
            vw.transpose(),
            BlockStructure::Rectangular,
            -1.0,
            Par::Seq,
        );
        k += b;
    }
}

/// Householder QR of the `m × b` panel in place: `R` is left in its upper triangle and zeros
/// below. Returns `V` (`m × w`, unit diagonal, zero above) and the upper-triangular `T` with
/// `H₀H₁⋯H_{w−1} = I − V T Vᵀ` (forward compact WY, as LAPACK's `larft`).
pub(super) fn panel_qr(mut p: MatMut<'_, f64>, w: usize) -> (Mat<f64>, Mat<f64>) {
    let (m, b) = (p.nrows(), p.ncols());
    // Contiguous column-major copy of the panel; the reflectors overwrite it below the diagonal.
    let mut q = vec![0.0; m * b];
    for c in 0..b {
        for (r, x) in q[c * m..(c + 1) * m].iter_mut().enumerate() {
            *x = p[(r, c)];
        }
    }
    let mut taus = vec![0.0; w];
    let mut t = Mat::<f64>::zeros(w, w);
    with_wide_vectors(
        #[inline(always)]
        || panel_qr_body(&mut q, m, b, w, &mut taus),
    );
    let mut v = Mat::<f64>::zeros(m, w);
    for c in 0..b {
        for r in 0..m {
            p[(r, c)] = if r <= c { q[c * m + r] } else { 0.0 };
            if c < w && r >= c {
                v[(r, c)] = if r == c { 1.0 } else { q[c * m + r] };
            }
        }
    }
    // T: T[i,i] = τᵢ, T[0..i, i] = T[0..i, 0..i] · u with u = −τᵢ · V[:, 0..i]ᵀ vᵢ.
    let mut u = vec![0.0; w];
    for i in 0..w {
        t[(i, i)] = taus[i];
        let vi = v.col(i).try_as_col_major().unwrap().as_slice();
        for (c, uc) in u[..i].iter_mut().enumerate() {
            let vc = v.col(c).try_as_col_major().unwrap().as_slice();
            *uc = -taus[i] * dot(&vc[i..], &vi[i..]);
        }
        for r in 0..i {
            let mut s = 0.0;
            for (c, uc) in u[..i].iter().enumerate().skip(r) {
                s += t[(r, c)] * uc;
            }
            t[(r, i)] = s;
        }
    }
    (v, t)
}

/// The unblocked QR of [`panel_qr`] on the contiguous `m × b` panel `q`: reflector `i` is left
/// in `q[i·m + i + 1 ..]` (its implicit 1 on the diagonal, where `R` is), `τᵢ` in `taus[i]`.
#[inline(always)]
fn panel_qr_body(q: &mut [f64], m: usize, b: usize, w: usize, taus: &mut [f64]) {
    let mut x = vec![0.0; m];
    for i in 0..w {
        let len = m - i;
        x[..len].copy_from_slice(&q[i * m + i..(i + 1) * m]);
        let (tau, beta) = householder(&mut x[..len]);
        taus[i] = tau;
        q[i * m + i] = beta;
        q[i * m + i + 1..(i + 1) * m].copy_from_slice(&x[1..len]);
        if tau != 0.0 {
            let x = &x[..len];
            for c in i + 1..b {
                let col = &mut q[c * m + i..(c + 1) * m];
                let f = tau * dot(col, x);
                for (y, xr) in col.iter_mut().zip(x) {
                    *y -= f * xr;
                }
            }
        }
    }
}

/// Stage 2: reduces the symmetric band matrix (lower bandwidth `b`) to tridiagonal form by
/// bulge chasing; returns the diagonal and sub-diagonal.
///
/// Storage: column `j` holds rows `j − 2b … j + 2b` (the band plus the bulge, both triangles),
/// entry `(i, j)` at `j·h + i − j + 2b` with `h = 4b + 1`. A reflector's window is then one
/// contiguous run per column and the whole window a few tens of KB; in the dense `n × n`
/// layout the columns of a power-of-two `n` alias in the L1 cache and the chase ran 2× slower.
fn band_to_tridiagonal(band: &BandLower<'_>, b: usize) -> (Vec<f64>, Vec<f64>) {
    with_wide_vectors(
        #[inline(always)]
        || band_to_tridiagonal_body(band, b),
    )
}

/// Runs `f` compiled for the widest x86 vectors the CPU has (AVX-512F, else AVX2), else as is.
/// `f` must be `#[inline(always)]` so that its body is compiled inside the wrapper. The
/// operations and their order do not change, only the vector width: the results are
/// bit-identical whichever path runs (no FMA contraction).
#[inline(always)]
pub(super) fn with_wide_vectors<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        static LEVEL: std::sync::OnceLock<u8> = std::sync::OnceLock::new();
        let level = *LEVEL.get_or_init(|| {
            if is_x86_feature_detected!("avx512f") {
                2
            } else if is_x86_feature_detected!("avx2") {
                1
            } else {
                0
            }
        });
        match level {
            // SAFETY: the CPU supports the feature (detected above).
            2 => return unsafe { avx512(f) },
            1 => return unsafe { avx2(f) },
            _ => {}
        }
    }
    f()
}

#[inline(always)]
fn band_to_tridiagonal_body(band: &BandLower<'_>, b: usize) -> (Vec<f64>, Vec<f64>) {
    let n = band.n;
    let (h, off) = (4 * b + 1, 2 * b);
    let at = |i: usize, j: usize| j * h + i + off - j;
    let mut s = vec![0.0; n * h];
    for j in 0..n {
        for i in j..(j + b + 1).min(n) {
            let x = band.get(i, j);
            s[at(i, j)] = x;
            s[at(j, i)] = x;
        }
    }
    let mut v = vec![0.0; b];
    let mut tmp = vec![0.0; 3 * b + 2];
    for j in 0..n.saturating_sub(2) {
        let (mut col, mut r) = (j, j + 1);
        while r + 1 < n {
            let len = b.min(n - r);
            v[..len].copy_from_slice(&s[at(r, col)..at(r, col) + len]);
            let (tau, beta) = householder(&mut v[..len]);
            s[at(r, col)] = beta;
            s[at(col, r)] = beta;
            for i in 1..len {
                s[at(r + i, col)] = 0.0;
                s[at(col, r + i)] = 0.0;
            }
            if tau != 0.0 {
                let (lo, hi) = (col + 1, (r + len + b).min(n));
                let v = &v[..len];
                // Left: rows r..r+len of every column in the window.
                for c in lo..hi {
                    let seg = &mut s[at(r, c)..at(r, c) + len];
                    let f = tau * dot(seg, v);
                    for (x, y) in seg.iter_mut().zip(v) {
                        *x -= f * y;
                    }
                }
                // Right: columns r..r+len of every row in the window.
                let t = &mut tmp[..hi - lo];
                t.fill(0.0);
                for (i, vi) in v.iter().enumerate() {
                    let c = r + i;
                    let seg = &s[at(lo, c)..at(lo, c) + (hi - lo)];
                    for (x, y) in t.iter_mut().zip(seg) {
                        *x += vi * y;
                    }
                }
                for (i, vi) in v.iter().enumerate() {
                    let (c, f) = (r + i, tau * vi);
                    let seg = &mut s[at(lo, c)..at(lo, c) + (hi - lo)];
                    for (x, y) in seg.iter_mut().zip(t.iter()) {
                        *x -= f * y;
                    }
                }
            }
            col = r;
            r += b;
        }
    }
    let d = (0..n).map(|i| s[at(i, i)]).collect();
    let e = (0..n - 1).map(|i| s[at(i + 1, i)]).collect();
    (d, e)
}

/// Read access to the lower band of a matrix (the stage-1 result).
struct BandLower<'a> {
    n: usize,
    a: MatRef<'a, f64>,
}

impl BandLower<'_> {
    fn get(&self, i: usize, j: usize) -> f64 {
        self.a[(i, j)]
    }
}

/// Eigenvalues (ascending) of the symmetric tridiagonal matrix with diagonal `d` (length n) and
/// off-diagonal `e` (length n − 1), by the root-free shifted QL iteration.
pub fn tridiagonal_eigenvalues(d: Vec<f64>, e: Vec<f64>) -> Result<Vec<f64>> {
    tridiagonal_eigenvalues_with(d, e, false)
}

/// [`tridiagonal_eigenvalues`]; with `absolute`, an off-diagonal also counts as negligible when
/// `|eᵢ| ≤ ε·max|T|` (not only relative to its neighbours on the diagonal). The Golub–Kahan
/// matrix of [`super::bidiag`] has a zero diagonal, where the relative test alone can stall on
/// clusters of zero singular values; its singular values are only absolutely accurate anyway.
pub(super) fn tridiagonal_eigenvalues_with(
    mut d: Vec<f64>,
    e: Vec<f64>,
    absolute: bool,
) -> Result<Vec<f64>> {
    let n = d.len();
    assert_eq!(e.len(), n.saturating_sub(1), "off-diagonal length");
    if n == 0 {
        return Ok(d);
    }
    if let Some(i) = d.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            row: i,
            col: i,
            value: d[i],
        });
    }
    if let Some(i) = e.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            row: i + 1,
            col: i,
            value: e[i],
        });
    }
    // Scale by a power of two (exact) so that the squares below neither overflow nor lose
    // everything to underflow.
    let anorm = d.iter().chain(&e).fold(0f64, |m, v| m.max(v.abs()));
    if anorm == 0.0 {
        return Ok(d);
    }
    let k = anorm.log2().floor() as i32;
    let (s, unscale) = (2f64.powi(-k), 2f64.powi(k));
    for v in d.iter_mut() {
        *v *= s;
    }
    // e2[i] = (s·e[i])², with one trailing zero so that the split search needs no bounds case.
    let mut e2: Vec<f64> = e.iter().map(|v| (v * s) * (v * s)).collect();
    e2.push(0.0);
    let eps2 = f64::EPSILON * f64::EPSILON;
    // After the scaling max|T| ∈ [1, 2): the absolute test is ε²·1.
    let tiny = if absolute { eps2 } else { f64::MIN_POSITIVE };
    let max_sweeps = 30 * n;
    let mut sweeps = 0usize;
    let mut l = 0usize;
    while l < n {
        // The first m ≥ l whose off-diagonal is negligible (e2[n−1] = 0 always stops the scan).
        let mut m = l;
        while m + 1 < n {
            if e2[m] <= eps2 * (d[m] * d[m + 1]).abs() || e2[m] <= tiny {
                e2[m] = 0.0;
                break;
            }
            m += 1;
        }
        if m == l {
            l += 1; // d[l] has converged
            continue;
        }
        if m == l + 1 {
            // A 2×2 block: its eigenvalues directly.
            let (p, q) = (d[l], d[l + 1]);
            let rte = e2[l].sqrt();
            let (r1, r2) = sym2x2_eigenvalues(p, rte, q);
            d[l] = r1;
            d[l + 1] = r2;
            e2[l] = 0.0;
            l += 2;
            continue;
        }
        sweeps += 1;
        if sweeps > max_sweeps {
            return Err(Error::NoConvergence {
                method: "tridiagonal QL iteration",
            });
        }
        // Wilkinson-type shift from the leading 2×2 of the block.
        let rte = e2[l].sqrt();
        let mut sigma = (d[l + 1] - d[l]) / (2.0 * rte);
        let r = sigma.hypot(1.0);
        sigma = d[l] - rte / (sigma + r.copysign(sigma));
        // One root-free QL sweep from the bottom of the block (m) up to l.
        let mut c = 1.0f64;
        let mut sn = 0.0f64;
        let mut gamma = d[m] - sigma;
        let mut p = gamma * gamma;
        for i in (l..m).rev() {
            let bb = e2[i];
            let r = p + bb;
            if i + 1 != m {
                e2[i + 1] = sn * r;
            }
            let oldc = c;
            c = p / r;
            sn = bb / r;
            let oldgam = gamma;
            let alpha = d[i];
            gamma = c * (alpha - sigma) - sn * oldgam;
            d[i + 1] = oldgam + (alpha - gamma);
            p = if c != 0.0 {
                gamma * gamma / c
            } else {
                oldc * bb
            };
        }
        e2[l] = sn * p;
        d[l] = sigma + gamma;
    }
    for v in d.iter_mut() {
        *v *= unscale;
    }
    d.sort_by(|a, b| a.total_cmp(b));
    Ok(d)
}

/// Eigenvalues of `[[a, b], [b, c]]`, computed stably (the larger in magnitude first, the other
/// from the determinant).
fn sym2x2_eigenvalues(a: f64, b: f64, c: f64) -> (f64, f64) {
    let sm = a + c;
    let df = a - c;
    let rt = df.hypot(2.0 * b);
    let (big, other) = if sm > 0.0 {
        let r1 = 0.5 * (sm + rt);
        (r1, if r1 != 0.0 { (a * c - b * b) / r1 } else { 0.0 })
    } else if sm < 0.0 {
        let r1 = 0.5 * (sm - rt);
        (r1, if r1 != 0.0 { (a * c - b * b) / r1 } else { 0.0 })
    } else {
        (0.5 * rt, -0.5 * rt)
    };
    (big, other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    fn faer_eigenvalues(a: &Mat<f64>) -> Vec<f64> {
        a.as_ref()
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .unwrap()
    }

    fn check(a: &Mat<f64>, what: &str) {
        check_with(a, what, |a| {
            lower_symmetric_eigenvalues_f64(a.as_ref()).unwrap()
        });
    }

    fn check_with(a: &Mat<f64>, what: &str, f: impl Fn(&Mat<f64>) -> Vec<f64>) {
        let n = a.nrows();
        let want = faer_eigenvalues(a);
        let got = f(a);
        let norm = want.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-300);
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 8.0 * n as f64 * f64::EPSILON * norm,
                "{what} (n={n}): {g} vs faer {w}"
            );
        }
        assert_eq!(got.len(), want.len());
    }

    #[test]
    fn random_symmetric_and_gram_matrices_match_faer() {
        let mut seed = 7u64;
        for &n in &[1usize, 2, 3, 5, 17, 64, 100, 257] {
            let mut a = Mat::<f64>::zeros(n, n);
            for j in 0..n {
                for i in j..n {
                    let v = lcg(&mut seed);
                    a[(i, j)] = v;
                    a[(j, i)] = v;
                }
            }
            check(&a, "random symmetric");
            // A Gram of a wide random matrix (rank-deficient when k < n) and a graded one.
            let k = n / 2 + 1;
            let w = Mat::<f64>::from_fn(k, n, |_, j| lcg(&mut seed) * (1.0 + j as f64).powi(-2));
            let g = w.transpose() * &w;
            check(&g, "rank-deficient graded Gram");
        }
    }

    fn random_matrices(n: usize, seed: &mut u64) -> [Mat<f64>; 2] {
        let mut a = Mat::<f64>::zeros(n, n);
        for j in 0..n {
            for i in j..n {
                let v = lcg(seed);
                a[(i, j)] = v;
                a[(j, i)] = v;
            }
        }
        let k = n / 2 + 1;
        let w = Mat::<f64>::from_fn(k, n, |_, j| lcg(seed) * (1.0 + j as f64).powi(-2));
        [a, w.transpose() * &w]
    }

    #[test]
    fn two_stage_reduction_matches_faer_for_every_band_width() {
        // Small bandwidths make every code path run on small n: several panels, short last
        // panels (m < b), chases that hit the end of the matrix, b = 1 (stage 1 alone).
        let mut seed = 11u64;
        for &b in &[1usize, 2, 3, 5, 8] {
            for &n in &[2usize, 3, 4, 7, 10, 33, 70] {
                for (which, a) in random_matrices(n, &mut seed).iter().enumerate() {
                    let lower =
                        Mat::<f64>::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { 0.0 });
                    check_with(a, &format!("two-stage b={b} matrix {which}"), |_| {
                        let (d, e) = two_stage_tridiagonalize(lower.clone(), b).unwrap();
                        tridiagonal_eigenvalues(d, e).unwrap()
                    });
                }
            }
        }
        // The band of stage 1 really is a band, and stage 2 returns a tridiagonal with the
        // same Frobenius norm (orthogonal similarity).
        let [a, _] = random_matrices(40, &mut seed);
        let mut l = Mat::<f64>::from_fn(40, 40, |i, j| if i >= j { a[(i, j)] } else { 0.0 });
        to_band(l.as_mut(), 4);
        for j in 0..40 {
            for i in j + 5..40 {
                assert_eq!(l[(i, j)], 0.0, "({i},{j}) outside the band");
            }
        }
        let fro = |m: &Mat<f64>| m.norm_l2();
        let (d, e) = band_to_tridiagonal(
            &BandLower {
                n: 40,
                a: l.as_ref(),
            },
            4,
        );
        let t = d.iter().map(|x| x * x).sum::<f64>() + 2.0 * e.iter().map(|x| x * x).sum::<f64>();
        assert!((t.sqrt() - fro(&a)).abs() < 1e-12 * fro(&a));
    }

    #[test]
    fn large_matrices_take_the_two_stage_path() {
        let mut seed = 3u64;
        let n = TWO_STAGE_MIN + 37;
        for (which, a) in random_matrices(n, &mut seed).iter().enumerate() {
            check(a, &format!("n={n} matrix {which}"));
        }
        // Scale invariance through the power-of-two scaling, and a NaN is refused.
        let [a, _] = random_matrices(n, &mut seed);
        check(&(&a * faer::Scale(1e-250)), "tiny scale");
        let mut bad = a.clone();
        bad[(n - 1, 3)] = f64::NAN;
        assert!(lower_symmetric_eigenvalues_f64(bad.as_ref()).is_err());
    }

    #[test]
    fn structured_matrices() {
        // Diagonal, zero, repeated eigenvalues (identity + rank one), tiny and huge scales.
        let n = 40;
        let diag = Mat::<f64>::from_fn(n, n, |i, j| if i == j { (i as f64) - 20.0 } else { 0.0 });
        check(&diag, "diagonal");
        check(&Mat::<f64>::zeros(n, n), "zero");
        let ones = Mat::<f64>::from_fn(n, n, |i, j| if i == j { 2.0 } else { 1.0 });
        check(&ones, "I + 11ᵀ");
        for scale in [1e-200, 1e200] {
            let m = Mat::<f64>::from_fn(n, n, |i, j| scale * (1.0 / (1.0 + i as f64 + j as f64)));
            check(&m, "Hilbert-like, scaled");
        }
        // Tridiagonal input with known eigenvalues: the 1-D Laplacian, 2 − 2cos(kπ/(n+1)).
        let d = vec![2.0; n];
        let e = vec![-1.0; n - 1];
        let got = tridiagonal_eigenvalues(d, e).unwrap();
        for (k, g) in got.iter().enumerate() {
            let want = 2.0 - 2.0 * ((k + 1) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
            assert!((g - want).abs() < 1e-13, "laplacian {k}: {g} vs {want}");
        }
        assert!(tridiagonal_eigenvalues(vec![1.0, f64::NAN], vec![0.5]).is_err());
    }
}

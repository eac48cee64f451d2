//! Singular values of a large dense f64 matrix by two-stage bidiagonalisation, for the slices
//! whose Gram eigenvalues fall below the Gram's noise floor (`spectrum::layers::slice_esd`).
//!
//! faer's SVD bidiagonalises in one stage: half of its flops are matrix–vector products that
//! stream the trailing matrix from memory once per column (memory-bound, like the one-stage
//! tridiagonalisation; see module `tridiag`). Here, for `A` (`m × n`, `m ≥ n`):
//! 1. *dense → upper band* (bandwidth `b`): for each block of `b` columns, a Householder QR of
//!    the column panel, `Q₁ᵀ` applied to the columns on its right (`C −= V₁ T₁ᵀ (V₁ᵀ C)`), then
//!    a QR of the transposed row panel right of the block (an LQ), `Q₂` applied to the rows
//!    below (`D −= (D V₂) T₂ V₂ᵀ`). Matrix–matrix work, ≈ 4mn² − 4/3·n³ flops.
//! 2. *band → bidiagonal* by bulge chasing: a right reflector zeroes row `i` beyond the
//!    super-diagonal, which fills a triangle below the diagonal; a left reflector zeroes that
//!    column, which fills beyond the band on the right; and so on down the matrix in steps of
//!    `b`. Each reflector is applied to a window of ±3b around its rows or columns, which
//!    contains every entry that can be non-zero (band, bulges and the fill of earlier sweeps);
//!    the store keeps exactly that window per column.
//! 3. The singular values of the bidiagonal `B` (diagonal `dᵢ`, super-diagonal `eᵢ`) are the
//!    non-negative eigenvalues of the `2n × 2n` Golub–Kahan tridiagonal (zero diagonal,
//!    off-diagonal `d₀, e₀, d₁, e₁, …`), from the root-free QL of module `tridiag`.
//!
//! All transforms are orthogonal, so the singular values carry an absolute error ≲ c·n·ε·σ_max,
//! the accuracy of LAPACK's and faer's SVD (and of WeightWatcher's `scipy.linalg.svd`).

use super::tridiag::{dot, householder, panel_qr, tridiagonal_eigenvalues_with, with_wide_vectors};
use crate::{Error, Result};
use faer::linalg::matmul::matmul;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, Par};

/// Bandwidth of the intermediate band matrix.
pub const BIDIAG_BAND: usize = 32;

/// Singular values of `a` (any shape), **ascending**, length `min(m, n)`. Errors on a
/// non-finite entry.
pub fn singular_values_two_stage(a: Mat<f64>) -> Result<Vec<f64>> {
    let a = if a.nrows() >= a.ncols() {
        a
    } else {
        a.transpose().to_owned()
    };
    two_stage_singular_values(a, BIDIAG_BAND)
}

fn two_stage_singular_values(mut a: Mat<f64>, b: usize) -> Result<Vec<f64>> {
    let n = a.ncols();
    if n == 0 {
        return Ok(Vec::new());
    }
    // Exact power-of-two scaling to max|aᵢⱼ| ∈ [0.5, 1): Householder sums of squares stay safe.
    let mut mx = 0f64;
    for j in 0..n {
        for (i, v) in a.col(j).iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    row: i,
                    col: j,
                    value: *v,
                });
            }
            mx = mx.max(v.abs());
        }
    }
    if mx == 0.0 {
        return Ok(vec![0.0; n]);
    }
    let k = mx.log2().floor() as i32 + 1;
    let s = 2f64.powi(-k);
    for j in 0..n {
        for v in a.col_mut(j).iter_mut() {
            *v *= s;
        }
    }
    to_upper_band(a.as_mut(), b);
    let (d, e) = band_to_bidiagonal(a.as_mut(), b);
    drop(a);
    // Golub–Kahan: eigenvalues ±σᵢ of the zero-diagonal tridiagonal.
    let mut off = Vec::with_capacity(2 * n - 1);
    for i in 0..n {
        off.push(d[i]);
        if i + 1 < n {
            off.push(e[i]);
        }
    }
    let ev = tridiagonal_eigenvalues_with(vec![0.0; 2 * n], off, true)?;
    let unscale = 2f64.powi(k);
    Ok(ev[n..]
        .iter()
        .map(|v| v.abs() * unscale)
        .collect::<Vec<_>>())
    .map(|mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    })
}

/// Stage 1: reduces `a` (`m × n`, `m ≥ n`) to upper band form with bandwidth `b` in its top
/// `n × n` block (zeros below the diagonal and right of the band).
fn to_upper_band(mut a: MatMut<'_, f64>, b: usize) {
    let (m, n) = (a.nrows(), a.ncols());
    let mut k = 0;
    while k < n {
        let bw = b.min(n - k);
        // Column panel: rows k.., columns k..k+bw.
        let rows = m - k;
        let w1 = bw.min(rows);
        if rows > 1 {
            let (v1, t1) = panel_qr(a.rb_mut().submatrix_mut(k, k, rows, bw), w1);
            let nc = n - k - bw;
            if nc > 0 {
                let mut c = a.rb_mut().submatrix_mut(k, k + bw, rows, nc);
                let mut y = Mat::<f64>::zeros(w1, nc);
                matmul(
                    y.as_mut(),
                    Accum::Replace,
                    v1.transpose(),
                    c.rb(),
                    1.0,
                    Par::Seq,
                );
                let mut z = Mat::<f64>::zeros(w1, nc);
                matmul(
                    z.as_mut(),
                    Accum::Replace,
                    t1.transpose(),
                    y.as_ref(),
                    1.0,
                    Par::Seq,
                );
                matmul(
                    c.rb_mut(),
                    Accum::Add,
                    v1.as_ref(),
                    z.as_ref(),
                    -1.0,
                    Par::Seq,
                );
            }
        }
        // Row panel: rows k..k+bw, columns k+bw.. (QR of its transpose).
        let nc = n - k - bw;
        if nc > 1 {
            let w2 = bw.min(nc);
            let (v2, t2) = panel_qr(
                a.rb_mut().submatrix_mut(k, k + bw, bw, nc).transpose_mut(),
                w2,
            );
            let below = m - k - bw;
            if below > 0 {
                let mut d = a.rb_mut().submatrix_mut(k + bw, k + bw, below, nc);
                let mut x = Mat::<f64>::zeros(below, w2);
                matmul(
                    x.as_mut(),
                    Accum::Replace,
                    d.rb(),
                    v2.as_ref(),
                    1.0,
                    Par::Seq,
                );
                let mut y = Mat::<f64>::zeros(below, w2);
                matmul(
                    y.as_mut(),
                    Accum::Replace,
                    x.as_ref(),
                    t2.as_ref(),
                    1.0,
                    Par::Seq,
                );
                matmul(
                    d.rb_mut(),
                    Accum::Add,
                    y.as_ref(),
                    v2.transpose(),
                    -1.0,
                    Par::Seq,
                );
            }
        }
        k += bw;
    }
}

/// Stage 2: bulge chasing on the upper band (bandwidth `b`) held in the top `n × n` block of
/// `a`; returns the diagonal and super-diagonal of the bidiagonal.
fn band_to_bidiagonal(a: MatMut<'_, f64>, b: usize) -> (Vec<f64>, Vec<f64>) {
    let n = a.ncols();
    // Column j holds rows j − 3b … j + 3b: entry (i, j) at j·h + i + 3b − j.
    let (h, off) = (6 * b + 1, 3 * b);
    let mut s = vec![0.0; n * h];
    for j in 0..n {
        for i in j.saturating_sub(b)..=j {
            s[j * h + i + off - j] = a[(i, j)];
        }
    }
    with_wide_vectors(
        #[inline(always)]
        || chase(&mut s, n, b),
    )
}

#[inline(always)]
fn chase(s: &mut [f64], n: usize, b: usize) -> (Vec<f64>, Vec<f64>) {
    let (h, off) = (6 * b + 1, 3 * b);
    let at = |i: usize, j: usize| j * h + i + off - j;
    let mut v = vec![0.0; b];
    let mut tmp = vec![0.0; 8 * b];
    for i in 0..n.saturating_sub(1) {
        // Right reflector on columns [c, c+len) zeroing row `row` beyond column c.
        let (mut row, mut c) = (i, i + 1);
        loop {
            let len = b.min(n - c);
            if len >= 2 {
                for (t, vt) in v[..len].iter_mut().enumerate() {
                    *vt = s[at(row, c + t)];
                }
                let (tau, beta) = householder(&mut v[..len]);
                s[at(row, c)] = beta;
                for t in 1..len {
                    s[at(row, c + t)] = 0.0;
                }
                if tau != 0.0 {
                    let (lo, hi) = ((row + 1).max(c.saturating_sub(2 * b)), (c + len + b).min(n));
                    let v = &v[..len];
                    let t = &mut tmp[..hi - lo];
                    t.fill(0.0);
                    for (q, vq) in v.iter().enumerate() {
                        let seg = &s[at(lo, c + q)..at(lo, c + q) + (hi - lo)];
                        for (x, y) in t.iter_mut().zip(seg) {
                            *x += vq * y;
                        }
                    }
                    for (q, vq) in v.iter().enumerate() {
                        let f = tau * vq;
                        let seg = &mut s[at(lo, c + q)..at(lo, c + q) + (hi - lo)];
                        for (x, y) in seg.iter_mut().zip(t.iter()) {
                            *x -= f * y;
                        }
                    }
                }
            }
            // Left reflector on rows [c, c+len) zeroing column c below the diagonal.
            let len = b.min(n - c);
            if len < 2 {
                break;
            }
            v[..len].copy_from_slice(&s[at(c, c)..at(c, c) + len]);
            let (tau, beta) = householder(&mut v[..len]);
            s[at(c, c)] = beta;
            for t in 1..len {
                s[at(c + t, c)] = 0.0;
            }
            if tau != 0.0 {
                let (lo, hi) = (
                    (i + 1).max(c.saturating_sub(2 * b)),
                    (c + len + 2 * b).min(n),
                );
                let v = &v[..len];
                for col in lo..hi {
                    if col == c {
                        continue;
                    }
                    let seg = &mut s[at(c, col)..at(c, col) + len];
                    let f = tau * dot(seg, v);
                    for (x, y) in seg.iter_mut().zip(v) {
                        *x -= f * y;
                    }
                }
            }
            row = c;
            c += b;
            if c >= n {
                break;
            }
        }
    }
    let d = (0..n).map(|i| s[at(i, i)]).collect();
    let e = (0..n - 1).map(|i| s[at(i, i + 1)]).collect();
    (d, e)
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

    fn faer_sv(a: &Mat<f64>) -> Vec<f64> {
        let mut s = a.as_ref().singular_values().unwrap();
        s.sort_by(f64::total_cmp);
        s
    }

    fn check(a: &Mat<f64>, got: &[f64], what: &str) {
        let want = faer_sv(a);
        assert_eq!(got.len(), want.len(), "{what}");
        let tol =
            16.0 * (a.nrows() + a.ncols()) as f64 * f64::EPSILON * want.last().unwrap().max(1e-300);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= tol, "{what}: {g} vs faer {w}");
        }
    }

    #[test]
    fn two_stage_singular_values_match_faer() {
        let mut seed = 5u64;
        for &b in &[1usize, 2, 3, 5, 8] {
            for &(m, n) in &[
                (1usize, 1usize),
                (2, 2),
                (3, 2),
                (5, 5),
                (9, 4),
                (17, 17),
                (40, 23),
                (70, 70),
            ] {
                // Dense random, and a graded one with tiny singular values.
                let a = Mat::<f64>::from_fn(m, n, |_, _| lcg(&mut seed));
                let got = two_stage_singular_values(a.clone(), b).unwrap();
                check(&a, &got, &format!("random {m}×{n} b={b}"));
                let g =
                    Mat::<f64>::from_fn(m, n, |_, j| lcg(&mut seed) * 1e-3f64.powi(j as i32 % 5));
                let got = two_stage_singular_values(g.clone(), b).unwrap();
                check(&g, &got, &format!("graded {m}×{n} b={b}"));
            }
        }
    }

    #[test]
    fn public_entry_handles_wide_zero_and_non_finite() {
        let mut seed = 9u64;
        let a = Mat::<f64>::from_fn(30, 75, |_, _| lcg(&mut seed) * 1e100);
        check(
            &a,
            &singular_values_two_stage(a.clone()).unwrap(),
            "wide, huge",
        );
        assert_eq!(
            singular_values_two_stage(Mat::zeros(4, 3)).unwrap(),
            vec![0.0; 3]
        );
        let mut bad = a.clone();
        bad[(3, 4)] = f64::INFINITY;
        assert!(singular_values_two_stage(bad).is_err());
        // A rank-deficient square matrix: exact zeros come out at the noise level.
        let u = Mat::<f64>::from_fn(120, 3, |_, _| lcg(&mut seed));
        let r = &u * u.transpose();
        let sv = singular_values_two_stage(r.clone()).unwrap();
        check(&r, &sv, "rank 3");
        assert!(sv[..117].iter().all(|&x| x < 1e-12 * sv[119]));
    }
}

//! Eigenvalues only of a symmetric f64 matrix: faer's blocked Householder tridiagonalisation,
//! then a root-free implicit QL iteration on the tridiagonal (Pal–Walker–Kahan form: it works on
//! the squared off-diagonals, so a sweep needs no square root and no rotation vectors).
//!
//! Why: for the ESD of a layer only the eigenvalues of the Gram are needed. faer's
//! `self_adjoint_eigenvalues` runs its QR algorithm with explicit Givens rotations; the
//! root-free sweep does the same shifted iteration with about half the work per step.
//! Accuracy is the usual one of tridiagonal QL/QR: absolute error ≲ n·ε·‖A‖ per eigenvalue
//! (tests compare against faer and the Jacobi reference).

use crate::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::tridiag::{tridiag_in_place, tridiag_in_place_scratch};
use faer::{Mat, MatRef, Par};

/// Eigenvalues (ascending) of the symmetric matrix whose **lower** triangle is `lower`.
pub fn lower_symmetric_eigenvalues_f64(lower: MatRef<'_, f64>) -> Result<Vec<f64>> {
    let n = lower.nrows();
    assert_eq!(n, lower.ncols(), "square matrix expected");
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut a = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            a[(i, j)] = lower[(i, j)];
        }
    }
    let (d, e) = tridiagonalize(a);
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

/// Eigenvalues (ascending) of the symmetric tridiagonal matrix with diagonal `d` (length n) and
/// off-diagonal `e` (length n − 1), by the root-free shifted QL iteration.
pub fn tridiagonal_eigenvalues(mut d: Vec<f64>, e: Vec<f64>) -> Result<Vec<f64>> {
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
    let tiny = f64::MIN_POSITIVE;
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
        let n = a.nrows();
        let want = faer_eigenvalues(a);
        let got = lower_symmetric_eigenvalues_f64(a.as_ref()).unwrap();
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

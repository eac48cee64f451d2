//! Textbook references, slow and simple, for tests (rung 0 of the test ladder).
//!
//! - [`jacobi_eigen`]: cyclic Jacobi rotations on a symmetric matrix (f64) until the
//!   off-diagonal Frobenius norm is below `1e-15·‖A‖_F`. Eigenvalues ascending.
//! - [`jacobi_svd`]: one-sided Jacobi (Hestenes) on the columns of `A` (or `Aᵀ` when wide),
//!   singular values descending.
//! - [`gram_naive`]: triple loop in f64.

use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi.
pub fn jacobi_eigen(a: ArrayView2<'_, f64>) -> (Array1<f64>, Array2<f64>) {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "jacobi_eigen needs a square matrix");
    let mut a = a.to_owned();
    let mut v = Array2::<f64>::eye(n);
    let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[(i, j)] * a[(i, j)])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * norm || norm == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[(p, q)];
                if apq == 0.0 {
                    continue;
                }
                // Rotation that zeroes a[p][q] (Golub & Van Loan, Alg. 8.4.1).
                let tau = (a[(q, q)] - a[(p, p)]) / (2.0 * apq);
                let t = tau.signum() / (tau.abs() + (1.0 + tau * tau).sqrt());
                let t = if tau == 0.0 { 1.0 } else { t };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[(k, p)], a[(k, q)]);
                    a[(k, p)] = c * akp - s * akq;
                    a[(k, q)] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[(p, k)], a[(q, k)]);
                    a[(p, k)] = c * apk - s * aqk;
                    a[(q, k)] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[(k, p)], v[(k, q)]);
                    v[(k, p)] = c * vkp - s * vkq;
                    v[(k, q)] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[(i, i)].total_cmp(&a[(j, j)]));
    let values = Array1::from_iter(order.iter().map(|&i| a[(i, i)]));
    let vectors = v.select(Axis(1), &order);
    (values, vectors)
}

/// Singular values (descending) of `A` by one-sided Jacobi on the columns of the taller side.
pub fn jacobi_svd(a: ArrayView2<'_, f64>) -> Array1<f64> {
    let mut u = if a.nrows() >= a.ncols() {
        a.to_owned()
    } else {
        a.t().to_owned()
    };
    let k = u.ncols();
    for _sweep in 0..100 {
        let mut rotated = false;
        for p in 0..k {
            for q in p + 1..k {
                let alpha: f64 = u.column(p).iter().map(|x| x * x).sum();
                let beta: f64 = u.column(q).iter().map(|x| x * x).sum();
                let gamma: f64 = u
                    .column(p)
                    .iter()
                    .zip(u.column(q))
                    .map(|(x, y)| x * y)
                    .sum();
                if gamma.abs() <= 1e-15 * (alpha * beta).sqrt() || gamma == 0.0 {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let t = if zeta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                for i in 0..u.nrows() {
                    let (x, y) = (u[(i, p)], u[(i, q)]);
                    u[(i, p)] = c * x - s * y;
                    u[(i, q)] = s * x + c * y;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let mut s: Vec<f64> = (0..k)
        .map(|j| u.column(j).iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    s.sort_by(|x, y| y.total_cmp(x));
    Array1::from_vec(s)
}

/// `AᵀA` by the definition, in f64.
pub fn gram_naive(a: ArrayView2<'_, f64>) -> Array2<f64> {
    let (n, d) = a.dim();
    Array2::from_shape_fn((d, d), |(i, j)| (0..n).map(|r| a[(r, i)] * a[(r, j)]).sum())
}

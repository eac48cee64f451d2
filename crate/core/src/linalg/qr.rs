//! Householder QR (faer's blocked Householder): `A = Q R`, thin.

use super::bridge::{as_faer, to_ndarray};
use super::real::check_finite;
use super::Real;
use crate::Result;
use ndarray::{Array2, ArrayView2};

/// Thin QR factors: `q` m×k with orthonormal columns, `r` k×n upper trapezoidal, `k = min(m, n)`.
#[derive(Debug, Clone)]
pub struct Qr<T> {
    pub q: Array2<T>,
    pub r: Array2<T>,
}

/// Householder QR of `A` (thin factors).
pub fn householder_qr<T: Real>(a: ArrayView2<'_, T>) -> Result<Qr<T>> {
    check_finite(a.view())?;
    let (m, n) = a.dim();
    let k = m.min(n);
    if k == 0 {
        return Ok(Qr {
            q: Array2::zeros((m, 0)),
            r: Array2::zeros((0, n)),
        });
    }
    let qr = as_faer(&a).qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R();
    // faer's thin R is k×n; keep the strict lower part exactly zero.
    let mut r = to_ndarray(r);
    for i in 0..r.nrows() {
        for j in 0..i.min(r.ncols()) {
            r[(i, j)] = T::zero();
        }
    }
    Ok(Qr {
        q: to_ndarray(q.as_ref()),
        r,
    })
}

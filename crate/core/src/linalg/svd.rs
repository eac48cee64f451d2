//! Singular value decomposition (faer): singular values descending.

use super::bridge::{as_faer, to_ndarray, vec_to_array};
use super::real::check_finite;
use super::Real;
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2};

/// Thin SVD `A = U diag(s) Vᵀ` with `k = min(m, n)`: `u` m×k, `s` (descending, ≥ 0), `vt` k×n.
#[derive(Debug, Clone)]
pub struct Svd<T> {
    pub u: Array2<T>,
    pub s: Array1<T>,
    pub vt: Array2<T>,
}

/// Singular values of `A`, descending, length `min(m, n)`.
pub fn singular_values<T: Real>(a: ArrayView2<'_, T>) -> Result<Array1<T>> {
    check_finite(a.view())?;
    if a.is_empty() {
        return Ok(Array1::zeros(0));
    }
    let s = as_faer(&a)
        .singular_values()
        .map_err(|_| Error::NoConvergence { method: "SVD" })?;
    Ok(vec_to_array(s))
}

/// Thin SVD of `A` (see [`Svd`]).
pub fn thin_svd<T: Real>(a: ArrayView2<'_, T>) -> Result<Svd<T>> {
    check_finite(a.view())?;
    let (m, n) = a.dim();
    let k = m.min(n);
    if k == 0 {
        return Ok(Svd {
            u: Array2::zeros((m, 0)),
            s: Array1::zeros(0),
            vt: Array2::zeros((0, n)),
        });
    }
    let svd = as_faer(&a)
        .thin_svd()
        .map_err(|_| Error::NoConvergence { method: "SVD" })?;
    let s = svd.S().column_vector();
    Ok(Svd {
        u: to_ndarray(svd.U()),
        s: Array1::from_shape_fn(k, |i| s[i]),
        vt: to_ndarray(svd.V().transpose()),
    })
}

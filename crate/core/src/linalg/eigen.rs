//! Symmetric eigen-decomposition (faer): eigenvalues ascending, eigenvectors as columns.

use super::bridge::{as_faer, to_ndarray, vec_to_array};
use super::real::check_finite;
use super::Real;
use crate::{Error, Result};
use faer::Side;
use ndarray::{Array1, Array2, ArrayView2};

/// `A = V diag(values) Vᵀ`, `values` ascending, `vectors` orthogonal with eigenvectors in columns.
#[derive(Debug, Clone)]
pub struct SymmetricEigen<T> {
    pub values: Array1<T>,
    pub vectors: Array2<T>,
}

pub(crate) fn check_square<T: Real>(a: &ArrayView2<'_, T>) -> Result<()> {
    if a.nrows() != a.ncols() {
        return Err(Error::Shape {
            expected: "a square matrix".into(),
            found: format!("{}×{}", a.nrows(), a.ncols()),
        });
    }
    check_finite(a.view())
}

/// Eigenvalues of the symmetric matrix `A` (lower triangle read), ascending.
pub fn symmetric_eigenvalues<T: Real>(a: ArrayView2<'_, T>) -> Result<Array1<T>> {
    check_square(&a)?;
    if a.nrows() == 0 {
        return Ok(Array1::zeros(0));
    }
    let v = as_faer(&a)
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|_| Error::NoConvergence {
            method: "symmetric eigenvalue solver",
        })?;
    Ok(vec_to_array(v))
}

/// Eigenvalues and eigenvectors of the symmetric matrix `A` (lower triangle read).
pub fn symmetric_eigen<T: Real>(a: ArrayView2<'_, T>) -> Result<SymmetricEigen<T>> {
    check_square(&a)?;
    let n = a.nrows();
    if n == 0 {
        return Ok(SymmetricEigen {
            values: Array1::zeros(0),
            vectors: Array2::zeros((0, 0)),
        });
    }
    let e = as_faer(&a)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| Error::NoConvergence {
            method: "symmetric eigen-decomposition",
        })?;
    let s = e.S().column_vector();
    let values = Array1::from_shape_fn(n, |i| s[i]);
    Ok(SymmetricEigen {
        values,
        vectors: to_ndarray(e.U()),
    })
}

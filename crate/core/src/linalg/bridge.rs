//! Zero-copy ndarray → faer views and faer → ndarray copies.

use super::Real;
use faer::MatRef;
use ndarray::{Array1, Array2, ArrayView2};

/// A faer view of an ndarray view (same memory, same strides).
pub(crate) fn as_faer<'a, T: Real>(a: &ArrayView2<'a, T>) -> MatRef<'a, T> {
    let (m, n) = a.dim();
    let s = a.strides();
    // SAFETY: the pointer, dims and strides come from a live ndarray view of lifetime 'a,
    // which guarantees every (i, j) with i < m, j < n is in bounds.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), m, n, s[0], s[1]) }
}

/// Copy a faer matrix into an owned ndarray.
pub(crate) fn to_ndarray<T: Real>(m: MatRef<'_, T>) -> Array2<T> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

pub(crate) fn vec_to_array<T: Copy>(v: Vec<T>) -> Array1<T> {
    Array1::from_vec(v)
}

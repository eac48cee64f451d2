//! The scalar types the dense core works in (f32 and f64).

use crate::{Error, Result};
use ndarray::ArrayView2;

/// A real floating-point type usable with both ndarray and faer.
pub trait Real:
    faer::traits::RealField + ndarray::NdFloat + Copy + Send + Sync + Default + 'static
{
    /// Widen to f64 (exact for f32 and f64).
    fn to_f64(self) -> f64;
    /// Round from f64.
    fn from_f64(v: f64) -> Self;
}

impl Real for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Real for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// [`Error::NonFinite`] at the first NaN/±Inf entry (row-major scan), else `Ok`.
pub fn check_finite<T: Real>(a: ArrayView2<'_, T>) -> Result<()> {
    for ((row, col), &v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                row,
                col,
                value: v.to_f64(),
            });
        }
    }
    Ok(())
}

/// Largest |entry| (0 for empty) in one pass, or [`Error::NonFinite`] at the first NaN/±Inf.
/// The pass compares `|v|` as f64 with `max`, which ignores NaN, and tracks non-finiteness as an
/// OR of `!|v|.is_finite()`; only a matrix that has a bad entry is scanned again to name it.
pub(crate) fn finite_max_abs<T: Real>(a: ArrayView2<'_, T>) -> Result<f64> {
    fn scan<T: Real>(xs: impl Iterator<Item = T>) -> (f64, bool) {
        let mut m = 0.0f64;
        let mut bad = false;
        for v in xs {
            let x = v.to_f64().abs();
            bad |= !x.is_finite();
            m = m.max(x);
        }
        (m, bad)
    }
    let (m, bad) = match a.as_slice_memory_order() {
        Some(s) => scan(s.iter().copied()),
        None => scan(a.iter().copied()),
    };
    if bad {
        check_finite(a)?;
    }
    Ok(m)
}

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

/// Largest |entry| (0 for empty); assumes finite input.
pub(crate) fn max_abs<T: Real>(a: ArrayView2<'_, T>) -> f64 {
    a.iter().fold(0.0f64, |m, &v| m.max(v.to_f64().abs()))
}

//! Fast Walsh–Hadamard transform (our own blocked radix-8 kernel, SIMD128 on wasm: see
//! [`crate::kernels::wht_f32`]), natural or sequency order, optionally orthonormal, batched over
//! rows; and the seeded randomized Hadamard transform `(1/√n) H D`.

use super::{c, TransformFloat};
use crate::random::SeededRng;
use crate::{Error, Result};

/// Output order of the Walsh–Hadamard transform (see [`super`] for the definitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhtOrder {
    /// Hadamard (Kronecker) order: row `i` is `(−1)^{popcount(i & j)}`.
    #[default]
    Natural,
    /// Walsh order: row `s` has `s` sign changes.
    Sequency,
}

/// Options of [`fwht`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WhtParams {
    pub order: WhtOrder,
    /// Multiply by `1/√n` (orthonormal, self-inverse). Default: unnormalised (`H·H = n·I`).
    pub orthonormal: bool,
}

fn check_pow2(n: usize) -> Result<()> {
    if n == 0 || n.is_power_of_two() {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "n",
            reason: format!("Walsh–Hadamard length must be a power of two, got {n}"),
        })
    }
}

/// Natural index of sequency row `s` for `n = 2^bits`: `bitrev(gray(s))`.
#[inline]
pub fn sequency_to_natural(s: usize, bits: u32) -> usize {
    let g = s ^ (s >> 1);
    if bits == 0 {
        0
    } else {
        g.reverse_bits() >> (usize::BITS - bits)
    }
}

/// In-place WHT of `x` (`len` a power of two or 0) with a caller scratch of at least `x.len()`
/// values (used only for [`WhtOrder::Sequency`]).
pub fn fwht_with_scratch<T: TransformFloat>(
    x: &mut [T],
    params: &WhtParams,
    scratch: &mut [T],
) -> Result<()> {
    let n = x.len();
    check_pow2(n)?;
    let scale = if params.orthonormal {
        c::<T>(1.0 / (n.max(1) as f64).sqrt())
    } else {
        T::one()
    };
    T::wht_kernel(x, scale);
    if params.order == WhtOrder::Sequency && n > 2 {
        let bits = n.trailing_zeros();
        let tmp = &mut scratch[..n];
        tmp.copy_from_slice(x);
        for (s, y) in x.iter_mut().enumerate() {
            *y = tmp[sequency_to_natural(s, bits)];
        }
    }
    Ok(())
}

/// In-place WHT of `x` (see [`WhtParams`]); an error if the length is not a power of two.
pub fn fwht<T: TransformFloat>(x: &mut [T], params: &WhtParams) -> Result<()> {
    let mut scratch = if params.order == WhtOrder::Sequency {
        vec![T::zero(); x.len()]
    } else {
        Vec::new()
    };
    fwht_with_scratch(x, params, &mut scratch)
}

/// WHT of each row of a row-major `rows × n` buffer (`data.len() = rows·n`), in place.
pub fn fwht_rows<T: TransformFloat>(data: &mut [T], n: usize, params: &WhtParams) -> Result<()> {
    check_pow2(n)?;
    if n == 0 {
        return Ok(());
    }
    if !data.len().is_multiple_of(n) {
        return Err(Error::Shape {
            expected: format!("a multiple of {n} values"),
            found: format!("{}", data.len()),
        });
    }
    let mut scratch = vec![
        T::zero();
        if params.order == WhtOrder::Sequency {
            n
        } else {
            0
        }
    ];
    for row in data.chunks_exact_mut(n) {
        fwht_with_scratch(row, params, &mut scratch)?;
    }
    Ok(())
}

/// Randomized Hadamard transform `x ↦ (1/√n) H D x` with `D = diag(±1)` drawn from a seed
/// (natural-order `H`). Orthogonal; [`Self::inverse`] applies `D H / √n`.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomizedHadamard {
    signs: Vec<bool>,
}

impl RandomizedHadamard {
    /// Draw the `n` signs (`true` = −1) from [`SeededRng`]`(seed)`; `n` a power of two.
    pub fn new(n: usize, seed: u64) -> Result<Self> {
        check_pow2(n)?;
        let mut rng = SeededRng::new(seed);
        Ok(RandomizedHadamard {
            signs: (0..n).map(|_| rng.uniform() < 0.5).collect(),
        })
    }

    /// Transform length.
    pub fn len(&self) -> usize {
        self.signs.len()
    }

    /// `len() == 0`.
    pub fn is_empty(&self) -> bool {
        self.signs.is_empty()
    }

    /// The diagonal of `D` (±1).
    pub fn signs<T: TransformFloat>(&self) -> Vec<T> {
        self.signs
            .iter()
            .map(|&neg| if neg { -T::one() } else { T::one() })
            .collect()
    }

    fn flip<T: TransformFloat>(&self, x: &mut [T]) {
        for (v, &neg) in x.iter_mut().zip(&self.signs) {
            if neg {
                *v = -*v;
            }
        }
    }

    /// `x ← (1/√n) H D x` for every row of the row-major buffer (`x.len()` a multiple of `n`).
    pub fn apply<T: TransformFloat>(&self, x: &mut [T]) -> Result<()> {
        let n = self.len();
        self.check_rows(x.len())?;
        let params = WhtParams {
            orthonormal: true,
            ..Default::default()
        };
        for row in x.chunks_exact_mut(n.max(1)) {
            self.flip(row);
            fwht_with_scratch(row, &params, &mut [])?;
        }
        Ok(())
    }

    /// Inverse: `y ← D H y / √n` for every row.
    pub fn inverse<T: TransformFloat>(&self, y: &mut [T]) -> Result<()> {
        let n = self.len();
        self.check_rows(y.len())?;
        let params = WhtParams {
            orthonormal: true,
            ..Default::default()
        };
        for row in y.chunks_exact_mut(n.max(1)) {
            fwht_with_scratch(row, &params, &mut [])?;
            self.flip(row);
        }
        Ok(())
    }

    fn check_rows(&self, len: usize) -> Result<()> {
        let n = self.len();
        if (n == 0 && len != 0) || (n > 0 && !len.is_multiple_of(n)) {
            return Err(Error::Shape {
                expected: format!("a multiple of {n} values"),
                found: format!("{len}"),
            });
        }
        Ok(())
    }
}

//! Products of (generalized) Householder reflectors in compact WY form, random orthogonal
//! matrices from reflectors.
//!
//! `H_i = I − β_i v̂_i v̂_iᵀ`, `v̂_i = v_i/‖v_i‖`, `β_i ∈ [0, 2]` (DeltaProduct's generalized
//! reflector; `β = 2` is the orthogonal reflector `I − 2vvᵀ/vᵀv`, `β = 0` the identity). The
//! product `Q = H_1 H_2 ⋯ H_k = I − V T Vᵀ` (`V = [v̂_1 … v̂_k]`, `T` upper triangular with
//! `T_jj = β_j`, `T[..j, j] = −β_j T[..j, ..j] V[:, ..j]ᵀ v̂_j`), equivalently `Q = I − W Yᵀ` with
//! `W = V T`, `Y = V`. Applying `Q` to an `n × m` matrix costs `O(nkm)` in three matrix products.

use super::{c, TransformFloat};
use crate::random::SeededRng;
use crate::{Error, Result};
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

/// `Q = H_1 ⋯ H_k` in compact WY form (see the module doc).
#[derive(Debug, Clone)]
pub struct HouseholderProduct<T: TransformFloat> {
    /// `n × k`, unit columns (zero columns for zero input vectors).
    v: Array2<T>,
    /// `k × k` upper triangular.
    t: Array2<T>,
}

impl<T: TransformFloat> HouseholderProduct<T> {
    /// Build from `vectors` (`k × n`, one reflector per row) and `betas` (`k` values in
    /// `[0, 2]`). A zero vector gives the identity factor. Errors: shape, β out of range,
    /// non-finite entries.
    pub fn new(vectors: ArrayView2<'_, T>, betas: &[T]) -> Result<Self> {
        let (k, n) = vectors.dim();
        if betas.len() != k {
            return Err(Error::Shape {
                expected: format!("{k} betas (one per reflector)"),
                found: format!("{}", betas.len()),
            });
        }
        crate::linalg::check_finite(vectors)?;
        for &b in betas {
            let bf = b.to_f64();
            if !(0.0..=2.0).contains(&bf) {
                return Err(Error::InvalidParameter {
                    name: "beta",
                    reason: format!("generalized reflector needs β ∈ [0, 2], got {bf}"),
                });
            }
        }
        let mut v = Array2::<T>::zeros((n, k));
        let mut beta = betas.to_vec();
        for (j, row) in vectors.rows().into_iter().enumerate() {
            // Scale by max |entry| first so the norm neither overflows nor underflows.
            let amax = row.iter().fold(T::zero(), |m, &x| m.max(x.abs()));
            if amax == T::zero() {
                beta[j] = T::zero();
                continue;
            }
            let nrm = row
                .iter()
                .fold(T::zero(), |s, &x| s + (x / amax) * (x / amax))
                .sqrt();
            for i in 0..n {
                v[(i, j)] = row[i] / amax / nrm;
            }
        }
        let mut t = Array2::<T>::zeros((k, k));
        for j in 0..k {
            t[(j, j)] = beta[j];
            if j > 0 {
                let vtv = v.slice(s![.., ..j]).t().dot(&v.column(j));
                let col = t.slice(s![..j, ..j]).dot(&vtv);
                for i in 0..j {
                    t[(i, j)] = -beta[j] * col[i];
                }
            }
        }
        Ok(HouseholderProduct { v, t })
    }

    /// Ordinary orthogonal reflectors `I − 2vvᵀ/vᵀv` (all `β = 2`).
    pub fn orthogonal(vectors: ArrayView2<'_, T>) -> Result<Self> {
        let betas = vec![c::<T>(2.0); vectors.nrows()];
        Self::new(vectors, &betas)
    }

    /// Dimension `n`.
    pub fn dim(&self) -> usize {
        self.v.nrows()
    }

    /// Number of reflectors `k`.
    pub fn num_reflectors(&self) -> usize {
        self.v.ncols()
    }

    /// `V` (`n × k`, unit columns).
    pub fn v(&self) -> ArrayView2<'_, T> {
        self.v.view()
    }

    /// `T` (`k × k`, upper triangular).
    pub fn t(&self) -> ArrayView2<'_, T> {
        self.t.view()
    }

    /// `(W, Y)` with `Q = I − W Yᵀ`: `W = V T`, `Y = V`.
    pub fn wy(&self) -> (Array2<T>, Array2<T>) {
        (self.v.dot(&self.t), self.v.clone())
    }

    fn check_rows(&self, rows: usize) -> Result<()> {
        if rows != self.dim() {
            return Err(Error::Shape {
                expected: format!("{} rows", self.dim()),
                found: format!("{rows}"),
            });
        }
        Ok(())
    }

    /// `A ← Q A` (`A` is `n × m`): `A − V (T (Vᵀ A))`.
    pub fn apply(&self, mut a: ArrayViewMut2<'_, T>) -> Result<()> {
        self.check_rows(a.nrows())?;
        let w = self.t.dot(&self.v.t().dot(&a));
        a -= &self.v.dot(&w);
        Ok(())
    }

    /// `A ← Qᵀ A`: `A − V (Tᵀ (Vᵀ A))`.
    pub fn apply_transpose(&self, mut a: ArrayViewMut2<'_, T>) -> Result<()> {
        self.check_rows(a.nrows())?;
        let w = self.t.t().dot(&self.v.t().dot(&a));
        a -= &self.v.dot(&w);
        Ok(())
    }

    /// `A ← A Q` (`A` is `m × n`): `A − ((A V) T) Vᵀ`.
    pub fn apply_right(&self, mut a: ArrayViewMut2<'_, T>) -> Result<()> {
        if a.ncols() != self.dim() {
            return Err(Error::Shape {
                expected: format!("{} columns", self.dim()),
                found: format!("{}", a.ncols()),
            });
        }
        let w = a.dot(&self.v).dot(&self.t);
        a -= &w.dot(&self.v.t());
        Ok(())
    }

    /// The dense `n × n` matrix `Q`.
    pub fn to_dense(&self) -> Array2<T> {
        let mut q = Array2::<T>::eye(self.dim());
        self.apply(q.view_mut())
            .expect("shape matches by construction");
        q
    }
}

/// A Haar-distributed random `n × n` orthogonal matrix from `n − 1` Householder reflectors
/// (Stewart 1980): reflector `i` maps a fresh Gaussian `x ∈ ℝ^{n−i}` (embedded after `i` zeros)
/// to `−sign(x_0)‖x‖ e_i` (`v = x + sign(x_0)‖x‖ e_0`), and `Q = H_1 ⋯ H_{n−1} D` with
/// `D = diag(−sign(x_0))` (last entry a random sign) — the `Q` of a Householder QR of a Gaussian
/// matrix with `R`'s diagonal made positive. Seeded by [`SeededRng`].
pub fn random_orthogonal<T: TransformFloat>(n: usize, seed: u64) -> Array2<T> {
    let mut rng = SeededRng::new(seed);
    let k = n.saturating_sub(1);
    let mut vecs = Array2::<T>::zeros((k, n));
    let mut d = vec![T::one(); n];
    for i in 0..k {
        let x: Vec<f64> = (0..n - i).map(|_| rng.normal()).collect();
        let nrm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        let sg = if x[0] >= 0.0 { 1.0 } else { -1.0 };
        for (j, &xj) in x.iter().enumerate() {
            vecs[(i, i + j)] = c(if j == 0 { xj + sg * nrm } else { xj });
        }
        d[i] = c(-sg);
    }
    if n > 0 {
        d[n - 1] = if rng.normal() >= 0.0 {
            T::one()
        } else {
            -T::one()
        };
    }
    let mut q = HouseholderProduct::orthogonal(vecs.view())
        .expect("finite Gaussian vectors")
        .to_dense();
    for (j, &dj) in d.iter().enumerate() {
        q.column_mut(j).mapv_inplace(|v| v * dj);
    }
    q
}

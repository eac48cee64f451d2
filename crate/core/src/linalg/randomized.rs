//! Randomized SVD (Halko, Martinsson & Tropp 2011, Alg. 4.4 + 5.1): a Gaussian range finder with
//! `oversampling` extra columns and `power_iterations` subspace iterations (re-orthonormalised by
//! Householder QR after every product), then the exact SVD of the small `QᵀA`.

use super::bridge::{as_faer, to_ndarray};
use super::real::check_finite;
use super::{Real, Svd};
use crate::random::SeededRng;
use crate::{Error, Result};
use faer::{Mat, MatRef};
use ndarray::{s, ArrayView2};

/// Parameters of [`randomized_svd`].
#[derive(Debug, Clone, Copy)]
pub struct RandomizedSvdParams {
    /// Number of singular triplets wanted (`k`, at least 1).
    pub rank: usize,
    /// Extra random directions (`p`); scikit-learn's default is 10.
    pub oversampling: usize,
    /// Subspace iterations (`q`); each costs two passes over `A`. scikit-learn uses 4 (7 when
    /// `k < 0.1·min(m, n)`); 4 is our default.
    pub power_iterations: usize,
    /// Seed of the Gaussian test matrix.
    pub seed: u64,
}

impl Default for RandomizedSvdParams {
    fn default() -> Self {
        RandomizedSvdParams {
            rank: 10,
            oversampling: 10,
            power_iterations: 4,
            seed: 0,
        }
    }
}

fn orthonormal_basis<T: Real>(y: MatRef<'_, T>) -> Mat<T> {
    y.qr().compute_thin_Q()
}

/// Rank-`k` truncated SVD of `A` by randomized subspace iteration; `k` is clamped to `min(m, n)`.
pub fn randomized_svd<T: Real>(
    a: ArrayView2<'_, T>,
    params: &RandomizedSvdParams,
) -> Result<Svd<T>> {
    check_finite(a.view())?;
    if params.rank == 0 {
        return Err(Error::InvalidParameter {
            name: "rank",
            reason: "must be at least 1".into(),
        });
    }
    let (m, n) = a.dim();
    let kmax = m.min(n);
    if kmax == 0 {
        return Err(Error::Empty { rows: m, cols: n });
    }
    let k = params.rank.min(kmax);
    let l = (k + params.oversampling).min(kmax);
    let fa = as_faer(&a);
    let mut rng = SeededRng::new(params.seed);
    let omega = Mat::<T>::from_fn(n, l, |_, _| T::from_f64(rng.normal()));
    let mut q = orthonormal_basis((fa * &omega).as_ref());
    for _ in 0..params.power_iterations {
        let z = orthonormal_basis((fa.transpose() * &q).as_ref());
        q = orthonormal_basis((fa * &z).as_ref());
    }
    let b = q.transpose() * fa; // l × n
    let svd = b.thin_svd().map_err(|_| Error::NoConvergence {
        method: "randomized SVD",
    })?;
    let u = &q * svd.U();
    let s = svd.S().column_vector();
    let u = to_ndarray(u.as_ref());
    let vt = to_ndarray(svd.V().transpose());
    Ok(Svd {
        u: u.slice(s![.., ..k]).to_owned(),
        s: ndarray::Array1::from_shape_fn(k, |i| s[i]),
        vt: vt.slice(s![..k, ..]).to_owned(),
    })
}

//! Dense linear algebra on ndarray views.
//!
//! | function | result | convention |
//! |---|---|---|
//! | [`gram`] | `WᵀW` if `N ≥ M` else `WWᵀ` (f64) | no `1/N` |
//! | [`gram_eigenvalues`] | eigenvalues of [`gram`] | ascending, f64 |
//! | [`symmetric_eigenvalues`], [`symmetric_eigen`] | `A = V diag(λ) Vᵀ` | ascending λ, eigenvectors in columns of `V` |
//! | [`singular_values`], [`thin_svd`] | `A = U diag(s) Vᵀ`, `k = min(m, n)` | descending `s`, `U` m×k, `Vᵀ` k×n |
//! | [`householder_qr`] | `A = Q R` | thin `Q` m×k, `R` k×n upper trapezoidal |
//! | [`randomized_svd`] | rank-`k` approximation (Halko–Martinsson–Tropp) | descending |
//!
//! Eigen/SVD/QR are faer's (blocked Householder tridiagonalisation/bidiagonalisation with
//! divide-and-conquer); [`naive`] holds textbook Jacobi references for tests. The eigenvalues of
//! a layer's Gram ([`lower_symmetric_eigenvalues_f64`]) are our own: faer's one-stage
//! tridiagonalisation below n = 1400, a two-stage (dense → band → tridiagonal) reduction above,
//! then root-free QL (module `tridiag`).
//! Symmetric routines read the **lower** triangle only.
//! Decompositions of empty matrices return empty results; [`gram`] and [`gram_eigenvalues`]
//! reject them with [`crate::Error::Empty`] (an empty layer has no spectrum).

mod bidiag;
mod bridge;
mod eigen;
mod gram;
pub mod naive;
mod qr;
mod randomized;
mod real;
mod svd;
mod tridiag;

pub use bidiag::singular_values_two_stage;
pub use eigen::{symmetric_eigen, symmetric_eigenvalues, SymmetricEigen};
pub use gram::{
    gram, gram_columns_f32, gram_eigenvalues, gram_eigenvalues_exact, gram_eigenvalues_mode,
    gram_exact, lower_gram_eigenvalues, GramF32Accumulator, GramF64Accumulator, GramInput,
    GramParams, GRAM_SUPERBLOCK_ROWS,
};
pub use qr::{householder_qr, Qr};
pub use randomized::{randomized_svd, RandomizedSvdParams};
pub use real::{check_finite, Real};
pub use svd::{singular_values, thin_svd, Svd};
pub use tridiag::{
    lower_symmetric_eigenvalues_f64, lower_symmetric_eigenvalues_owned, tridiagonal_eigenvalues,
};

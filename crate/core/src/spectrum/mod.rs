//! Empirical spectral densities (ESD) and reference laws.
//!
//! - [`histogram`]: counts of values in `bins` equal-width bins on a linear or log10 axis.
//! - [`marchenko_pastur_density`]: the MP law of the eigenvalues of `XᵀX` for an `N×M` matrix
//!   `X` of i.i.d. entries of variance `σ²`, **without** the `1/N` factor (our ESD convention):
//!   with `Q = N/M ≥ 1`, `λ± = σ²N(1 ± 1/√Q)²` and
//!   `ρ(λ) = Q·√((λ₊−λ)(λ−λ₋)) / (2π σ² N λ)` on `[λ₋, λ₊]`, 0 elsewhere (integrates to 1).

mod esd;

pub use esd::{histogram, marchenko_pastur_bounds, marchenko_pastur_density, Histogram};

//! Eigenspectrum (HT-SR) analysis: ESDs, power-law fits, WeightWatcher metrics, FARMS.
//!
//! Conventions (see each module for formulas):
//! - ESD = eigenvalues of `WᵀW` (no `1/N`), ascending; conv slices pooled with WW's ×½.
//! - Power-law fits on eigenvalues `> 1e‑5` (WW's `EVALS_THRESH`), continuous MLE, KS distance at
//!   the data points; logs: natural in fits and entropy, base 10 in `log_*` columns.
//! - [`histogram`]: counts of values in `bins` equal-width bins on a linear or log10 axis.
//! - [`marchenko_pastur_density`]: the MP law of the eigenvalues of `XᵀX` for an `N×M` matrix
//!   `X` of i.i.d. entries of variance `σ²`, **without** the `1/N` factor (our ESD convention):
//!   with `Q = N/M ≥ 1`, `λ± = σ²N(1 ± 1/√Q)²` and
//!   `ρ(λ) = Q·√((λ₊−λ)(λ−λ₋)) / (2π σ² N λ)` on `[λ₋, λ₊]`, 0 elsewhere (integrates to 1).

pub mod analyze;
mod esd;
pub mod farms;
pub mod layers;
pub mod marchenko_pastur;
pub mod metrics;
pub mod optimize;
pub mod power_law;
pub mod randomize;
pub mod stream;
pub mod synthetic;
pub mod truncated_power_law;

pub use esd::{histogram, marchenko_pastur_bounds, marchenko_pastur_density, Histogram};

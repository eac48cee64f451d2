//! # Spectralab core
//!
//! Pure numeric Rust: no wasm-bindgen, no js-sys/web-sys, no I/O. Everything the lab page, the
//! headless bindings and the CLI compute comes from here.
//!
//! ## Conventions (apply to every module unless its doc says otherwise)
//! - **Matrices** are `ndarray` views, any strides. A weight matrix `W` has shape `N × M` as stored
//!   (PyTorch `Linear.weight` is `out × in`); we never transpose silently.
//! - **Gram matrix / ESD**: `G = WᵀW` (M × M) when `N ≥ M`, else `G = WWᵀ` (N × N): the *smaller*
//!   Gram, so its eigenvalues are the `min(N, M)` squared singular values `σᵢ²` of `W`.
//!   No `1/N` normalisation (WeightWatcher's convention).
//! - **Ordering**: eigenvalues of symmetric matrices are returned in *ascending* order
//!   (numpy `eigvalsh`, WeightWatcher); singular values in *descending* order (numpy `svd`).
//! - **Precision**: f32 inputs are multiplied in f32 and accumulated in f32 over blocks of at most
//!   [`kernels::GRAM_KC`] rows, then in f64; eigen/SVD of the Gram run in f64.
//!   f16/bf16 inputs are widened to f32 on load ([`dtype`]).
//! - **Logarithms**: natural log unless a function says otherwise.
//! - **Non-finite input** (NaN, ±Inf) is an [`Error::NonFinite`] naming the first bad entry, never
//!   a silent NaN result.
//!
//! ## Module map
//! - [`error`]: the one error enum.
//! - [`dtype`]: f16/bf16 → f32 widening.
//! - [`formats`]: safetensors/.npy/.npz headers and tensors, read by byte range from a [`formats::ByteSource`].
//! - [`kernels`]: the only place with `core::arch` (scalar reference + SIMD128 twin).
//! - [`linalg`]: Gram matrices, symmetric eigen, SVD, Householder QR, randomized SVD, and
//!   [`linalg::naive`] Jacobi references used by tests.
//! - [`random`]: seeded, platform-independent random matrices.
//! - [`parallel`]: the switch between rayon and sequential execution.
//! - [`spectrum`]: ESD histograms and the Marchenko–Pastur law.
//! - [`metrics`]: Vendi scores, matrix entropies, effective ranks, nuclear norms, DSE, UNComp.
//! - [`transform`]: FFT, Walsh–Hadamard, DCT and Householder kernels.
//! - [`compare`]: two checkpoints or base + LoRA adapter: ΔW metrics, intruder dimensions.
//! - [`compress`]: truncation curves, structured approximations, rank budgets.
//! - [`session`]: the opened model ([`session::ModelSession`]: shards, merged index, plans,
//!   cached spectra, streaming) and the options shared by every interface.

pub mod compare;
pub mod compress;
pub mod dtype;
pub mod error;
pub mod formats;
pub mod kernels;
pub mod linalg;
pub mod metrics;
pub mod parallel;
pub mod random;
pub mod session;
pub mod spectrum;
pub mod transform;

pub use error::{Error, Result};

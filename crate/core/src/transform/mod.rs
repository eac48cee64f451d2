//! Transform kernels (issue 8): FFT (rustfft), Walsh–Hadamard, DCT, Householder products, energy
//! compaction curves and deterministic test signals. Every transform works on `f32` and `f64`
//! ([`TransformFloat`]); [`naive`] holds the O(n²) references the tests compare against.
//!
//! ## Conventions
//! - **FFT** ([`fft`]): forward `X_k = Σ_{j<n} x_j e^{−2πi jk/n}` (unnormalised), inverse
//!   `x_j = (1/n) Σ_k X_k e^{+2πi jk/n}` — numpy's default (`norm="backward"`), so
//!   `ifft(fft(x)) = x`. Any length (rustfft plans; Bluestein/Rader for awkward primes). Real FFT
//!   returns the `⌊n/2⌋ + 1` non-negative frequencies (numpy `rfft`). Plans are cached per thread.
//! - **Walsh–Hadamard** ([`hadamard`]), `n = 2^p`: natural (Hadamard/Kronecker) order
//!   `y_i = Σ_j (−1)^{popcount(i & j)} x_j`, i.e. `H_n = H_2^{⊗p}`, `H_2 = [[1, 1], [1, −1]]`,
//!   unnormalised so `H·H = n·I`. Sequency (Walsh) order lists the same rows sorted by their number
//!   of sign changes: `y_seq[s] = y_nat[bitrev(gray(s))]`. The orthonormal option multiplies by
//!   `1/√n` (then `H` is symmetric orthogonal and its own inverse).
//! - **DCT** ([`dct`]), orthonormal (scipy `norm="ortho"`):
//!   DCT-II `X_k = √(2/n) c_k Σ_j x_j cos(π k (2j+1) / 2n)` with `c_0 = 1/√2`, `c_k = 1` otherwise;
//!   DCT-III is its inverse (transpose); DCT-IV `X_k = √(2/n) Σ_j x_j cos(π (2j+1)(2k+1) / 4n)`
//!   is its own inverse. All three preserve the Euclidean norm.
//! - **Householder** ([`householder`]): a generalized reflector is `H = I − β v̂ v̂ᵀ` with
//!   `v̂ = v/‖v‖` and `β ∈ [0, 2]` (DeltaProduct); `β = 2` is the ordinary orthogonal reflector
//!   `I − 2vvᵀ/vᵀv`. A product `Q = H_1 H_2 ⋯ H_k` is kept in compact WY form `Q = I − V T Vᵀ`
//!   (`V` n×k unit columns, `T` k×k upper triangular).
//! - **Energy**: Σ|coefficient|² in the orthonormal version of each transform, so the energies of
//!   all bases sum to ‖x‖² (Parseval).
//! - Batched ("along rows") functions take a row-major buffer of `rows × n` values.

#[cfg(feature = "bench")]
pub mod bench;
pub mod compaction;
pub mod dct;
pub mod fft;
pub mod hadamard;
pub mod householder;
pub mod naive;
pub mod signals;

pub use compaction::{energy_compaction_matrix, energy_compaction_signal, CompactionCurves};
pub use dct::{dct_rows, DctBackend, DctKind, DctPlan};
pub use fft::{convolve, fft, fft2_inplace, ifft, irfft, rfft, FftPlan, RealFftPlan};
pub use hadamard::{fwht, fwht_rows, RandomizedHadamard, WhtOrder, WhtParams};
pub use householder::{random_orthogonal, HouseholderProduct};
pub use rustfft::num_complex::Complex;
pub use rustfft::FftDirection;
pub use signals::{test_signal, TestSignal};

use crate::linalg::Real;

/// The float types the transforms run in (`f32`, `f64`): what rustfft and rustdct need, plus a
/// per-thread FFT planner cache.
pub trait TransformFloat: Real + rustfft::FftNum + rustfft::num_traits::FloatConst {
    /// Runs `f` with this thread's cached rustfft planner for `Self` (plans are `Arc`s, built once
    /// per length and direction).
    fn with_planner<R>(f: impl FnOnce(&mut rustfft::FftPlanner<Self>) -> R) -> R;
    /// Runs `f` with this thread's cached rustdct planner for `Self`.
    fn with_dct_planner<R>(f: impl FnOnce(&mut rustdct::DctPlanner<Self>) -> R) -> R;
    /// The dispatching WHT kernel for `Self` ([`crate::kernels::wht_f32`] / `wht_f64`).
    fn wht_kernel(x: &mut [Self], scale: Self);
    /// The scalar twin of [`Self::wht_kernel`] (for agreement tests and benchmarks).
    fn wht_kernel_scalar(x: &mut [Self], scale: Self);
}

macro_rules! impl_transform_float {
    ($t:ty, $fft:ident, $dct:ident, $wht:ident) => {
        thread_local! {
            static $fft: std::cell::RefCell<rustfft::FftPlanner<$t>> =
                std::cell::RefCell::new(rustfft::FftPlanner::new());
            static $dct: std::cell::RefCell<rustdct::DctPlanner<$t>> =
                std::cell::RefCell::new(rustdct::DctPlanner::new());
        }
        impl TransformFloat for $t {
            fn with_planner<R>(f: impl FnOnce(&mut rustfft::FftPlanner<Self>) -> R) -> R {
                $fft.with(|p| f(&mut p.borrow_mut()))
            }
            fn with_dct_planner<R>(f: impl FnOnce(&mut rustdct::DctPlanner<Self>) -> R) -> R {
                $dct.with(|p| f(&mut p.borrow_mut()))
            }
            fn wht_kernel(x: &mut [Self], scale: Self) {
                crate::kernels::$wht(x, scale)
            }
            fn wht_kernel_scalar(x: &mut [Self], scale: Self) {
                crate::kernels::wht_scalar::$wht(x, scale)
            }
        }
    };
}
impl_transform_float!(f32, FFT_PLANNER_F32, DCT_PLANNER_F32, wht_f32);
impl_transform_float!(f64, FFT_PLANNER_F64, DCT_PLANNER_F64, wht_f64);

/// `v` (an f64 constant) in `T`.
#[inline]
pub(crate) fn c<T: TransformFloat>(v: f64) -> T {
    <T as Real>::from_f64(v)
}

/// `e^{iθ}` computed in f64, rounded to `T`.
#[inline]
pub(crate) fn cis<T: TransformFloat>(theta: f64) -> Complex<T> {
    Complex::new(c(theta.cos()), c(theta.sin()))
}

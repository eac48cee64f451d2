//! Compression trade-offs (issue 7): how much error each way of storing a weight matrix in fewer
//! bytes costs, per layer and for a whole model.
//!
//! ## Conventions (every function of this module)
//! - `W` is `N × M` as stored (`out × in` for PyTorch). All arithmetic is in f64.
//! - **Error** is Frobenius, relative, measured in the original basis:
//!   `rel_fro_error = ‖W − Ŵ‖_F / ‖W‖_F` (0 when `W = 0`). Orthogonal rotations (Hadamard, DCT)
//!   preserve the norm, so errors in the rotated basis are the same number.
//! - **Truncated SVD** (Eckart–Young): with `σ₁ ≥ σ₂ ≥ …`, the rank-`k` error is
//!   `√(Σ_{i>k} σᵢ² / Σ σᵢ²)`, computed as `total − cumsum` clamped at 0; the spectral error is
//!   `σ_{k+1}/σ₁` (0 beyond the last σ); the retained energy is `Σ_{i≤k} σᵢ² / Σ σᵢ²` (energy
//!   is always on `σ²`, never on `σ`). Rank `k` means `k` kept singular triplets, `0 ≤ k ≤ min(N, M)`.
//! - **Bytes**: stored-number *counts* are kept apart from the storage [`Precision`]:
//!   - low-rank factors: `k(N + M)` numbers (Σ folded into the factors as `√Σ` on each side);
//!   - `F32` 4 bytes, `F16` 2 bytes per number, no metadata;
//!   - `Int8` / `Int4`: symmetric absmax quantization in groups of [`QUANT_GROUP`] (64)
//!     consecutive numbers, one **f32 scale per group**: `⌈count·b/8⌉ + 4·⌈count/64⌉` bytes, i.e.
//!     8.5 and 4.5 bits per number (the bitsandbytes NF4 accounting). Factors are grouped along
//!     their own row-major layout; the dense tensor likewise.
//!   - dense tensor: `N·M` numbers in the same precision, so the break-even rank (factors no
//!     longer smaller than dense) is the same for every precision: factors save bytes iff
//!     `k(N + M) < N·M`, i.e. `k < NM/(N+M)` (`n/2` for a square matrix).
//!   - sparse entries (low rank + sparse): COO, one value in the factor precision plus a 32-bit
//!     flat index (`F16`: 6 bytes per entry).
//!   - index of a selected DCT column: 4 bytes (u32); the DCT basis itself is implicit (free).
//!   - random signs of the Hadamard rotation: a seed (8 bytes).
//! - **Model-level** aggregates: the *absolute* objective sums squared errors `Σ_ℓ ‖W_ℓ − Ŵ_ℓ‖²`
//!   (big layers dominate) and reports `√(Σ_ℓ tail_ℓ / Σ_ℓ ‖W_ℓ‖²)`; the *relative* objective sums
//!   per-layer squared relative errors (see [`budget`]).
//! - Randomness is seeded ([`crate::random::SeededRng`]), so every curve is reproducible.
//!
//! ## Files
//! - [`truncation`]: per-layer truncation curves from σ (or λ = σ²), energy ranks, break-even.
//! - [`budget`]: model-level rank allocation (uniform ratio, energy threshold, greedy, WeLore τ).
//! - [`quantize`]: blockwise absmax quantization, random Hadamard rotation (private FWHT).
//! - [`structured`]: LR + quantized residual (LQ-LoRA), LR + sparse (GEAR/LOST-style), Monarch,
//!   Kronecker sums (Van Loan–Pitsianis), PiSSA/QPiSSA, and [`structured::tradeoff_curves`]
//!   (every curve of one matrix at once).
//! - [`dct_basis`]: fixed DCT basis with top-k column selection.
//! - [`pareto_front`] (here): the non-dominated points of any set of curves.
//!
//! Errors: [`crate::Error::Empty`] for empty matrices, [`crate::Error::NonFinite`] naming the
//! first NaN/±Inf, [`crate::Error::Shape`] for factor shapes that do not divide, and
//! [`crate::Error::InvalidParameter`] for out-of-range ranks, bits, fractions and budgets. No
//! function panics on user input.

pub mod budget;
pub mod dct_basis;
pub mod ggml_quant;
pub mod quant_plan;
pub mod quantize;
pub mod structured;
pub mod truncation;

use serde::Serialize;

/// Group size of the int8/int4 absmax quantizers used for byte accounting (one f32 scale each).
pub const QUANT_GROUP: usize = 64;

/// Storage precision of the stored numbers (factors, residuals, dense tensors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    F16,
    Int8,
    Int4,
}

impl Precision {
    /// All four, in decreasing size.
    pub const ALL: [Precision; 4] = [
        Precision::F32,
        Precision::F16,
        Precision::Int8,
        Precision::Int4,
    ];

    /// Bits of one stored number (without group scales).
    pub fn bits(self) -> u64 {
        match self {
            Precision::F32 => 32,
            Precision::F16 => 16,
            Precision::Int8 => 8,
            Precision::Int4 => 4,
        }
    }

    /// Bytes to store `count` numbers, group scales included (see the module doc).
    pub fn bytes(self, count: u64) -> u64 {
        let payload = (count * self.bits()).div_ceil(8);
        match self {
            Precision::F32 | Precision::F16 => payload,
            Precision::Int8 | Precision::Int4 => payload + 4 * count.div_ceil(QUANT_GROUP as u64),
        }
    }

    /// Average bytes per number for large counts (`bits/8 + 4/64` for the integer types).
    pub fn bytes_per_number(self) -> f64 {
        let b = self.bits() as f64 / 8.0;
        match self {
            Precision::F32 | Precision::F16 => b,
            Precision::Int8 | Precision::Int4 => b + 4.0 / QUANT_GROUP as f64,
        }
    }

    /// Lower-case name (`f32`, `f16`, `int8`, `int4`).
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Int8 => "int8",
            Precision::Int4 => "int4",
        }
    }

    // On the wire precisions are parsed by `session::options::PrecisionOption`.
}

/// One point of an (error, bytes) trade-off curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeoffPoint {
    /// Which structure, e.g. `"svd"`, `"lr+int4"`, `"monarch"`.
    pub method: String,
    /// The method's knob at this point (rank, sparsity fraction, bits, blocks…).
    pub param: f64,
    /// Storage bytes of the approximation (see the module doc).
    pub bytes: u64,
    /// `‖W − Ŵ‖_F / ‖W‖_F`.
    pub rel_fro_error: f64,
}

/// The Pareto front of `points`: those not dominated by another point with fewer-or-equal bytes
/// and lower-or-equal error. Sorted by bytes ascending (error then strictly decreasing).
/// Points with a non-finite error are ignored.
pub fn pareto_front(points: &[TradeoffPoint]) -> Vec<TradeoffPoint> {
    let mut sorted: Vec<&TradeoffPoint> = points
        .iter()
        .filter(|p| p.rel_fro_error.is_finite())
        .collect();
    sorted.sort_by(|a, b| {
        a.bytes
            .cmp(&b.bytes)
            .then(a.rel_fro_error.total_cmp(&b.rel_fro_error))
    });
    let mut front: Vec<TradeoffPoint> = Vec::new();
    for p in sorted {
        if front
            .last()
            .is_none_or(|l| p.rel_fro_error < l.rel_fro_error)
        {
            front.push(p.clone());
        }
    }
    front
}

/// `‖A‖_F²` of an f64 view.
pub(crate) fn fro2(a: ndarray::ArrayView2<'_, f64>) -> f64 {
    a.iter().map(|v| v * v).sum()
}

/// `‖A − B‖_F / ‖A‖_F` (0 if `A = 0` and `B = A`; `∞` if `A = 0 ≠ B`).
pub(crate) fn rel_error(a: ndarray::ArrayView2<'_, f64>, b: ndarray::ArrayView2<'_, f64>) -> f64 {
    let num: f64 = a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum();
    ratio(num, fro2(a))
}

/// `√(num/den)` with the 0/0 = 0 convention.
pub(crate) fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        (num.max(0.0) / den).sqrt()
    } else if num > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Rejects empty matrices and non-finite entries (naming the first bad entry).
pub(crate) fn check_matrix(w: ndarray::ArrayView2<'_, f64>) -> crate::Result<()> {
    if w.is_empty() {
        return Err(crate::Error::Empty {
            rows: w.nrows(),
            cols: w.ncols(),
        });
    }
    crate::linalg::check_finite(w)
}

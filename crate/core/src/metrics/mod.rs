//! Entropy and diversity metrics of a set of embeddings or of a matrix (issue 6).
//!
//! Rows of the input `X` (`n × d`) are **items** (samples, tokens); columns are features.
//! Every function takes an `ndarray` view of `f32` or `f64` and computes in `f64`.
//!
//! ## The common form
//! Except MNN and DSE, every metric is a functional of the spectrum `λ₁ ≥ … ≥ λ_r > 0` of a
//! positive semidefinite matrix `ρ` with unit trace (a "density matrix"):
//!
//! | name | formula | log |
//! |---|---|---|
//! | Rényi entropy of order `q` ([`renyi_entropy`]; [`spectrum_entropy`] normalises first) | `H_q = ln(Σ λᵢ^q)/(1 − q)`; `H₁ = −Σ λᵢ ln λᵢ`; `H_∞ = −ln λ₁`; `H₀ = ln r` | natural |
//! | Hill number / effective number | `exp(H_q)` | — |
//!
//! | metric | `ρ` | rows centred | rows L2-normalised |
//! |---|---|---|---|
//! | Vendi, cosine ([`vendi_score`]) | `K/n`, `K_ij = cos(xᵢ, xⱼ)`; weighted: `K_ij √(pᵢ pⱼ)` | no | yes |
//! | Vendi, linear | `Y Yᵀ / tr(Y Yᵀ)`, `Y = diag(√p) X` (unweighted: `XXᵀ/‖X‖_F²`) | no | no |
//! | Vendi, RBF | `K/n`, `K_ij = exp(−‖xᵢ − xⱼ‖²/(2h²))` | no | no |
//! | Vendi, user kernel ([`vendi_from_similarity`]) | `K/n` (or `K ∘ √p√pᵀ`), `K` validated | — | — |
//! | Diff-eRank matrix entropy ([`matrix_entropy`]) | `Σ/tr Σ`, `Σ = ZᵀZ/N` | **yes** | yes |
//! | UNComp ([`uncomp_entropy`]) | `Σ/tr Σ + 10⁻¹⁰ I`, top-`k` terms, `÷ ln d` | yes | yes |
//!
//! * **Vendi_q** `= exp(H_q(ρ))`, any `q ≥ 0` including `+∞`; `1 ≤ Vendi_q ≤ rank ≤ n`,
//!   non-increasing in `q`. For `|q − 1| < 10⁻⁶` the Shannon branch is used.
//! * **Primal / dual**: for the cosine and linear kernels `ρ = Y Yᵀ/c` (`n × n`) has the same
//!   non-zero spectrum as `YᵀY/c` (`d × d`); the smaller one is decomposed
//!   ([`VendiPath::Auto`]), so the cost is `O(n d² + d³)` when `d < n`. RBF and user kernels
//!   have no dual: `O(n² d + n³)` time and `O(n²)` memory (5000 items: a 200 MB matrix and
//!   ~10¹¹ flops); [`nystrom_vendi`] approximates them with `m` landmarks in `O(n m² + m³)`.
//! * **Eigenvalue threshold**: eigenvalues `λ ≤ τ·λ_max` are treated as zero, with the relative
//!   threshold `τ = max(n, d)·ε` (`ε = 2⁻⁵²`) unless [`VendiParams::rel_threshold`] says
//!   otherwise, and the kept eigenvalues are renormalised to sum 1; so `Vendi₀` is the
//!   numerical rank. (vendi-score keeps round-off eigenvalues;
//!   its `q = 0` counts them.)
//! * **Weights** `p` (weighted Vendi) must be finite, `≥ 0`, with a positive sum; they are
//!   normalised to `Σp = 1` (vendi-score does not normalise them).
//! * **Diff-eRank** (`waltonfuture/Diff-eRank`): centre the rows (`rᵢ − r̄`), L2-normalise them
//!   (no ε), `Σ = ZᵀZ/N`, `H = −Σ λᵢ ln λᵢ` of `Σ/tr Σ`; reported as `H`, `H/ln d` and
//!   `erank = exp(H)`. Undefined (an error, `None` in [`MetricsReport`]) when a centred row
//!   vanishes: `minᵢ ‖rᵢ − r̄‖ ≤ 10⁻¹²·max|X|·√d` (`n = 1`, identical rows).
//! * **Roy–Vetterli effective rank** ([`roy_vetterli_erank`]): `exp(−Σ pₖ ln pₖ)`,
//!   `pₖ = σₖ/Σσ` (singular values, not squared; no centring). **Stable rank**
//!   ([`stable_rank`]): `‖X‖_F²/σ₁²`. The squared-σ effective rank is the linear Vendi at `q = 1`.
//! * **MNN** ([`matrix_nuclear_norm`], `MLGroupJLU/MatrixNuclearNorm`): rows centred and
//!   normalised as in Diff-eRank (`R̂`), `MNN = (1/N)·Σ` of the `min(N, d)` largest column
//!   norms of `R̂` (the `L₁,₂` proxy of the nuclear norm); reported next to the exact `‖R̂‖_*/N`.
//! * **DSE** ([`diffusion_spectral_entropy`], `dse-dsmi` 1.1): Gaussian kernel
//!   `G = exp(−D²/(2σ²))` with an **absolute** `σ` (default 10), `K = Q^{-1/2} G Q^{-1/2}`
//!   (`Q` = row sums), `αᵢ = |λᵢ|^t/Σ|λⱼ|^t` (default `t = 1`),
//!   `DSE = −Σ (αᵢ + ε) log₂(αᵢ + ε)` in **bits**, `ε = 2⁻⁵²`.
//! * **UNComp** (`menik1126/UNComp`): `λ` = eigenvalues of `Σ/tr Σ + 10⁻¹⁰ I` (all `d`),
//!   descending; `H_k = −Σ_{i ≤ k} λᵢ ln λᵢ` (not renormalised); reported `H_k/ln d`;
//!   default `k = max(1, d/4)` (the anchor's 32 for `d = 128`).
//!
//! Logs are natural everywhere except DSE (bits).
//!
//! ## Errors
//! Non-finite input is [`crate::Error::NonFinite`] (never a panic or a silent NaN); `n = 0` or
//! `d = 0` is [`crate::Error::Empty`]; inputs where a metric is undefined (a zero row for the
//! cosine kernel, a zero matrix for the linear kernel, centring degeneracy) are
//! [`crate::Error::InvalidParameter`] naming the reason. The one-shot [`metrics_report`] turns
//! those per-metric failures into `None` plus a line in [`MetricsReport::notes`].

mod csv;
mod diffusion;
mod entropy;
mod nuclear;
mod nystrom;
mod report;
mod vendi;

pub use csv::{parse_table, read_labels, Table};
pub use diffusion::{diffusion_spectral_entropy, DseParams, DseReport};
pub use entropy::{
    hill_number, matrix_entropy, renyi_entropy, roy_vetterli_erank, spectrum_entropy, stable_rank,
    uncomp_entropy, MatrixEntropyReport, UncompParams, UncompReport,
};
pub use nuclear::{matrix_nuclear_norm, nuclear_norm, MnnReport};
pub use nystrom::{nystrom_vendi, NystromParams, NystromReport};
pub use report::{
    metrics_report, metrics_report_generic, vendi_per_class, ClassVendi, MetricsParams,
    MetricsReport, PerClassReport, VendiOrders,
};
pub use vendi::{
    default_q_grid, median_pairwise_distance, vendi_from_similarity, vendi_profile, vendi_score,
    vendi_spectrum, Kernel, QPoint, VendiParams, VendiPath, VendiReport, VendiSpectrum,
};

//! Gram matrices of tall or wide matrices and their eigenvalues (the ESD of a layer).
//!
//! `gram(W) = WᵀW` (M×M) when `N ≥ M`, else `WWᵀ` (N×N); entries in f64, no `1/N`.
//!
//! **f32 path** (the hot one: model weights): the input is scaled by a power of two `2^-e`
//! (exact) so that `max|w| ∈ [0.5, 1)` — products can then neither overflow nor underflow in
//! f32 for any finite input — packed into 8-column panels, multiplied by the tile kernel of
//! [`crate::kernels`] (f32 sums over ≤ 128 rows, f64 beyond), and `G` is rescaled by `4^e`.
//! Only the upper triangle is computed, then mirrored. Column panels of `G` are independent
//! tasks, so the threaded build splits them across workers.
//!
//! **f64 path**: faer's matmul (`AᵀA`), with the same power-of-two scaling when `max|w|` is
//! outside `[1e-100, 1e100]`.

use super::bridge::as_faer;
use super::real::{check_finite, finite_max_abs};
use super::tridiag::lower_symmetric_eigenvalues_owned;
use super::Real;
use crate::kernels::{gram_tile8_f32, gram_tile8_f64, GRAM_KC, GRAM_NR};
use crate::parallel::for_each_mut;
use crate::{Error, Result};
use faer::{Accum, Mat, Par};
use ndarray::{Array1, Array2, ArrayView2};

/// Options of [`gram`] / [`gram_eigenvalues`].
#[derive(Debug, Clone, Copy)]
pub struct GramParams {
    /// Split the work over the rayon pool (only with the `parallel` feature; default `true`).
    pub parallel: bool,
}

impl Default for GramParams {
    fn default() -> Self {
        GramParams { parallel: true }
    }
}

/// Element types with a Gram implementation.
pub trait GramInput: Real {
    /// `(L, e)`: the lower triangle `L` (upper part zero) of `S` with `AᵀA = 4^e · S`, for `A`
    /// of shape `n × d` (any strides); `e` is chosen so that `S` is comfortably inside the f64
    /// (and f32) range. Errors on non-finite entries. `exact` matters for f32 only: the
    /// f64-accumulating kernel (exact products, f64 sums) instead of the f32 SIMD one.
    fn gram_lower_scaled(
        a: ArrayView2<'_, Self>,
        parallel: bool,
        exact: bool,
    ) -> Result<(Mat<f64>, i32)>;
}

impl GramInput for f32 {
    fn gram_lower_scaled(
        a: ArrayView2<'_, f32>,
        parallel: bool,
        exact: bool,
    ) -> Result<(Mat<f64>, i32)> {
        let (n, d) = a.dim();
        let mut acc = if exact {
            GramF32Accumulator::new_exact(d, n)
        } else {
            GramF32Accumulator::new(d, n)
        };
        acc.push_first(a, parallel)?;
        Ok(acc.into_lower())
    }
}

impl GramInput for f64 {
    fn gram_lower_scaled(
        a: ArrayView2<'_, f64>,
        _parallel: bool,
        _exact: bool,
    ) -> Result<(Mat<f64>, i32)> {
        let m = finite_max_abs(a.view())?;
        if m != 0.0 && !(1e-100..=1e100).contains(&m) {
            let e = m.log2().floor() as i32 + 1;
            let s = 2f64.powi(-e);
            let scaled = a.mapv(|v| v * s);
            return Ok((gram_f64_faer_lower(scaled.view()), e));
        }
        Ok((gram_f64_faer_lower(a), 0))
    }
}

fn unscale(values: impl Iterator<Item = f64>, e: i32, what: &str) -> Result<Vec<f64>> {
    // 4^e as two factors of 2^e so that neither overflows on its own.
    let h = 2f64.powi(e);
    let out: Vec<f64> = values.map(|v| v * h * h).collect();
    if out.iter().any(|v| !v.is_finite()) {
        return Err(Error::Overflow { what: what.into() });
    }
    Ok(out)
}

/// `AᵀA` with faer's triangular matmul: the lower half only (half the flops), upper part zero.
fn gram_f64_faer_lower(a: ArrayView2<'_, f64>) -> Mat<f64> {
    use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
    let d = a.ncols();
    let fa = as_faer(&a);
    let mut g = Mat::<f64>::zeros(d, d);
    tri_matmul(
        g.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        fa.transpose(),
        BlockStructure::Rectangular,
        fa,
        BlockStructure::Rectangular,
        1.0,
        Par::Seq,
    );
    g
}

/// `(L, e)` of the smaller Gram (lower triangle, scaled; see [`GramInput::gram_lower_scaled`]).
fn gram_scaled<T: GramInput>(
    w: ArrayView2<'_, T>,
    params: &GramParams,
    exact: bool,
) -> Result<(Mat<f64>, i32)> {
    let (n, m) = w.dim();
    if n == 0 || m == 0 {
        return Err(Error::Empty { rows: n, cols: m });
    }
    if n >= m {
        T::gram_lower_scaled(w, params.parallel, exact)
    } else {
        T::gram_lower_scaled(w.t(), params.parallel, exact)
    }
}

/// The smaller Gram matrix of `W` (see the module doc). Errors on empty or non-finite input,
/// and with [`Error::Overflow`] when an entry of the Gram exceeds the f64 range.
/// f32 input uses the fast f32 kernel (≈ 1e-7 relative); see [`gram_exact`].
pub fn gram<T: GramInput>(w: ArrayView2<'_, T>, params: &GramParams) -> Result<Array2<f64>> {
    gram_mode(w, params, false)
}

/// [`gram`] with the exact kernel for f32 input: products of f32 are exact in f64 and summed in
/// f64, so the result matches the f64 Gram of the widened matrix to f64 rounding (≈ 1e-16
/// relative), without widening the matrix.
pub fn gram_exact<T: GramInput>(w: ArrayView2<'_, T>, params: &GramParams) -> Result<Array2<f64>> {
    gram_mode(w, params, true)
}

fn gram_mode<T: GramInput>(
    w: ArrayView2<'_, T>,
    params: &GramParams,
    exact: bool,
) -> Result<Array2<f64>> {
    let (g, e) = gram_scaled(w, params, exact)?;
    let g = mirror_lower(&g);
    if e == 0 {
        return Ok(g);
    }
    let dim = g.dim();
    let v = unscale(g.into_iter(), e, "the Gram matrix")?;
    Ok(Array2::from_shape_vec(dim, v).expect("same shape"))
}

/// Eigenvalues of the smaller Gram of `W`, ascending: the `min(N, M)` values `σᵢ²`.
/// The eigen-decomposition runs on the power-of-two-scaled Gram, so only eigenvalues that
/// themselves exceed the f64 range give [`Error::Overflow`].
/// Round-off can leave the smallest slightly negative (|λ| ≲ ε·λ_max); they are returned as is.
/// f32 input uses the fast f32 kernel; see [`gram_eigenvalues_exact`].
pub fn gram_eigenvalues<T: GramInput>(
    w: ArrayView2<'_, T>,
    params: &GramParams,
) -> Result<Array1<f64>> {
    gram_eigenvalues_mode(w, params, false)
}

/// [`gram_eigenvalues`] from the exact Gram ([`gram_exact`]).
pub fn gram_eigenvalues_exact<T: GramInput>(
    w: ArrayView2<'_, T>,
    params: &GramParams,
) -> Result<Array1<f64>> {
    gram_eigenvalues_mode(w, params, true)
}

/// [`gram_eigenvalues`] (`exact = false`) or [`gram_eigenvalues_exact`] (`exact = true`).
pub fn gram_eigenvalues_mode<T: GramInput>(
    w: ArrayView2<'_, T>,
    params: &GramParams,
    exact: bool,
) -> Result<Array1<f64>> {
    let (g, e) = gram_scaled(w, params, exact)?;
    Ok(Array1::from_vec(lower_gram_eigenvalues(g, e)?))
}

/// Rows per superblock: packed once, then multiplied into one lane's accumulator.
const SUPER_BLOCKS: usize = 8;
/// Most lanes (independent row streams with their own accumulator).
const MAX_LANES: usize = 8;
/// Memory cap for all lane accumulators together (bytes).
const LANE_BUDGET: usize = 64 << 20;

/// Multiplies superblocks `lane, lane + lanes, …` of `a` into the column panels `g_panels`.
/// With `panel_parallel`, the panels of each superblock are split over the pool instead.
/// `conv` packs one entry (f32 scaled, or widened to f64) and `tile` is the matching 8×8 kernel.
/// Returns `false` if an entry is not finite (checked while packing).
#[allow(clippy::too_many_arguments)]
fn gram_lane<P: Copy + Send + Sync>(
    a: &ArrayView2<'_, f32>,
    first_sb: usize,
    lanes: usize,
    conv: impl Fn(f32) -> P,
    tile: fn(&[P], &[P], usize, &mut [f64], usize),
    g_panels: &mut [Vec<f64>],
    packed: &mut Vec<P>,
    panel_parallel: bool,
) -> bool {
    let (n, _d) = a.dim();
    let kc = GRAM_KC;
    let np = g_panels.len();
    let panel_len = kc * GRAM_NR;
    let sb_rows = SUPER_BLOCKS * kc;
    // OR of "exponent all ones" (Inf/NaN) over every packed entry.
    let mut bad = 0u32;
    // Rows packed at a time: a whole superblock when its panels are split over the pool (one
    // fork/join per superblock), else one `kc` block (the packed panels stay in L2, and the
    // buffer is small and reused). The tiles see the same sub-blocks in the same order either
    // way, so the sums are the same bits.
    let unit = if panel_parallel { sb_rows } else { kc };
    let need = unit.div_ceil(kc) * np * panel_len;
    if packed.len() < need {
        packed.resize(need, conv(0.0));
    }
    let mut sb = first_sb;
    while sb * sb_rows < n {
        let sb_end = (sb * sb_rows + sb_rows).min(n);
        let mut r0 = sb * sb_rows;
        while r0 < sb_end {
            let rows = unit.min(sb_end - r0);
            let nsub = rows.div_ceil(kc);
            for r in 0..rows {
                let (s, rr) = (r / kc, r % kc);
                let base = s * np * panel_len + rr * GRAM_NR;
                let row = a.row(r0 + r);
                if let Some(src) = row.as_slice() {
                    for (p, chunk) in src.chunks(GRAM_NR).enumerate() {
                        let dst = &mut packed[base + p * panel_len..][..chunk.len()];
                        for (o, &v) in dst.iter_mut().zip(chunk) {
                            bad |= ((v.to_bits() >> 23) & 0xff == 0xff) as u32;
                            *o = conv(v);
                        }
                    }
                } else {
                    for (c, &v) in row.iter().enumerate() {
                        bad |= ((v.to_bits() >> 23) & 0xff == 0xff) as u32;
                        packed[base + (c / GRAM_NR) * panel_len + c % GRAM_NR] = conv(v);
                    }
                }
            }
            let packed_ref = &*packed;
            for_each_mut(g_panels, panel_parallel, |q, gq| {
                for s in 0..nsub {
                    let klen = kc.min(rows - s * kc);
                    let sub = &packed_ref[s * np * panel_len..(s + 1) * np * panel_len];
                    let bq = &sub[q * panel_len..(q + 1) * panel_len];
                    for p in 0..=q {
                        let ap = &sub[p * panel_len..(p + 1) * panel_len];
                        let out = &mut gq[p * GRAM_NR * GRAM_NR..];
                        tile(ap, bq, klen, out, GRAM_NR);
                    }
                }
            });
            r0 += rows;
        }
        sb += lanes;
    }
    bad == 0
}

/// `AᵀA` (d×d, f64) of an f32 matrix `A` (n×d, any strides) with the fast SIMD tile kernel.
/// Panics on non-finite entries (use [`gram`] for checked input).
pub fn gram_columns_f32(a: ArrayView2<'_, f32>, parallel: bool) -> Array2<f64> {
    let (n, d) = a.dim();
    let mut acc = GramF32Accumulator::new(d, n);
    acc.push_first(a, parallel).expect("finite input");
    let (g, e) = acc.into_lower();
    let f = 4f64.powi(e);
    mirror_lower(&g).mapv(|v| v * f)
}

fn mirror_lower(g: &Mat<f64>) -> Array2<f64> {
    let d = g.nrows();
    Array2::from_shape_fn((d, d), |(i, j)| if i >= j { g[(i, j)] } else { g[(j, i)] })
}

/// Rows per superblock (the unit of the lane split, and the alignment of streamed blocks).
pub const GRAM_SUPERBLOCK_ROWS: usize = SUPER_BLOCKS * GRAM_KC;

/// `AᵀA` of an f32 matrix `A` (n × d) fed **block by block** (row blocks, in order), with the
/// SIMD tile kernel.
///
/// Work split: rows are cut into superblocks of [`GRAM_SUPERBLOCK_ROWS`]; superblock `b` goes to
/// lane `b mod L`, each lane packs its own rows and accumulates its own `G_l`, and
/// `G = Σ_l G_l` in lane order. `L` depends only on the shape (≤ 8, and all `G_l` within
/// 64 MiB), never on the thread count or the block split, so the parallel result is
/// bit-identical to the sequential one, and a matrix fed in blocks whose lengths are multiples
/// of [`GRAM_SUPERBLOCK_ROWS`] gives the same bits as the whole matrix fed at once.
///
/// Scaling: every block is multiplied by `2^-e` (exact), `e = ⌊log₂ max|a|⌋ + 1` over the rows
/// seen so far; when a later block raises `e`, the accumulators are multiplied by `4^(e_old−e)`
/// (exact). So the result equals one global scaling except where an f32 product would have
/// been subnormal under one scaling and not the other (entries 2^60 below the maximum).
/// Memory: the lane accumulators (`L·d²/2` f64, ≤ 64 MiB unless `L = 1`) and one packed
/// superblock per lane; never the matrix.
///
/// **Exact mode** ([`GramF32Accumulator::new_exact`]): the packing widens each entry to f64 and
/// the f64 kernel ([`crate::kernels::gram_tile8_f64`]) sums the (exact) products in f64; no
/// scaling (`e = 0`: f32 products can neither overflow nor underflow in f64). Same lane split,
/// so also bit-identical whatever the thread count or the (superblock-aligned) block split.
/// In both modes the finiteness check is fused into the packing (one pass over the input); after
/// a `push` that fails on a non-finite entry the accumulator's contents are unspecified.
pub struct GramF32Accumulator {
    d: usize,
    np: usize,
    lanes: usize,
    exact: bool,
    states: Vec<LaneState>,
    rows_done: usize,
    e: Option<i32>,
}

struct LaneState {
    g: Vec<Vec<f64>>,
    packed32: Vec<f32>,
    packed64: Vec<f64>,
}

impl GramF32Accumulator {
    /// An accumulator for `n_total` rows of width `d` (`n_total` fixes the lane count), with the
    /// fast f32 kernel.
    pub fn new(d: usize, n_total: usize) -> Self {
        Self::with_mode(d, n_total, false)
    }

    /// Like [`GramF32Accumulator::new`], with the exact f64-accumulating kernel (see above).
    pub fn new_exact(d: usize, n_total: usize) -> Self {
        Self::with_mode(d, n_total, true)
    }

    fn with_mode(d: usize, n_total: usize, exact: bool) -> Self {
        let np = d.div_ceil(GRAM_NR);
        let panels_len: usize = (0..np).map(|q| (q + 1) * GRAM_NR * GRAM_NR).sum();
        let superblocks = n_total.div_ceil(GRAM_SUPERBLOCK_ROWS);
        let lanes = MAX_LANES
            .min(LANE_BUDGET / (panels_len * 8).max(1))
            .min(superblocks)
            .max(1);
        GramF32Accumulator {
            d,
            np,
            lanes,
            exact,
            states: Vec::new(),
            rows_done: 0,
            e: None,
        }
    }

    /// Rows fed so far.
    pub fn rows(&self) -> usize {
        self.rows_done
    }

    /// Adds the rows of `a` (`k × d`, any strides). Errors on a wrong width, non-finite entries,
    /// or a block that does not start on a superblock boundary (every block but the last must
    /// have a multiple of [`GRAM_SUPERBLOCK_ROWS`] rows).
    pub fn push(&mut self, a: ArrayView2<'_, f32>, parallel: bool) -> Result<()> {
        if a.ncols() != self.d {
            return Err(Error::Shape {
                expected: format!("a block of width {}", self.d),
                found: format!("{}×{}", a.nrows(), a.ncols()),
            });
        }
        if !self.rows_done.is_multiple_of(GRAM_SUPERBLOCK_ROWS) {
            return Err(Error::InvalidParameter {
                name: "block",
                reason: format!(
                    "a block after {} rows: every block but the last must hold a multiple of {GRAM_SUPERBLOCK_ROWS} rows",
                    self.rows_done
                ),
            });
        }
        self.push_first(a, parallel)
    }

    /// [`Self::push`] without the width/alignment checks (the caller guarantees them).
    fn push_first(&mut self, a: ArrayView2<'_, f32>, parallel: bool) -> Result<()> {
        let (n, d) = a.dim();
        if n == 0 || d == 0 {
            return Ok(());
        }
        let sb0 = self.rows_done / GRAM_SUPERBLOCK_ROWS;
        let (s1, s2) = if self.exact {
            self.e = Some(0);
            (1.0, 1.0)
        } else {
            // One pass for finiteness and max|a| (the scale is needed before packing).
            let m = finite_max_abs(a.view())?;
            if m == 0.0 {
                self.rows_done += n;
                return Ok(()); // zero rows add nothing
            }
            // f32 exponents span [-149, 128]; 2^-e may need two factors to stay representable.
            let e_b = m.log2().floor() as i32 + 1;
            match self.e {
                Some(e) if e_b > e => {
                    let (h1, h2) = (2f64.powi(e - e_b), 2f64.powi(e - e_b));
                    for st in &mut self.states {
                        for panel in &mut st.g {
                            for v in panel.iter_mut() {
                                *v = *v * h1 * h2;
                            }
                        }
                    }
                    self.e = Some(e_b);
                }
                None => self.e = Some(e_b),
                _ => {}
            }
            let e = self.e.unwrap_or(e_b);
            (2f32.powi(-e / 2), 2f32.powi(-e + e / 2))
        };
        self.rows_done += n;
        if self.states.is_empty() {
            // Packing buffers are sized by gram_lane on first use.
            self.states = (0..self.lanes)
                .map(|_| LaneState {
                    g: (0..self.np)
                        .map(|q| vec![0.0; (q + 1) * GRAM_NR * GRAM_NR])
                        .collect(),
                    packed32: Vec::new(),
                    packed64: Vec::new(),
                })
                .collect();
        }
        let lanes = self.lanes;
        let exact = self.exact;
        let a_ref = &a;
        let mut finite = vec![true; lanes];
        let mut work: Vec<(&mut LaneState, &mut bool)> =
            self.states.iter_mut().zip(finite.iter_mut()).collect();
        for_each_mut(&mut work, parallel && lanes > 1, |l, (st, ok)| {
            // The first local superblock whose global index is ≡ l (mod lanes).
            let first = (l + lanes - sb0 % lanes) % lanes;
            let panel_parallel = parallel && lanes == 1;
            **ok = if exact {
                gram_lane(
                    a_ref,
                    first,
                    lanes,
                    |v| v as f64,
                    gram_tile8_f64,
                    &mut st.g,
                    &mut st.packed64,
                    panel_parallel,
                )
            } else {
                gram_lane(
                    a_ref,
                    first,
                    lanes,
                    |v| v * s1 * s2,
                    gram_tile8_f32,
                    &mut st.g,
                    &mut st.packed32,
                    panel_parallel,
                )
            };
        });
        if finite.iter().all(|&ok| ok) {
            Ok(())
        } else {
            // Names the first non-finite entry.
            check_finite(a.view())?;
            unreachable!("a non-finite entry was packed")
        }
    }

    /// `(L, e)`: the lower triangle `L` of `S` (upper part zero) with `AᵀA = 4^e·S`.
    pub fn into_lower(self) -> (Mat<f64>, i32) {
        let d = self.d;
        let mut g = Mat::<f64>::zeros(d, d);
        let mut states = self.states.into_iter();
        let Some(first) = states.next() else {
            return (g, 0);
        };
        let mut panels = first.g;
        for st in states {
            for (acc, add) in panels.iter_mut().zip(&st.g) {
                for (x, y) in acc.iter_mut().zip(add) {
                    *x += y;
                }
            }
        }
        for j in 0..d {
            let gq = &panels[j / GRAM_NR];
            for i in 0..=j {
                g[(j, i)] = gq[i * GRAM_NR + j % GRAM_NR];
            }
        }
        (g, self.e.unwrap_or(0))
    }
}

/// `AᵀA` of an f64 matrix fed block by block (faer's triangular matmul, lower half, summed
/// over the blocks in order; blocks may have any number of rows).
///
/// Scaling as in the whole-matrix f64 path: entries stay as they are while `max|a|` is inside
/// `[1e-100, 1e100]`; a block beyond that is scaled by `2^-e` (exact) and the running sum by
/// `4^(e_old−e)`, so the sum never overflows. The result differs from one faer product over the
/// whole matrix only by the order of the f64 additions (≈ ε relative).
pub struct GramF64Accumulator {
    d: usize,
    g: Mat<f64>,
    e: i32,
    nonzero: bool,
    rows_done: usize,
}

impl GramF64Accumulator {
    /// An accumulator for rows of width `d` (`d × d` f64 of memory).
    pub fn new(d: usize) -> Self {
        GramF64Accumulator {
            d,
            g: Mat::zeros(d, d),
            e: 0,
            nonzero: false,
            rows_done: 0,
        }
    }

    /// Rows fed so far.
    pub fn rows(&self) -> usize {
        self.rows_done
    }

    /// Adds the rows of `a` (`k × d`, any strides; errors on a wrong width or non-finite entries).
    pub fn push(&mut self, a: ArrayView2<'_, f64>) -> Result<()> {
        use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
        if a.ncols() != self.d {
            return Err(Error::Shape {
                expected: format!("a block of width {}", self.d),
                found: format!("{}×{}", a.nrows(), a.ncols()),
            });
        }
        let m = finite_max_abs(a.view())?;
        self.rows_done += a.nrows();
        if m == 0.0 || a.nrows() == 0 {
            return Ok(());
        }
        let scaled_max = m * 2f64.powi(-self.e);
        if scaled_max > 1e100 || (!self.nonzero && m < 1e-100) {
            let e_b = m.log2().floor() as i32 + 1;
            if self.nonzero {
                let h = 2f64.powi(self.e - e_b);
                let d = self.d;
                for j in 0..d {
                    for i in j..d {
                        self.g[(i, j)] = self.g[(i, j)] * h * h;
                    }
                }
            }
            self.e = e_b;
        }
        self.nonzero = true;
        let scaled;
        let view = if self.e != 0 {
            let s = 2f64.powi(-self.e);
            scaled = a.mapv(|v| v * s);
            scaled.view()
        } else {
            a
        };
        let fa = as_faer(&view);
        tri_matmul(
            self.g.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Add,
            fa.transpose(),
            BlockStructure::Rectangular,
            fa,
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        Ok(())
    }

    /// `(L, e)`: the lower triangle of `S` with `AᵀA = 4^e·S`.
    pub fn into_lower(self) -> (Mat<f64>, i32) {
        (self.g, self.e)
    }
}

/// Eigenvalues (ascending, unscaled by `4^e`) of the symmetric matrix whose lower triangle is
/// `lower` (as returned by the accumulators' `into_lower`).
pub fn lower_gram_eigenvalues(lower: Mat<f64>, e: i32) -> Result<Vec<f64>> {
    if lower.nrows() == 0 {
        return Ok(Vec::new());
    }
    let ev = lower_symmetric_eigenvalues_owned(lower)?;
    unscale(ev.into_iter(), e, "an eigenvalue of the Gram matrix")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRng;
    use ndarray::s;

    /// Heavy-tailed f32 entries over many binades (t-like: normal / |normal|^0.7).
    fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut rng = SeededRng::new(seed);
        Array2::from_shape_fn((rows, cols), |_| {
            let z = rng.normal();
            let d = rng.normal().abs().max(1e-3).powf(0.7);
            (0.02 * z / d) as f32
        })
    }

    /// Naive `AᵀA` of the widened matrix, summed in f64 row by row, with `Σ|a·b|` per entry.
    fn naive(a: ArrayView2<'_, f32>) -> (Array2<f64>, Array2<f64>) {
        let (n, d) = a.dim();
        let mut g = Array2::<f64>::zeros((d, d));
        let mut abs = Array2::<f64>::zeros((d, d));
        for r in 0..n {
            for i in 0..d {
                let x = a[(r, i)] as f64;
                for j in 0..d {
                    let p = x * a[(r, j)] as f64;
                    g[(i, j)] += p;
                    abs[(i, j)] += p.abs();
                }
            }
        }
        (g, abs)
    }

    #[test]
    fn exact_f32_gram_matches_the_widened_f64_sum() {
        // Shapes: one partial superblock, several superblocks (lanes), ragged widths, wide.
        for &(n, d, seed) in &[
            (7usize, 3usize, 1u64),
            (300, 20, 2),
            (2100, 13, 3),
            (9, 40, 4),
        ] {
            let a = matrix(n, d, seed);
            let got = gram_exact(a.view(), &GramParams { parallel: false }).unwrap();
            let (want, abs) = if n >= d {
                naive(a.view())
            } else {
                naive(a.t())
            };
            for ((g, w), s) in got.iter().zip(&want).zip(&abs) {
                // Only the order of f64 additions differs: ≤ (n+2)·ε·Σ|a·b|.
                assert!(
                    (g - w).abs() <= (n as f64 + 2.0) * f64::EPSILON * s,
                    "{n}×{d}"
                );
            }
            // Symmetric, and the fast f32 kernel is a different (coarser) computation.
            assert_eq!(got, got.t());
        }
    }

    #[test]
    fn exact_f32_gram_is_thread_and_block_invariant() {
        let a = matrix(3 * GRAM_SUPERBLOCK_ROWS + 77, 24, 9);
        let seq = gram_exact(a.view(), &GramParams { parallel: false }).unwrap();
        let par = gram_exact(a.view(), &GramParams { parallel: true }).unwrap();
        assert_eq!(seq, par);
        // Fed in superblock-aligned blocks: the same bits.
        let mut acc = GramF32Accumulator::new_exact(24, a.nrows());
        acc.push(a.slice(s![..GRAM_SUPERBLOCK_ROWS, ..]), false)
            .unwrap();
        acc.push(a.slice(s![GRAM_SUPERBLOCK_ROWS.., ..]), true)
            .unwrap();
        let (lower, e) = acc.into_lower();
        assert_eq!(e, 0);
        assert_eq!(mirror_lower(&lower), seq);
        // A strided (transposed) view gives the same bits as the contiguous copy.
        let t = a.t().to_owned();
        let via_t = gram_exact(t.view(), &GramParams { parallel: false }).unwrap();
        assert_eq!(via_t, seq);
        // Eigenvalues equal those of the f64 Gram of the widened matrix to f64 rounding.
        let ev = gram_eigenvalues_exact(a.view(), &GramParams::default()).unwrap();
        let ev64 = gram_eigenvalues(a.mapv(|v| v as f64).view(), &GramParams::default()).unwrap();
        let top = ev64[ev64.len() - 1];
        for (x, y) in ev.iter().zip(&ev64) {
            assert!((x - y).abs() <= 1e-12 * top, "{x} vs {y}");
        }
    }

    #[test]
    fn exact_f32_gram_names_the_first_non_finite_entry() {
        let mut a = matrix(1500, 9, 5);
        a[(1200, 4)] = f32::NAN;
        a[(1300, 2)] = f32::INFINITY;
        for parallel in [false, true] {
            match gram_exact(a.view(), &GramParams { parallel }) {
                Err(Error::NonFinite { row, col, .. }) => assert_eq!((row, col), (1200, 4)),
                other => panic!("expected NonFinite, got {other:?}"),
            }
        }
        // Subnormal and huge finite f32 entries are fine (products are exact in f64).
        let mut b = Array2::<f32>::zeros((20, 2));
        b[(0, 0)] = f32::MAX;
        b[(1, 1)] = f32::from_bits(1); // smallest subnormal
        let g = gram_exact(b.view(), &GramParams::default()).unwrap();
        assert_eq!(g[(0, 0)], (f32::MAX as f64) * (f32::MAX as f64));
        assert_eq!(g[(1, 1)], (f32::from_bits(1) as f64).powi(2));
    }
}

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
use super::real::{check_finite, max_abs};
use super::tridiag::lower_symmetric_eigenvalues_f64;
use super::Real;
use crate::kernels::{gram_tile8_f32, GRAM_KC, GRAM_NR};
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
    /// `(S, e)` with `AᵀA = 4^e · S` for `A` of shape `n × d` (any strides, finite entries);
    /// `e` is chosen so that `S` is comfortably inside the f64 (and f32) range.
    fn gram_columns_scaled(a: ArrayView2<'_, Self>, parallel: bool) -> (Array2<f64>, i32);
}

impl GramInput for f32 {
    fn gram_columns_scaled(a: ArrayView2<'_, f32>, parallel: bool) -> (Array2<f64>, i32) {
        gram_columns_f32_scaled(a, parallel)
    }
}

impl GramInput for f64 {
    fn gram_columns_scaled(a: ArrayView2<'_, f64>, _parallel: bool) -> (Array2<f64>, i32) {
        let m = max_abs(a.view());
        if m != 0.0 && !(1e-100..=1e100).contains(&m) {
            let e = m.log2().floor() as i32 + 1;
            let s = 2f64.powi(-e);
            let scaled = a.mapv(|v| v * s);
            return (gram_f64_faer(scaled.view()), e);
        }
        (gram_f64_faer(a), 0)
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

/// `AᵀA` with faer's triangular matmul (lower half only, then mirrored: half the flops).
fn gram_f64_faer(a: ArrayView2<'_, f64>) -> Array2<f64> {
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
    Array2::from_shape_fn((d, d), |(i, j)| if i >= j { g[(i, j)] } else { g[(j, i)] })
}

fn gram_scaled<T: GramInput>(
    w: ArrayView2<'_, T>,
    params: &GramParams,
) -> Result<(Array2<f64>, i32)> {
    let (n, m) = w.dim();
    if n == 0 || m == 0 {
        return Err(Error::Empty { rows: n, cols: m });
    }
    check_finite(w.view())?;
    Ok(if n >= m {
        T::gram_columns_scaled(w, params.parallel)
    } else {
        T::gram_columns_scaled(w.t(), params.parallel)
    })
}

/// The smaller Gram matrix of `W` (see the module doc). Errors on empty or non-finite input,
/// and with [`Error::Overflow`] when an entry of the Gram exceeds the f64 range.
pub fn gram<T: GramInput>(w: ArrayView2<'_, T>, params: &GramParams) -> Result<Array2<f64>> {
    let (g, e) = gram_scaled(w, params)?;
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
pub fn gram_eigenvalues<T: GramInput>(
    w: ArrayView2<'_, T>,
    params: &GramParams,
) -> Result<Array1<f64>> {
    let (g, e) = gram_scaled(w, params)?;
    let ev = lower_symmetric_eigenvalues_f64(as_faer(&g.view()))?;
    Ok(Array1::from_vec(unscale(
        ev.into_iter(),
        e,
        "an eigenvalue of the Gram matrix",
    )?))
}

/// Rows per superblock: packed once, then multiplied into one lane's accumulator.
const SUPER_BLOCKS: usize = 8;
/// Most lanes (independent row streams with their own accumulator).
const MAX_LANES: usize = 8;
/// Memory cap for all lane accumulators together (bytes).
const LANE_BUDGET: usize = 64 << 20;

/// Multiplies superblocks `lane, lane + lanes, …` of `a` into the column panels `g_panels`.
/// With `panel_parallel`, the panels of each superblock are split over the pool instead.
#[allow(clippy::too_many_arguments)]
fn gram_lane(
    a: &ArrayView2<'_, f32>,
    first_sb: usize,
    lanes: usize,
    s1: f32,
    s2: f32,
    g_panels: &mut [Vec<f64>],
    packed: &mut [f32],
    panel_parallel: bool,
) {
    let (n, _d) = a.dim();
    let kc = GRAM_KC;
    let np = g_panels.len();
    let panel_len = kc * GRAM_NR;
    let sb_rows = SUPER_BLOCKS * kc;
    let mut sb = first_sb;
    while sb * sb_rows < n {
        let r0 = sb * sb_rows;
        let rows = sb_rows.min(n - r0);
        let nsub = rows.div_ceil(kc);
        for r in 0..rows {
            let (s, rr) = (r / kc, r % kc);
            let base = s * np * panel_len + rr * GRAM_NR;
            let row = a.row(r0 + r);
            if let Some(src) = row.as_slice() {
                for (p, chunk) in src.chunks(GRAM_NR).enumerate() {
                    let dst = &mut packed[base + p * panel_len..][..chunk.len()];
                    for (o, &v) in dst.iter_mut().zip(chunk) {
                        *o = v * s1 * s2;
                    }
                }
            } else {
                for (c, &v) in row.iter().enumerate() {
                    packed[base + (c / GRAM_NR) * panel_len + c % GRAM_NR] = v * s1 * s2;
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
                    gram_tile8_f32(ap, bq, klen, out, GRAM_NR);
                }
            }
        });
        sb += lanes;
    }
}

/// `AᵀA` (d×d, f64) of an f32 matrix `A` (n×d, any strides, finite) with the SIMD tile kernel.
pub fn gram_columns_f32(a: ArrayView2<'_, f32>, parallel: bool) -> Array2<f64> {
    let (g, e) = gram_columns_f32_scaled(a, parallel);
    let f = 4f64.powi(e);
    g.mapv(|v| v * f)
}

/// `(S, e)` with `AᵀA = 4^e·S`: the input is scaled by `2^-e` (exact) so `max|a| ∈ [0.5, 1)`.
/// One [`GramF32Accumulator`] fed the whole matrix at once.
fn gram_columns_f32_scaled(a: ArrayView2<'_, f32>, parallel: bool) -> (Array2<f64>, i32) {
    let (n, d) = a.dim();
    let mut acc = GramF32Accumulator::new(d, n);
    acc.push_unchecked(a, parallel);
    let (g, e) = acc.into_lower();
    (mirror_lower(&g), e)
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
pub struct GramF32Accumulator {
    d: usize,
    np: usize,
    lanes: usize,
    states: Vec<LaneState>,
    rows_done: usize,
    e: Option<i32>,
}

struct LaneState {
    g: Vec<Vec<f64>>,
    packed: Vec<f32>,
}

impl GramF32Accumulator {
    /// An accumulator for `n_total` rows of width `d` (`n_total` fixes the lane count).
    pub fn new(d: usize, n_total: usize) -> Self {
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
        check_finite(a.view())?;
        self.push_unchecked(a, parallel);
        Ok(())
    }

    fn push_unchecked(&mut self, a: ArrayView2<'_, f32>, parallel: bool) {
        let (n, d) = a.dim();
        if n == 0 || d == 0 {
            return;
        }
        let m = max_abs(a.view());
        let sb0 = self.rows_done / GRAM_SUPERBLOCK_ROWS;
        self.rows_done += n;
        if m == 0.0 {
            return; // zero rows add nothing
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
        let (s1, s2) = (2f32.powi(-e / 2), 2f32.powi(-e + e / 2));
        if self.states.is_empty() {
            let packed_len = SUPER_BLOCKS * self.np * GRAM_KC * GRAM_NR;
            self.states = (0..self.lanes)
                .map(|_| LaneState {
                    g: (0..self.np)
                        .map(|q| vec![0.0; (q + 1) * GRAM_NR * GRAM_NR])
                        .collect(),
                    packed: vec![0f32; packed_len],
                })
                .collect();
        }
        let lanes = self.lanes;
        let a_ref = &a;
        for_each_mut(&mut self.states, parallel && lanes > 1, |l, st| {
            // The first local superblock whose global index is ≡ l (mod lanes).
            let first = (l + lanes - sb0 % lanes) % lanes;
            gram_lane(
                a_ref,
                first,
                lanes,
                s1,
                s2,
                &mut st.g,
                &mut st.packed,
                parallel && lanes == 1,
            );
        });
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
        drop(first.packed);
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
        check_finite(a.view())?;
        self.rows_done += a.nrows();
        let m = max_abs(a.view());
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
    let ev = lower_symmetric_eigenvalues_f64(lower.as_ref())?;
    drop(lower);
    unscale(ev.into_iter(), e, "an eigenvalue of the Gram matrix")
}

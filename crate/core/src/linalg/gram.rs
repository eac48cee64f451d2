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
use super::eigen::symmetric_eigenvalues;
use super::real::{check_finite, max_abs};
use super::Real;
use crate::kernels::{gram_tile_f32, GRAM_KC, GRAM_MR, GRAM_NR};
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
    let ev = symmetric_eigenvalues(g.view())?;
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
    lane: usize,
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
    let mut sb = lane;
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
                    for t in (0..GRAM_NR).step_by(GRAM_MR) {
                        let out = &mut gq[(p * GRAM_NR + t) * GRAM_NR..];
                        gram_tile_f32(&ap[t..], bq, klen, out, GRAM_NR);
                    }
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
///
/// Work split: rows are cut into superblocks of 1024; superblock `b` goes to lane `b mod L`, each
/// lane packs its own rows and accumulates its own `G_l`, and `G = Σ_l G_l` in lane order. `L`
/// depends only on the shape (≤ 8, and all `G_l` within 64 MiB), never on the thread count, so
/// the parallel result is bit-identical to the sequential one. Lanes run in parallel; with a
/// single lane (huge `d`) the column panels of each superblock are split instead.
fn gram_columns_f32_scaled(a: ArrayView2<'_, f32>, parallel: bool) -> (Array2<f64>, i32) {
    let (n, d) = a.dim();
    let m = max_abs(a.view());
    if m == 0.0 || n == 0 || d == 0 {
        return (Array2::zeros((d, d)), 0);
    }
    // f32 exponents span [-149, 128]; 2^-e may need two factors to stay representable.
    let e = m.log2().floor() as i32 + 1;
    let (s1, s2) = (2f32.powi(-e / 2), 2f32.powi(-e + e / 2));

    let np = d.div_ceil(GRAM_NR);
    let panels_len: usize = (0..np).map(|q| (q + 1) * GRAM_NR * GRAM_NR).sum();
    let superblocks = n.div_ceil(SUPER_BLOCKS * GRAM_KC);
    let lanes = MAX_LANES
        .min(LANE_BUDGET / (panels_len * 8).max(1))
        .min(superblocks)
        .max(1);
    let packed_len = SUPER_BLOCKS * np * GRAM_KC * GRAM_NR;
    struct Lane {
        g: Vec<Vec<f64>>,
        packed: Vec<f32>,
    }
    let mut states: Vec<Lane> = (0..lanes)
        .map(|_| Lane {
            g: (0..np)
                .map(|q| vec![0.0; (q + 1) * GRAM_NR * GRAM_NR])
                .collect(),
            packed: vec![0f32; packed_len],
        })
        .collect();
    let a_ref = &a;
    for_each_mut(&mut states, parallel && lanes > 1, |l, st| {
        gram_lane(
            a_ref,
            l,
            lanes,
            s1,
            s2,
            &mut st.g,
            &mut st.packed,
            parallel && lanes == 1,
        );
    });
    let mut g_panels = std::mem::take(&mut states[0].g);
    for st in &states[1..] {
        for (acc, add) in g_panels.iter_mut().zip(&st.g) {
            for (x, y) in acc.iter_mut().zip(add) {
                *x += y;
            }
        }
    }

    let mut g = Array2::<f64>::zeros((d, d));
    for j in 0..d {
        let gq = &g_panels[j / GRAM_NR];
        for i in 0..=j {
            let v = gq[i * GRAM_NR + j % GRAM_NR];
            g[(i, j)] = v;
            g[(j, i)] = v;
        }
    }
    (g, e)
}

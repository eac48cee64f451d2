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
use faer::linalg::matmul::matmul;
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

/// Element types with a Gram implementation (`AᵀA` of any-strided `A`, f64 result).
pub trait GramInput: Real {
    /// `AᵀA` for `A` of shape `n × d` (any strides, finite entries).
    fn gram_columns(a: ArrayView2<'_, Self>, parallel: bool) -> Array2<f64>;
}

impl GramInput for f32 {
    fn gram_columns(a: ArrayView2<'_, f32>, parallel: bool) -> Array2<f64> {
        gram_columns_f32(a, parallel)
    }
}

impl GramInput for f64 {
    fn gram_columns(a: ArrayView2<'_, f64>, _parallel: bool) -> Array2<f64> {
        let m = max_abs(a.view());
        if m != 0.0 && !(1e-100..=1e100).contains(&m) {
            let e = m.log2().floor() as i32 + 1;
            let s = 2f64.powi(-e);
            let scaled = a.mapv(|v| v * s);
            let g = gram_f64_faer(scaled.view());
            return g.mapv(|v| v * 4f64.powi(e));
        }
        gram_f64_faer(a)
    }
}

fn gram_f64_faer(a: ArrayView2<'_, f64>) -> Array2<f64> {
    let d = a.ncols();
    let fa = as_faer(&a);
    let mut g = Mat::<f64>::zeros(d, d);
    matmul(g.as_mut(), Accum::Replace, fa.transpose(), fa, 1.0, Par::Seq);
    Array2::from_shape_fn((d, d), |(i, j)| g[(i, j)])
}

/// The smaller Gram matrix of `W` (see the module doc). Errors on empty or non-finite input.
pub fn gram<T: GramInput>(w: ArrayView2<'_, T>, params: &GramParams) -> Result<Array2<f64>> {
    let (n, m) = w.dim();
    if n == 0 || m == 0 {
        return Err(Error::Empty { rows: n, cols: m });
    }
    check_finite(w.view())?;
    Ok(if n >= m {
        T::gram_columns(w, params.parallel)
    } else {
        T::gram_columns(w.t(), params.parallel)
    })
}

/// Eigenvalues of the smaller Gram of `W`, ascending: the `min(N, M)` values `σᵢ²`.
/// Round-off can leave the smallest slightly negative (|λ| ≲ ε·λ_max); they are returned as is.
pub fn gram_eigenvalues<T: GramInput>(
    w: ArrayView2<'_, T>,
    params: &GramParams,
) -> Result<Array1<f64>> {
    let g = gram(w, params)?;
    symmetric_eigenvalues(g.view())
}

/// Rows per superblock: packed once, then shared by all column-panel tasks.
const SUPER_BLOCKS: usize = 8;

/// `AᵀA` (d×d, f64) of an f32 matrix `A` (n×d, any strides, finite) with the SIMD tile kernel.
pub fn gram_columns_f32(a: ArrayView2<'_, f32>, parallel: bool) -> Array2<f64> {
    let (n, d) = a.dim();
    if d == 0 {
        return Array2::zeros((0, 0));
    }
    let m = max_abs(a.view());
    if m == 0.0 || n == 0 {
        return Array2::zeros((d, d));
    }
    // Power-of-two scale: exact, puts max|a| in [0.5, 1).
    let e = m.log2().floor() as i32 + 1;
    let scale = 2f32.powi(-e.clamp(-126, 127));
    let unscale = 4f64.powi(e.clamp(-126, 127));

    let kc = GRAM_KC;
    let np = d.div_ceil(GRAM_NR);
    let panel_len = kc * GRAM_NR;
    // Column panel q of G holds rows 0..8(q+1) (upper triangle), 8 columns, row-major.
    let mut g_panels: Vec<Vec<f64>> =
        (0..np).map(|q| vec![0.0; (q + 1) * GRAM_NR * GRAM_NR]).collect();
    let mut packed = vec![0f32; SUPER_BLOCKS * np * panel_len];

    let mut r0 = 0;
    while r0 < n {
        let rows = (SUPER_BLOCKS * kc).min(n - r0);
        let nsub = rows.div_ceil(kc);
        for r in 0..rows {
            let (s, rr) = (r / kc, r % kc);
            let base = s * np * panel_len + rr * GRAM_NR;
            let row = a.row(r0 + r);
            if let Some(src) = row.as_slice() {
                for (p, chunk) in src.chunks(GRAM_NR).enumerate() {
                    let dst = &mut packed[base + p * panel_len..][..chunk.len()];
                    for (o, &v) in dst.iter_mut().zip(chunk) {
                        *o = v * scale;
                    }
                }
            } else {
                for (c, &v) in row.iter().enumerate() {
                    packed[base + (c / GRAM_NR) * panel_len + c % GRAM_NR] = v * scale;
                }
            }
        }
        let packed_ref = &packed;
        for_each_mut(&mut g_panels, parallel, |q, gq| {
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
        r0 += rows;
    }

    let mut g = Array2::<f64>::zeros((d, d));
    for j in 0..d {
        let gq = &g_panels[j / GRAM_NR];
        for i in 0..=j {
            let v = gq[i * GRAM_NR + j % GRAM_NR] * unscale;
            g[(i, j)] = v;
            g[(j, i)] = v;
        }
    }
    g
}

//! FARMS — Fixed-Aspect-Ratio Matrix Subsampling (Hu et al., ICML 2025).
//!
//! Classic HT-SR metrics depend on a layer's aspect ratio `Q = N/M`; FARMS measures every layer
//! through windows of one fixed shape and pools their spectra.
//!
//! **Dense layers** (the official LLM code's `fixed_sampling`), on `W` *as stored* (`r × c`):
//! - window `n_r × n_c` with `n_r = min(window_rows, r, c)` and `n_c = ⌊n_r·Q⌋` (`Q` = window
//!   columns ÷ rows; clamped to `c`, where the anchor would slice out of range);
//! - `s` windows per dimension: steps `Δr = max(1, ⌊(r − n_r)/(s − 1)⌋)`, count
//!   `K_r = min(s, max(1, ⌊(r − n_r)/Δr⌋ + 1))`, starts `min(i·Δr, r − n_r)` (likewise columns) —
//!   an evenly spread grid whose last start is clamped to the edge;
//! - the FARMS ESD is the sorted union of the `K_r·K_c` window ESDs (each `σ(W_ij)²`), i.e. the
//!   average ESD; one heavy-tail fit on it.
//!
//! **Conv2D** (the CV code): each tall slice `S` (`r ≥ c`, ×√½); block shape `h × w` with
//! `h = ⌊c/Q⌋, w = c` if `Q > 1`, else `h = c, w = ⌊c·Q⌋`; `⌊r/c⌋` blocks down the tall side;
//! block `d` pools `σ²(S[d·h..(d+1)·h, ..w])` over all slices; the layer α is the **mean** of
//! the block α's.
//!
//! Tail estimator: Hill/MLE at the median (`xmin_pos = 2`, the CV default) or `xmin_peak` (the
//! LLM default), see [`super::power_law`]; no eigenvalue threshold (`filter_zeros = False`).
//! Defaults: `window_rows = 100`, `Q = 1`, `s = 9` (the authors' CNN settings; they used
//! 2000-row windows and `s = 15` for LLaMA).

use super::layers::{layer_slices, slice_esd, LayerKind};
use super::power_law::{fit_power_law, PowerLawParams, XminMethod};
use crate::linalg::{GramInput, GramParams};
use crate::{Error, Result};
use ndarray::{s, ArrayViewD};
use serde::Serialize;

/// Parameters of FARMS (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct FarmsParams {
    pub window_rows: usize,
    pub q: f64,
    pub windows_per_dim: usize,
    pub xmin_method: XminMethod,
}

impl Default for FarmsParams {
    fn default() -> Self {
        FarmsParams {
            window_rows: 100,
            q: 1.0,
            windows_per_dim: 9,
            xmin_method: XminMethod::Median,
        }
    }
}

/// FARMS result for one layer.
#[derive(Debug, Clone, Serialize)]
pub struct FarmsReport {
    pub alpha: f64,
    pub xmin: f64,
    #[serde(rename = "D")]
    pub d: f64,
    pub spectral_norm: f64,
    pub stable_rank: f64,
    pub num_windows: usize,
    pub window_rows: usize,
    pub window_cols: usize,
    pub num_evals: usize,
}

/// Window starts along one dimension of length `len` for windows of `win` (see the module doc).
pub fn window_starts(len: usize, win: usize, s: usize) -> Vec<usize> {
    if win >= len || s <= 1 {
        return vec![0];
    }
    let span = len - win;
    let step = (span / (s - 1)).max(1);
    let count = s.min((span / step + 1).max(1));
    (0..count).map(|i| (i * step).min(span)).collect()
}

/// Hill-type fit of a pooled ESD with the FARMS x_min choice.
fn tail_fit(evals: &[f64], method: XminMethod) -> Result<(f64, f64, f64)> {
    let p = PowerLawParams {
        xmin_method: method,
        evals_thresh: None,
        keep_scan: false,
    };
    let f = fit_power_law(evals, &p)?;
    Ok((f.alpha, f.xmin, f.d))
}

/// FARMS analysis of a layer tensor (f32 with the fast Gram; see [`farms_layer_mode`]).
pub fn farms_layer<T: GramInput>(
    t: ArrayViewD<'_, T>,
    kind: LayerKind,
    params: &FarmsParams,
    gram: &GramParams,
) -> Result<FarmsReport> {
    farms_layer_mode(t, kind, params, gram, false)
}

/// FARMS analysis of a layer tensor; `exact`: f32 windows get the exact Gram.
pub fn farms_layer_mode<T: GramInput>(
    t: ArrayViewD<'_, T>,
    kind: LayerKind,
    params: &FarmsParams,
    gram: &GramParams,
    exact: bool,
) -> Result<FarmsReport> {
    if params.q.is_nan() || params.q <= 0.0 || params.window_rows == 0 {
        return Err(Error::InvalidParameter {
            name: "farms",
            reason: "window_rows ≥ 1 and Q > 0 required".into(),
        });
    }
    match kind {
        LayerKind::Dense => {
            let w = layer_slices(&t, kind)?.remove(0);
            let (r, c) = w.dim();
            farms_dense_bands(r, c, params, gram, exact, &mut |a, nr| {
                Ok(w.slice(s![a..a + nr, ..]).to_owned())
            })
        }
        LayerKind::Conv2d => {
            let slices = layer_slices(&t, kind)?;
            let tall: Vec<_> = slices
                .into_iter()
                .map(|s| {
                    if s.nrows() >= s.ncols() {
                        s
                    } else {
                        s.reversed_axes()
                    }
                })
                .collect();
            let (r, c) = tall[0].dim();
            let (h, w) = if params.q > 1.0 {
                (((c as f64) / params.q).floor() as usize, c)
            } else {
                (c, ((c as f64) * params.q).floor() as usize)
            };
            let (h, w) = (h.max(1), w.clamp(1, c));
            let blocks = (r / c).max(1);
            let (mut sa, mut sx, mut sd, mut sn, mut ss, mut count) =
                (0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
            for d in 0..blocks {
                if (d + 1) * h > r {
                    break;
                }
                let mut pooled = Vec::new();
                for sl in &tall {
                    let blk = sl.slice(s![d * h..(d + 1) * h, ..w]);
                    pooled.extend(
                        slice_esd(blk, gram, exact)?
                            .iter()
                            .map(|v| (0.5 * v).max(0.0)),
                    );
                }
                pooled.sort_by(f64::total_cmp);
                let (alpha, xmin, dd) = tail_fit(&pooled, params.xmin_method)?;
                let smax = *pooled.last().unwrap_or(&0.0);
                sa += alpha;
                sx += xmin;
                sd += dd;
                sn += smax;
                ss += pooled.iter().sum::<f64>() / smax;
                count += 1;
            }
            let k = count.max(1) as f64;
            Ok(FarmsReport {
                alpha: sa / k,
                xmin: sx / k,
                d: sd / k,
                spectral_norm: sn / k,
                stable_rank: ss / k,
                num_windows: count,
                window_rows: h,
                window_cols: w,
                num_evals: count * tall.len() * h.min(w),
            })
        }
    }
}

/// FARMS of a dense `r × c` matrix read as **row bands**: `fetch(start, rows)` returns rows
/// `start .. start + rows` (all columns). Only the `K_r` bands of `n_r` rows that hold windows
/// are fetched, so a matrix larger than memory needs `n_r · c` elements at a time. Same windows,
/// order and pooling as [`farms_layer`] (see the module doc).
pub fn farms_dense_bands<T: GramInput>(
    r: usize,
    c: usize,
    params: &FarmsParams,
    gram: &GramParams,
    exact: bool,
    fetch: &mut dyn FnMut(usize, usize) -> Result<ndarray::Array2<T>>,
) -> Result<FarmsReport> {
    if params.q.is_nan() || params.q <= 0.0 || params.window_rows == 0 {
        return Err(Error::InvalidParameter {
            name: "farms",
            reason: "window_rows ≥ 1 and Q > 0 required".into(),
        });
    }
    let nr = params.window_rows.min(r).min(c);
    let nc = ((nr as f64 * params.q).floor() as usize).clamp(1, c);
    let rows = window_starts(r, nr, params.windows_per_dim);
    let cols = window_starts(c, nc, params.windows_per_dim);
    let mut pooled = Vec::with_capacity(rows.len() * cols.len() * nr.min(nc));
    for &a in &rows {
        let band = fetch(a, nr)?;
        // Windows are independent: the threaded build runs them in parallel; pooling keeps
        // the window order, so the result does not depend on the thread count.
        let per_window = crate::parallel::map_collect(&cols, gram.parallel, |&b| {
            slice_esd(
                band.slice(s![.., b..b + nc]),
                &GramParams { parallel: false },
                exact,
            )
        });
        for ev in per_window {
            pooled.extend(ev?.iter().map(|v| v.max(0.0)));
        }
    }
    pooled.sort_by(f64::total_cmp);
    let (alpha, xmin, d) = tail_fit(&pooled, params.xmin_method)?;
    let smax = *pooled.last().unwrap_or(&0.0);
    Ok(FarmsReport {
        alpha,
        xmin,
        d,
        spectral_norm: smax,
        stable_rank: pooled.iter().sum::<f64>() / smax,
        num_windows: rows.len() * cols.len(),
        window_rows: nr,
        window_cols: nc,
        num_evals: pooled.len(),
    })
}

//! Streaming layer analysis: a dense layer read in **row blocks** (or column strips), never whole.
//!
//! For an `r × c` weight `W` with `r ≥ c` the Gram `G = WᵀW = Σ_b W_bᵀ W_b` is accumulated over
//! row blocks `W_b`; for `r < c`, `G = WWᵀ = Σ_s W_{:,s} W_{:,s}ᵀ` over column strips. Memory
//! for one layer: the `m × m` Gram (`m = min(r, c)`), its eigen workspace, and one block of
//! [`StreamParams::block_bytes`], whatever `max(r, c)` is.
//!
//! - **Same numbers as the whole-tensor path.** Blocks hold multiples of
//!   [`GRAM_SUPERBLOCK_ROWS`] rows, so the f32 Gram (`exact = false`) is bit-identical to the
//!   whole-matrix kernel ([`GramF32Accumulator`]); the f64 Gram (`exact = true`, the default)
//!   differs only by the order of f64 additions (≈ 1e-16 relative).
//! - **Noise floor.** Where the whole path would switch to an f64 SVD (eigenvalues below the
//!   Gram's noise floor, see [`super::layers`]), the streamed path reads the tensor whole if it is
//!   at most [`StreamParams::whole_bytes`] (then the row equals the whole path's); otherwise the
//!   Gram eigenvalues are kept and the row's `reason` says so.
//! - **FARMS** reads only the row bands that hold its windows ([`farms_dense_bands`]).
//! - **Randomization** permutes all of `W`: it reads the tensor whole up to
//!   [`StreamParams::whole_bytes`] and is refused by name beyond.

use std::ops::Range;

use super::analyze::{analyze_layer, report_from_esd, AnalyzeParams, LayerReport};
use super::farms::farms_dense_bands;
use super::layers::{LayerEsd, LayerKind, LayerPlan};
use super::metrics::matrix_rank;
use crate::formats::TensorData;
use crate::linalg::{
    lower_gram_eigenvalues, GramF32Accumulator, GramF64Accumulator, GRAM_SUPERBLOCK_ROWS,
};
use crate::{Error, Result};
use ndarray::Array2;

/// Limits of the streaming path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamParams {
    /// Tensors whose decoded size (f32/f64) exceeds this are streamed; smaller ones are read
    /// whole (cheaper, and they can be analysed in parallel over layers). Default 64 MiB.
    pub stream_above_bytes: u64,
    /// Target size of one decoded block in f64 (rounded to whole superblocks). Default 16 MiB.
    pub block_bytes: u64,
    /// Largest tensor (decoded bytes) read whole: by the streamed path for the SVD fallback and
    /// randomization, and by the session for layers that cannot be streamed (deflated `.npz`
    /// members, Fortran order). Default 1 GiB natively, 512 MiB on wasm32.
    pub whole_bytes: u64,
}

impl Default for StreamParams {
    fn default() -> Self {
        StreamParams {
            stream_above_bytes: 64 << 20,
            block_bytes: 16 << 20,
            // wasm32 has a 4 GiB address space for everything: a whole tensor, its f64 copy and
            // the analysis scratch must fit beside the rest.
            whole_bytes: if cfg!(target_arch = "wasm32") {
                512 << 20
            } else {
                1 << 30
            },
        }
    }
}

/// Reads a block `rows × cols` of a tensor seen as a matrix, decoded (2-D [`TensorData`]).
pub type BlockFn<'a> = dyn Fn(Range<usize>, Range<usize>) -> Result<TensorData> + 'a;

fn to_f64(d: TensorData) -> Array2<f64> {
    let a = match d {
        TensorData::F32(a) => a.mapv(|v| v as f64),
        TensorData::F64(a) => a,
    };
    let shape = (a.shape()[0], a.shape()[1]);
    a.into_shape_with_order(shape).expect("2-D block")
}

fn to_f32(d: TensorData) -> Option<Array2<f32>> {
    match d {
        TensorData::F32(a) => {
            let shape = (a.shape()[0], a.shape()[1]);
            Some(a.into_shape_with_order(shape).expect("2-D block"))
        }
        TensorData::F64(_) => None,
    }
}

/// Eigenvalues (ascending) of the smaller Gram of the `r × c` matrix behind `read`, streamed
/// (see the module doc). `f32_kernel`: use the f32 SIMD Gram for f32 blocks (else f64).
/// f32 blocks without `f32_kernel` go to the exact f32 Gram (f64 accumulation, no widening).
pub fn streamed_gram_eigenvalues(
    r: usize,
    c: usize,
    read: &BlockFn<'_>,
    f32_kernel: bool,
    parallel: bool,
    block_bytes: u64,
) -> Result<Vec<f64>> {
    if r == 0 || c == 0 {
        return Err(Error::Empty { rows: r, cols: c });
    }
    let tall = r >= c;
    let (len, width) = if tall { (r, c) } else { (c, r) };
    // Elements of the long dimension per block: whole superblocks of ≤ block_bytes (f64).
    let per = ((block_bytes / (width as u64 * 8).max(1)) as usize / GRAM_SUPERBLOCK_ROWS).max(1)
        * GRAM_SUPERBLOCK_ROWS;
    let mut acc32 = f32_kernel.then(|| GramF32Accumulator::new(width, len));
    let mut acc64: Option<GramF64Accumulator> = None;
    let mut start = 0;
    while start < len {
        let end = (start + per).min(len);
        let block = if tall {
            read(start..end, 0..c)?
        } else {
            read(0..r, start..end)?
        };
        if acc32.is_none() && acc64.is_none() {
            // The first block says the storage: f32 → exact f32 Gram, f64 → faer's.
            match &block {
                TensorData::F32(_) => acc32 = Some(GramF32Accumulator::new_exact(width, len)),
                TensorData::F64(_) => acc64 = Some(GramF64Accumulator::new(width)),
            }
        }
        match (&mut acc32, &mut acc64) {
            (Some(acc), _) => {
                let b = to_f32(block).ok_or_else(|| Error::InvalidParameter {
                    name: "exact",
                    reason: "the f32 Gram needs f32 storage".into(),
                })?;
                if tall {
                    acc.push(b.view(), parallel)?;
                } else {
                    acc.push(b.t(), parallel)?;
                }
            }
            (None, Some(acc)) => {
                let b = to_f64(block);
                if tall {
                    acc.push(b.view())?;
                } else {
                    acc.push(b.t())?;
                }
            }
            (None, None) => unreachable!("one accumulator is always set"),
        }
        start = end;
    }
    let (lower, e) = match (acc32, acc64) {
        (Some(acc), _) => acc.into_lower(),
        (None, Some(acc)) => acc.into_lower(),
        (None, None) => unreachable!("len > 0: one block was read"),
    };
    lower_gram_eigenvalues(lower, e)
}

/// Analyses a dense layer by streaming (see the module doc). `read` reads blocks of the tensor
/// (`plan.shape` = `[r, c]`); `stored_bytes_f32` says whether its storage decodes to f32
/// (F32/F16/BF16) rather than f64.
pub fn analyze_streamed_layer(
    plan: &LayerPlan,
    read: &BlockFn<'_>,
    decodes_to_f32: bool,
    params: &AnalyzeParams,
    limits: &StreamParams,
    keep_evals: bool,
) -> LayerReport {
    match streamed(plan, read, decodes_to_f32, params, limits, keep_evals) {
        Ok(r) => r,
        Err(e) => super::analyze::error_report(plan, format!("{}: {e}", plan.name)),
    }
}

fn streamed(
    plan: &LayerPlan,
    read: &BlockFn<'_>,
    decodes_to_f32: bool,
    params: &AnalyzeParams,
    limits: &StreamParams,
    keep_evals: bool,
) -> Result<LayerReport> {
    if plan.kind != Some(LayerKind::Dense) || plan.shape.len() != 2 {
        return Err(Error::InvalidParameter {
            name: "layer",
            reason: "only dense 2-D layers are streamed".into(),
        });
    }
    let (r, c) = (plan.shape[0], plan.shape[1]);
    let decoded = r as u64 * c as u64 * if decodes_to_f32 { 4 } else { 8 };
    let whole_ok = decoded <= limits.whole_bytes;
    let read_whole = || read(0..r, 0..c);
    let f32_kernel = decodes_to_f32 && !params.exact;
    let ev = streamed_gram_eigenvalues(
        r,
        c,
        read,
        f32_kernel,
        params.gram.parallel,
        limits.block_bytes,
    )?;
    let n_big = r.max(c);
    let top = ev.last().copied().unwrap_or(0.0);
    let floor = if f32_kernel {
        128.0 * f32::EPSILON as f64 * top
    } else {
        64.0 * n_big as f64 * f64::EPSILON * top
    };
    let below_floor = ev.first().is_some_and(|&l| l < floor);
    let needs_whole = below_floor || params.randomize.is_some();
    if needs_whole && whole_ok {
        // The whole-tensor path gives exactly the row of a small tensor.
        return Ok(analyze_layer(&read_whole()?, plan, params, keep_evals));
    }
    let evals: Vec<f64> = {
        let mut v: Vec<f64> = ev.iter().map(|&l| l.max(0.0)).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let esd = LayerEsd {
        sv_max: evals.last().copied().unwrap_or(0.0).sqrt(),
        sv_min: evals.first().copied().unwrap_or(0.0).sqrt(),
        rank_loss: evals.len() - matrix_rank(&evals, n_big),
        evals,
    };
    let mut r_out = report_from_esd(&esd, plan, params);
    if let Some(fp) = &params.farms {
        let res = if !decodes_to_f32 {
            farms_dense_bands(r, c, fp, &params.gram, true, &mut |a, k| {
                Ok(to_f64(read(a..a + k, 0..c)?))
            })
        } else {
            farms_dense_bands(r, c, fp, &params.gram, params.exact, &mut |a, k| {
                to_f32(read(a..a + k, 0..c)?).ok_or_else(|| Error::InvalidParameter {
                    name: "exact",
                    reason: "the f32 Gram needs f32 storage".into(),
                })
            })
        };
        match res {
            Ok(f) => r_out.farms = Some(f),
            Err(e) => r_out.reason = Some(format!("FARMS: {e}")),
        }
    }
    let too_big = |what: &str| {
        format!(
            "{what} needs the whole {r}×{c} matrix in memory ({decoded} bytes decoded), over the limit of {} bytes",
            limits.whole_bytes
        )
    };
    if params.randomize.is_some() {
        r_out.reason = Some(format!("randomize: {}", too_big("randomization")));
    } else if below_floor {
        r_out.reason = Some(format!(
            "eigenvalues below the Gram's noise floor are kept as the Gram gives them: the f64 SVD {}",
            too_big("that would fix them")
        ));
    }
    if keep_evals {
        r_out.evals = Some(esd.evals);
    }
    Ok(r_out)
}

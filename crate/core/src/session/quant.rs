//! Quantization plans of an opened model: every 2-D weight quantized → dequantized with each
//! llama.cpp type of [`GgmlType::ALL`], read by row blocks, measured once and cached.
//!
//! - **Which tensors**: the layer walk's dense layers (`kind = Dense`, not skipped), and the 2-D
//!   weights only WeightWatcher's size gates skip (`min_evals`, `max_evals`, `max_N`: llama.cpp
//!   quantizes those too), as the matrix `shape[0] × prod(shape[1..])` in storage order. llama.cpp quantizes
//!   along the contiguous (innermost) dimension, which is the matrix's rows here; for GGUF the
//!   reader maps `ne` to that orientation already.
//! - **Reading**: blocks of `⌈QUANT_BLOCK_BYTES / (8·cols)⌉` rows through
//!   [`ModelSession::read_block`] (so a tensor larger than memory is never held whole); storage
//!   that cannot be read by blocks (Fortran-order `.npy`, deflated `.npz`) is read whole, up to
//!   the session's `whole_bytes` limit.
//! - **What is kept**: per layer only the options `(type, bytes, ‖W − Ŵ‖²)` and `‖W‖²`
//!   ([`QuantLayer`]), so re-planning at another budget costs no reading.
//! - **A GGUF input** is already quantized: its weights are dequantized, then re-quantized with
//!   each type, and the file's own type is reported beside the plan (`file_type`).

use super::model::ModelSession;
use crate::compress::ggml_quant::GgmlType;
use crate::compress::quant_plan::{quant_summary, QuantBudget, QuantLayer, QuantSummary};
use crate::formats::{can_read_blocks, TensorData};
use crate::spectrum::layers::LayerKind;
use crate::{Error, Result};
use ndarray::{Array2, Ix2};
use serde::Serialize;

/// Bytes of f64 per row block when measuring (4 MiB).
pub const QUANT_BLOCK_BYTES: usize = 4 << 20;

/// One measured layer, or why it could not be.
#[derive(Debug, Clone, Serialize)]
pub struct QuantLayerStatus {
    pub position: usize,
    pub name: String,
    /// The stored type (`F32`, `BF16`, `Q4_K`, …).
    pub file_type: String,
    pub rows: usize,
    pub cols: usize,
    /// `None` when measured; the reason otherwise.
    pub error: Option<String>,
}

/// [`QuantSummary`] plus the measured layers in depth order.
#[derive(Debug, Clone, Serialize)]
pub struct ModelQuantSummary {
    #[serde(flatten)]
    pub summary: QuantSummary,
    pub layers: Vec<QuantLayerStatus>,
    /// The stored types of the planned layers, most frequent first (`[type, count]`).
    pub file_mix: Vec<(String, usize)>,
    /// The plan as `{tensor: type}` JSON ([`crate::compress::quant_plan::QuantPlan::plan_json`]).
    pub plan_json: String,
    /// The plan as `llama-quantize --tensor-type` arguments.
    pub tensor_type_args: Vec<String>,
}

fn to_matrix(d: TensorData, rows: usize, cols: usize) -> Result<Array2<f64>> {
    let shape_err = |e: ndarray::ShapeError| Error::Shape {
        expected: format!("{rows} × {cols}"),
        found: e.to_string(),
    };
    Ok(match d {
        TensorData::F32(a) => a
            .into_shape_with_order((rows, cols))
            .map_err(shape_err)?
            .into_dimensionality::<Ix2>()
            .map_err(shape_err)?
            .mapv(f64::from),
        TensorData::F64(a) => a
            .into_shape_with_order((rows, cols))
            .map_err(shape_err)?
            .into_dimensionality::<Ix2>()
            .map_err(shape_err)?,
    })
}

impl ModelSession {
    /// Positions (into [`Self::plans`]) of the layers a quantization plan covers.
    pub fn quant_positions(&self) -> Vec<usize> {
        self.plans()
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                (p.kind == Some(LayerKind::Dense) && p.skip.is_none())
                    || (p.size_gated && p.shape.len() == 2)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn matrix_dims(&self, position: usize) -> (usize, usize) {
        let shape = &self.tensors()[position].shape;
        let rows = shape.first().copied().unwrap_or(0);
        (rows, shape.iter().skip(1).product())
    }

    fn measure_one(&self, position: usize) -> Result<QuantLayer> {
        let name = self.plans()[position].name.clone();
        let (rows, cols) = self.matrix_dims(position);
        let blockwise = self.tensor_entry(position).is_ok_and(can_read_blocks);
        if blockwise {
            let block_rows = (QUANT_BLOCK_BYTES / (8 * cols.max(1))).max(1);
            QuantLayer::measure_blocks(&name, rows, cols, &GgmlType::ALL, block_rows, |r| {
                to_matrix(
                    self.read_block(position, r.clone(), 0..cols)?,
                    r.len(),
                    cols,
                )
            })
        } else {
            let w = to_matrix(
                self.read_tensor(position, self.stream.whole_bytes)?,
                rows,
                cols,
            )?;
            QuantLayer::measure(&name, w.view(), &GgmlType::ALL)
        }
    }

    /// Measures the layers at `positions` that are not measured yet (each type on each layer),
    /// keeping the results; returns how many were measured now.
    pub fn quant_measure(&mut self, positions: &[usize]) -> Result<usize> {
        let mut n = 0;
        for &p in positions {
            if p >= self.plans().len() {
                return Err(Error::InvalidParameter {
                    name: "position",
                    reason: format!(
                        "no layer at position {p} (the model has {})",
                        self.plans().len()
                    ),
                });
            }
            if self.quant.contains_key(&p) {
                continue;
            }
            let r = self.measure_one(p).map_err(|e| e.to_string());
            self.quant.insert(p, r);
            n += 1;
        }
        Ok(n)
    }

    /// The plan at `budget` over the measured layers (measuring the rest of
    /// [`Self::quant_positions`] first), with the recipes and a curve of `curve_points`.
    /// Errors when no layer could be measured, or as [`quant_summary`].
    pub fn quant_summary(
        &mut self,
        budget: QuantBudget,
        curve_points: usize,
    ) -> Result<ModelQuantSummary> {
        let positions = self.quant_positions();
        self.quant_measure(&positions)?;
        let mut layers = Vec::new();
        let mut status = Vec::new();
        let mut mix: Vec<(String, usize)> = Vec::new();
        for &p in &positions {
            let (rows, cols) = self.matrix_dims(p);
            let file_type = self.tensors()[p]
                .dtype
                .as_ref()
                .map_or_else(String::new, |d| d.name().to_string());
            let r = &self.quant[&p];
            if r.is_ok() {
                match mix.iter_mut().find(|(t, _)| *t == file_type) {
                    Some((_, n)) => *n += 1,
                    None => mix.push((file_type.clone(), 1)),
                }
            }
            status.push(QuantLayerStatus {
                position: p,
                name: self.plans()[p].name.clone(),
                file_type,
                rows,
                cols,
                error: r.as_ref().err().cloned(),
            });
            if let Ok(l) = r {
                layers.push(l.clone());
            }
        }
        if layers.is_empty() {
            return Err(Error::InvalidParameter {
                name: "model",
                reason: match status.first().and_then(|s| s.error.clone()) {
                    Some(e) => format!("no 2-D weight could be quantized (first error: {e})"),
                    None => "the model has no 2-D weight to plan".into(),
                },
            });
        }
        mix.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let summary = quant_summary(&layers, budget, curve_points)?;
        Ok(ModelQuantSummary {
            plan_json: summary.plan.plan_json(),
            tensor_type_args: summary.plan.tensor_type_args(),
            summary,
            layers: status,
            file_mix: mix,
        })
    }
}

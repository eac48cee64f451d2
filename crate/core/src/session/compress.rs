//! Compression on analysed spectra, as the bindings and the CLI serve it: a layer's truncation
//! curve in column form, the model-level rank planner with its byte totals, and the structured
//! trade-off curves of one tensor of a file.
//!
//! Spectra are Gram eigenvalues `λ = σ²` (what an analysis keeps), any order. Errors are relative
//! Frobenius (`‖W − Ŵ‖_F / ‖W‖_F`); byte counts follow [`crate::compress`]'s accounting.

use serde::Serialize;

use super::options::{ObjectiveOption, TargetKind, TargetOptions, TradeoffOptions};
use crate::compress::budget::{
    Allocation, AllocationMethod, BudgetParams, BudgetPlan, BudgetTarget, ErrorObjective,
    LayerSpectrum,
};
use crate::compress::structured::{tradeoff_curves, TradeoffParams};
use crate::compress::truncation::{self, BytesByPrecision, Spectrum};
use crate::compress::{pareto_front, Precision, TradeoffPoint};
use crate::formats::{read_index, read_tensor, ByteSource, ReadParams, TensorData};
use crate::{Error, Result};

fn input(what: String) -> Error {
    Error::Input { what }
}

/// Column view of a truncation curve (index = rank `0..=min(rows, cols)`; camelCase on the wire).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TruncationColumns {
    pub rows: usize,
    pub cols: usize,
    pub total_energy: f64,
    pub dense_params: u64,
    pub dense_bytes: BytesByPrecision,
    pub break_even: f64,
    pub max_saving_rank: usize,
    pub energy_ranks: Vec<truncation::EnergyRank>,
    pub rank: Vec<u32>,
    pub rel_fro_error: Vec<f64>,
    pub spectral_error: Vec<f64>,
    pub retained_energy: Vec<f64>,
    pub params: Vec<f64>,
    pub bytes_f32: Vec<f64>,
    pub bytes_f16: Vec<f64>,
    pub bytes_int8: Vec<f64>,
    pub bytes_int4: Vec<f64>,
}

/// The truncated-SVD curve of a `rows × cols` layer from its Gram eigenvalues, as columns
/// (see [`truncation::truncation_curve`]); errors name the shape.
pub fn truncation_columns(evals: &[f64], rows: usize, cols: usize) -> Result<TruncationColumns> {
    let r = truncation::truncation_curve(Spectrum::Eigenvalues(evals), rows, cols)
        .map_err(|e| input(format!("truncationCurve ({rows} × {cols}): {e}")))?;
    let col = |f: fn(&truncation::TruncationPoint) -> f64| r.points.iter().map(f).collect();
    Ok(TruncationColumns {
        rows,
        cols,
        total_energy: r.total_energy,
        dense_params: r.dense_params,
        dense_bytes: r.dense_bytes,
        break_even: r.break_even,
        max_saving_rank: r.max_saving_rank,
        energy_ranks: r.energy_ranks.clone(),
        rank: r.points.iter().map(|p| p.rank as u32).collect(),
        rel_fro_error: col(|p| p.rel_fro_error),
        spectral_error: col(|p| p.spectral_error),
        retained_energy: col(|p| p.retained_energy),
        params: col(|p| p.params as f64),
        bytes_f32: col(|p| p.bytes.f32 as f64),
        bytes_f16: col(|p| p.bytes.f16 as f64),
        bytes_int8: col(|p| p.bytes.int8 as f64),
        bytes_int4: col(|p| p.bytes.int4 as f64),
    })
}

impl TargetOptions {
    /// The core budget and the precision it is counted at (default f16).
    pub fn to_target(&self) -> Result<(BudgetTarget, Precision)> {
        let precision = self.precision.map_or(Precision::F16, Precision::from);
        let v = self.value;
        let count = |what: &str| {
            if v.is_finite() && v >= 0.0 && v <= 2f64.powi(53) {
                Ok(v as u64)
            } else {
                Err(input(format!(
                    "target: {what} must be a non-negative count, got {v}"
                )))
            }
        };
        let target = match self.kind {
            TargetKind::Fraction => BudgetTarget::ParamFraction(v),
            TargetKind::Params => BudgetTarget::Params(count("params")?),
            TargetKind::Bytes => BudgetTarget::Bytes {
                bytes: count("bytes")?,
                precision,
            },
            TargetKind::Error => BudgetTarget::ErrorCeiling(v),
        };
        Ok((target, precision))
    }
}

/// One layer given to the [`RankPlanner`], as it arrives from a caller (checked by
/// [`RankPlanner::new`]): `name` (default `layer i`), `rows`, `cols` (positive integers) and its
/// Gram eigenvalues (`None`: not kept by the analysis).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlannerLayer {
    pub name: Option<String>,
    pub rows: Option<f64>,
    pub cols: Option<f64>,
    pub evals: Option<Vec<f64>>,
}

/// An [`Allocation`] with its byte totals at every precision and the precision asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationReport {
    #[serde(flatten)]
    pub allocation: Allocation,
    pub bytes: BytesByPrecision,
    pub dense_bytes: BytesByPrecision,
    pub precision: &'static str,
}

impl AllocationReport {
    fn new(a: Allocation, p: Precision) -> Self {
        let by = |f: &dyn Fn(Precision) -> u64| BytesByPrecision {
            f32: f(Precision::F32),
            f16: f(Precision::F16),
            int8: f(Precision::Int8),
            int4: f(Precision::Int4),
        };
        let dense = |q: Precision| {
            let l = a.layers.iter();
            l.map(|l| q.bytes(l.rows as u64 * l.cols as u64)).sum()
        };
        AllocationReport {
            bytes: by(&|q| a.bytes(q)),
            dense_bytes: by(&dense),
            precision: p.name(),
            allocation: a,
        }
    }
}

/// The model-level rank planner: built once from every layer's spectrum, then re-planned for
/// each budget/method (microseconds to a few milliseconds); keeps the last allocation.
#[derive(Debug, Clone)]
pub struct RankPlanner {
    plan: BudgetPlan,
    last: Option<Allocation>,
}

fn objective(o: Option<ObjectiveOption>) -> ErrorObjective {
    o.map_or(ErrorObjective::Absolute, ErrorObjective::from)
}

impl RankPlanner {
    /// Checks every layer (errors name it) and plans.
    pub fn new(layers: Vec<PlannerLayer>) -> Result<Self> {
        if layers.is_empty() {
            return Err(input(
                "layers: empty (no analysed layer to plan; analyse a model with keepEvals first)"
                    .into(),
            ));
        }
        let mut checked = Vec::with_capacity(layers.len());
        for (i, l) in layers.into_iter().enumerate() {
            let name = l.name.unwrap_or_else(|| format!("layer {i}"));
            let dim = |key: &str, v: Option<f64>| {
                v.filter(|v| v.is_finite() && *v >= 1.0 && v.fract() == 0.0 && *v <= 1e9)
                    .map(|v| v as usize)
                    .ok_or_else(|| input(format!("{name}: `{key}` must be a positive integer")))
            };
            let (rows, cols) = (dim("rows", l.rows)?, dim("cols", l.cols)?);
            let evals = l.evals.ok_or_else(|| {
                input(format!(
                    "{name}: `evals` missing (analyse with keepEvals: true)"
                ))
            })?;
            checked.push((name, rows, cols, evals));
        }
        let specs: Vec<LayerSpectrum> = checked
            .iter()
            .map(|(name, rows, cols, ev)| LayerSpectrum {
                name,
                rows: *rows,
                cols: *cols,
                spectrum: Spectrum::Eigenvalues(ev),
            })
            .collect();
        let plan = BudgetPlan::new(&specs)?;
        Ok(RankPlanner { plan, last: None })
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.plan.len()
    }

    /// Always false (a planner has at least one layer).
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty()
    }

    /// Dense parameter count of all layers.
    pub fn dense_params(&self) -> u64 {
        self.plan.dense_params()
    }

    /// Ranks for `target` with `method` and `objective` (default absolute); kept for
    /// [`Self::plan_json`].
    pub fn allocate(
        &mut self,
        target: &TargetOptions,
        method: AllocationMethod,
        objective: Option<ObjectiveOption>,
    ) -> Result<AllocationReport> {
        let (target, precision) = target.to_target()?;
        let params = BudgetParams {
            method,
            objective: self::objective(objective),
            min_rank: 1,
        };
        let a = self.plan.allocate(target, &params)?;
        self.last = Some(a.clone());
        Ok(AllocationReport::new(a, precision))
    }

    /// The same target with every method (uniform, energy, greedy, WeLore): totals only (each
    /// allocation's `layers` emptied, so it is left out of the JSON).
    pub fn compare(
        &self,
        target: &TargetOptions,
        objective: Option<ObjectiveOption>,
    ) -> Result<Vec<AllocationReport>> {
        let (target, precision) = target.to_target()?;
        let all = self.plan.compare(target, self::objective(objective), 1)?;
        let totals = |a: Allocation| {
            let mut r = AllocationReport::new(a, precision);
            r.allocation.layers.clear();
            r
        };
        Ok(all.into_iter().map(totals).collect())
    }

    /// `{tensor: rank}` of the last [`Self::allocate`] (pretty JSON).
    pub fn plan_json(&self) -> Result<String> {
        self.last
            .as_ref()
            .map(Allocation::plan_json)
            .ok_or_else(|| input("planJson: call allocate first".into()))
    }
}

/// One method's points of a trade-off (the Pareto front also names each point's method).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeoffSeries {
    pub method: String,
    pub param: Vec<f64>,
    pub bytes: Vec<f64>,
    pub error: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
}

/// Every structured (error, bytes) curve of one tensor, grouped per method, and their front.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeoffReport {
    pub tensor: String,
    pub rows: usize,
    pub cols: usize,
    pub dense_bytes: BytesByPrecision,
    pub series: Vec<TradeoffSeries>,
    pub pareto: TradeoffSeries,
}

fn series(method: String, pts: &[&TradeoffPoint]) -> TradeoffSeries {
    TradeoffSeries {
        method,
        param: pts.iter().map(|p| p.param).collect(),
        bytes: pts.iter().map(|p| p.bytes as f64).collect(),
        error: pts.iter().map(|p| p.rel_fro_error).collect(),
        methods: None,
    }
}

/// The structured trade-off curves of the tensor `tensor` of the file `name` (read whole: a
/// tensor of more than 2 dimensions is flattened to `shape[0] × rest`); see
/// [`crate::compress::structured::tradeoff_curves`]. Errors name the file or tensor.
pub fn tradeoff_report(
    src: &dyn ByteSource,
    name: &str,
    tensor: &str,
    options: &TradeoffOptions,
) -> Result<TradeoffReport> {
    let params = TradeoffParams {
        precision: options.precision.map_or(Precision::F16, Precision::from),
        ..TradeoffParams::default()
    };
    let index = read_index(src, name).map_err(|e| input(format!("{name}: {e}")))?;
    let entry = index
        .get(tensor)
        .ok_or_else(|| input(format!("{name}: no tensor named `{tensor}`")))?;
    let shape = entry.shape.clone();
    if shape.len() < 2 || shape.contains(&0) {
        return Err(input(format!(
            "{tensor}: shape {shape:?} is not a non-empty matrix"
        )));
    }
    let (rows, cols) = (shape[0], shape[1..].iter().product::<usize>());
    let data = read_tensor(src, entry, &ReadParams::default())
        .map_err(|e| input(format!("{tensor}: {e}")))?;
    let flat: Vec<f64> = match data {
        TensorData::F32(a) => a.iter().map(|&v| f64::from(v)).collect(),
        TensorData::F64(a) => a.iter().copied().collect(),
    };
    let w = ndarray::ArrayView2::from_shape((rows, cols), &flat)
        .map_err(|e| input(format!("{tensor}: {e}")))?;
    let points = tradeoff_curves(w, &params).map_err(|e| input(format!("{tensor}: {e}")))?;
    let mut methods: Vec<&str> = Vec::new();
    for p in &points {
        if !methods.contains(&p.method.as_str()) {
            methods.push(&p.method);
        }
    }
    let series_out = methods
        .iter()
        .map(|m| {
            let pts: Vec<&TradeoffPoint> = points.iter().filter(|p| p.method == *m).collect();
            series(m.to_string(), &pts)
        })
        .collect();
    let front = pareto_front(&points);
    let front_refs: Vec<&TradeoffPoint> = front.iter().collect();
    Ok(TradeoffReport {
        tensor: tensor.to_string(),
        rows,
        cols,
        dense_bytes: BytesByPrecision::of_count(rows as u64 * cols as u64),
        series: series_out,
        pareto: TradeoffSeries {
            methods: Some(front.iter().map(|p| p.method.clone()).collect()),
            ..series("pareto".into(), &front_refs)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::options::{MethodOption, PrecisionOption};

    #[test]
    fn truncation_columns_match_the_curve() {
        // σ = 3, 2, 1 of a 3 × 4 layer: λ = 9, 4, 1; rank 1 leaves √(5/14).
        let c = truncation_columns(&[1.0, 9.0, 4.0], 3, 4).unwrap();
        assert_eq!(c.rank, [0, 1, 2, 3]);
        assert!((c.rel_fro_error[1] - (5.0f64 / 14.0).sqrt()).abs() < 1e-15);
        assert_eq!(c.params[2], 14.0);
        assert_eq!(c.total_energy, 14.0);
        let e = truncation_columns(&[1.0], 0, 4).unwrap_err().to_string();
        assert!(e.starts_with("truncationCurve (0 × 4)"), "{e}");
    }

    fn layer(name: &str, rows: f64, cols: f64, evals: Vec<f64>) -> PlannerLayer {
        PlannerLayer {
            name: Some(name.into()),
            rows: Some(rows),
            cols: Some(cols),
            evals: Some(evals),
        }
    }

    #[test]
    fn planner_allocates_and_reports_bytes() {
        let ev: Vec<f64> = (1..=8).map(|i| (i * i) as f64).collect();
        let mut p = RankPlanner::new(vec![
            layer("a", 8.0, 16.0, ev.clone()),
            layer("b", 8.0, 8.0, ev),
        ])
        .unwrap();
        assert_eq!((p.len(), p.dense_params()), (2, 192));
        let t = TargetOptions {
            kind: TargetKind::Fraction,
            value: 0.5,
            precision: Some(PrecisionOption::Int8),
        };
        let r = p.allocate(&t, MethodOption::Greedy.into(), None).unwrap();
        assert!(r.allocation.params <= 96);
        assert_eq!(r.precision, "int8");
        assert_eq!(r.dense_bytes.f32, 192 * 4);
        assert_eq!(
            r.bytes.f32,
            r.allocation
                .layers
                .iter()
                .map(|l| l.params * 4)
                .sum::<u64>()
        );
        assert!(p.plan_json().unwrap().contains("\"a\""));
        let all = p.compare(&t, None).unwrap();
        assert_eq!(all.len(), 4);
        let v = serde_json::to_value(&all[0]).unwrap();
        assert!(v.get("layers").is_none() && v.get("bytes").is_some());
    }

    #[test]
    fn planner_errors_name_the_layer() {
        let e = RankPlanner::new(vec![]).unwrap_err().to_string();
        assert!(e.contains("keepEvals"), "{e}");
        let mut l = layer("w", 3.0, 3.0, vec![1.0]);
        l.evals = None;
        let e = RankPlanner::new(vec![l]).unwrap_err().to_string();
        assert!(e.starts_with("w: `evals` missing"), "{e}");
        let e = RankPlanner::new(vec![layer("w", 2.5, 3.0, vec![1.0])])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "w: `rows` must be a positive integer");
        let p = RankPlanner::new(vec![layer("w", 3.0, 3.0, vec![1.0, 2.0, 3.0])]).unwrap();
        assert!(p.plan_json().is_err());
        let bad = TargetOptions {
            kind: TargetKind::Bytes,
            value: -1.0,
            precision: None,
        };
        assert!(p
            .compare(&bad, None)
            .unwrap_err()
            .to_string()
            .contains("bytes"));
    }

    #[test]
    fn tradeoff_report_reads_a_tensor_and_names_errors() {
        let w: Vec<f32> = (0..64 * 48)
            .map(|i| ((i * 37 % 101) as f32) / 101.0 - 0.5)
            .collect();
        let bytes = crate::session::model::safetensors_bytes(&[("w", &[64, 48], &w)]);
        let src = bytes;
        let r = tradeoff_report(&src, "m.safetensors", "w", &TradeoffOptions::default()).unwrap();
        assert_eq!((r.rows, r.cols), (64, 48));
        assert!(r.series.iter().any(|s| s.method == "svd"));
        let front = r.pareto.methods.as_ref().unwrap();
        assert_eq!(front.len(), r.pareto.error.len());
        assert!(!front.is_empty());
        // Every front point is a point of its method's series.
        for (i, m) in front.iter().enumerate() {
            let s = r.series.iter().find(|s| &s.method == m).unwrap();
            assert!(s.bytes.contains(&r.pareto.bytes[i]) && s.error.contains(&r.pareto.error[i]));
        }
        let e = tradeoff_report(&src, "m.safetensors", "x", &TradeoffOptions::default());
        assert_eq!(
            e.unwrap_err().to_string(),
            "m.safetensors: no tensor named `x`"
        );
    }
}

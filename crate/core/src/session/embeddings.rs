//! Embedding sets (rows = items, columns = features) and the metrics the bindings and the CLI
//! serve on them: Vendi scores, q-profiles and per-class scores, the metrics table, and the
//! matrix metrics of one weight tensor of a model file.
//!
//! [`EmbeddingSet`] is a matrix loaded from a `.npy`, `.npz` or `.safetensors` file (leading
//! dimensions flattened into rows); the free functions take any `rows × cols` f32 slice, so a
//! caller holding the data elsewhere (a JS typed array) does not copy it.

use ndarray::ArrayView2;
use serde::Serialize;

use super::options::{
    BandwidthOption, KernelOption, LoadOptions, MetricsReportOptions, VendiOptions,
};
use crate::formats::{read_index, read_tensor, ByteSource, ReadParams, TensorData, TensorEntry};
use crate::metrics::{
    self, default_q_grid, Kernel, MetricsParams, MetricsReport, NystromParams, PerClassReport,
    VendiParams, VendiReport,
};
use crate::{Error, Result};

fn input(what: String) -> Error {
    Error::Input { what }
}

/// `data` as a `rows × cols` row-major matrix, or an error saying what does not add up.
pub fn matrix_view<T>(data: &[T], rows: usize, cols: usize) -> Result<ArrayView2<'_, T>> {
    let expected = rows
        .checked_mul(cols)
        .ok_or_else(|| input("rows × cols overflows".into()))?;
    if data.len() != expected {
        return Err(input(format!(
            "data has {} values but rows × cols = {rows} × {cols} = {expected}",
            data.len()
        )));
    }
    ArrayView2::from_shape((rows, cols), data).map_err(|e| input(e.to_string()))
}

/// An RBF bandwidth: the number given, or for `"auto"` (and when absent) the median pairwise
/// distance of the first 1000 rows.
pub fn resolve_bandwidth(b: Option<&BandwidthOption>, x: ArrayView2<'_, f32>) -> Result<f64> {
    match b {
        Some(BandwidthOption::Value(h)) if h.is_finite() && *h > 0.0 => Ok(*h),
        Some(BandwidthOption::Value(h)) => Err(input(format!(
            "bandwidth must be a positive number or \"auto\" (got {h})"
        ))),
        None => resolve_bandwidth(Some(&BandwidthOption::Name("auto".into())), x),
        Some(BandwidthOption::Name(s)) if s == "auto" => {
            let h = metrics::median_pairwise_distance(x, 1000)?;
            if h > 0.0 && h.is_finite() {
                Ok(h)
            } else {
                Err(input(
                    "RBF bandwidth \"auto\": the median pairwise distance is 0 (identical rows); give a number".into(),
                ))
            }
        }
        Some(BandwidthOption::Name(s)) => Err(input(format!(
            "bandwidth: unknown `{s}` (a positive number or \"auto\")"
        ))),
    }
}

/// Orders of a profile: at least one, each `≥ 0` (∞ allowed).
pub fn check_qs(qs: &[f64]) -> Result<()> {
    match qs.iter().find(|q| q.is_nan() || **q < 0.0) {
        Some(q) => Err(input(format!("qs: every order must be ≥ 0 (got {q})"))),
        None if qs.is_empty() => Err(input("qs: give at least one order".into())),
        None => Ok(()),
    }
}

impl VendiOptions {
    /// The core parameters (the RBF bandwidth resolved on `x`).
    pub fn to_params(&self, x: ArrayView2<'_, f32>) -> Result<VendiParams> {
        let kernel = match self.kernel.unwrap_or(KernelOption::Cosine) {
            KernelOption::Cosine => Kernel::Cosine,
            KernelOption::Linear => Kernel::Linear,
            KernelOption::Rbf => Kernel::Rbf {
                bandwidth: resolve_bandwidth(self.bandwidth.as_ref(), x)?,
            },
        };
        Ok(VendiParams {
            q: self.q.unwrap_or(1.0),
            kernel,
            rel_threshold: self.rel_threshold,
            ..VendiParams::default()
        })
    }
}

impl MetricsReportOptions {
    /// The core parameters (the RBF bandwidth resolved on `x`).
    pub fn to_params(&self, x: ArrayView2<'_, f32>) -> Result<MetricsParams> {
        let mut p = MetricsParams::default();
        if let Some(qs) = &self.qs {
            check_qs(qs)?;
            p.q_profile = qs.clone();
        }
        if self.rbf_bandwidth.is_some() {
            p.rbf_bandwidth = Some(resolve_bandwidth(self.rbf_bandwidth.as_ref(), x)?);
        }
        if let Some(m) = self.rbf_exact_max_n {
            p.rbf_exact_max_n = m;
        }
        let seed = self.seed.unwrap_or(0.0).clamp(0.0, 2f64.powi(53)) as u64;
        p.nystrom = NystromParams {
            landmarks: self.landmarks.unwrap_or(p.nystrom.landmarks).max(1),
            seed,
        };
        if self.dse == Some(false) {
            p.dse = None;
        } else if let Some(d) = p.dse.as_mut() {
            if let Some(s) = self.dse_sigma {
                if !(s.is_finite() && s > 0.0) {
                    return Err(input(format!("dseSigma must be > 0 (got {s})")));
                }
                d.sigma = s;
            }
            if let Some(m) = self.dse_max_n {
                d.max_n = m.max(2);
            }
            d.seed = seed;
        }
        p.rel_threshold = self.rel_threshold;
        Ok(p)
    }
}

/// Vendi score of the rows (`options.q`, default 1).
pub fn vendi_score(x: ArrayView2<'_, f32>, options: &VendiOptions) -> Result<VendiReport> {
    metrics::vendi_score(x, &options.to_params(x)?)
}

/// Vendi at each order of a profile, from one eigen-decomposition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VendiProfile {
    pub q: Vec<f64>,
    pub vendi: Vec<f64>,
    pub rank: usize,
    pub n: usize,
    pub d: usize,
    /// The RBF bandwidth used (RBF kernel only).
    pub bandwidth: Option<f64>,
}

/// Vendi at each order of `options.qs` (default [`default_q_grid`]).
pub fn vendi_profile(x: ArrayView2<'_, f32>, options: &VendiOptions) -> Result<VendiProfile> {
    let qs = options.qs.clone().unwrap_or_else(default_q_grid);
    check_qs(&qs)?;
    let p = options.to_params(x)?;
    let s = metrics::vendi_spectrum(x, &p)?;
    let vendi = qs.iter().map(|&q| s.score(q)).collect::<Result<Vec<_>>>()?;
    let bandwidth = match p.kernel {
        Kernel::Rbf { bandwidth } => Some(bandwidth),
        _ => None,
    };
    Ok(VendiProfile {
        rank: s.rank(),
        q: qs,
        vendi,
        n: x.nrows(),
        d: x.ncols(),
        bandwidth,
    })
}

/// Labels given as numbers (JS): each must be an integer.
pub fn integer_labels(labels: &[f64]) -> Result<Vec<i64>> {
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            if l.is_finite() && l.fract() == 0.0 && l.abs() < 9.0e15 {
                Ok(l as i64)
            } else {
                Err(input(format!("label {i} is {l}, not an integer")))
            }
        })
        .collect()
}

/// Vendi of all rows and of each class (`labels`: one integer per row, as numbers).
pub fn vendi_per_class(
    x: ArrayView2<'_, f32>,
    labels: &[f64],
    options: &VendiOptions,
) -> Result<PerClassReport> {
    let labels = integer_labels(labels)?;
    metrics::vendi_per_class(x, &labels, &options.to_params(x)?)
}

/// The metrics table ([`metrics::metrics_report`]).
pub fn metrics_report(
    x: ArrayView2<'_, f32>,
    options: &MetricsReportOptions,
) -> Result<MetricsReport> {
    metrics::metrics_report(x, &options.to_params(x)?)
}

/// A tensor of a file usable as a matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
}

impl TensorInfo {
    fn of(t: &TensorEntry) -> Self {
        TensorInfo {
            name: t.name.clone(),
            shape: t.shape.clone(),
            dtype: t.dtype.name().to_string(),
        }
    }
}

/// `(rows, cols)` of a tensor read as items × features (leading dimensions flattened).
pub fn matrix_shape(shape: &[usize]) -> Option<(usize, usize)> {
    if shape.len() < 2 {
        return None;
    }
    let cols = *shape.last()?;
    let rows = shape[..shape.len() - 1]
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))?;
    Some((rows, cols))
}

fn tensor_f32(data: TensorData) -> Vec<f32> {
    match data {
        TensorData::F32(a) => a.into_raw_vec_and_offset().0,
        TensorData::F64(a) => a.iter().map(|&v| v as f32).collect(),
    }
}

/// An `n × d` embedding matrix read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingSet {
    /// Row-major f32 values.
    pub data: Vec<f32>,
    pub rows: usize,
    pub cols: usize,
    /// The tensor it was read from.
    pub tensor: String,
    /// Every tensor of the file usable as a matrix.
    pub tensors: Vec<TensorInfo>,
}

impl EmbeddingSet {
    /// Reads the tensor `options.tensor` (default: the first of ≥ 2 dimensions) of the file
    /// `name` (`.npy`, `.npz`, `.safetensors`). Errors name the file.
    pub fn load(src: &dyn ByteSource, name: &str, options: &LoadOptions) -> Result<Self> {
        let index = read_index(src, name).map_err(|e| input(format!("{name}: {e}")))?;
        let usable: Vec<&TensorEntry> = index
            .tensors
            .iter()
            .filter(|t| matrix_shape(&t.shape).is_some())
            .collect();
        let entry = match options.tensor.as_deref() {
            Some(t) => index.get(t).ok_or_else(|| {
                let names: Vec<&str> = index.tensors.iter().map(|t| t.name.as_str()).collect();
                input(format!("{name}: no tensor `{t}` (has: {})", names.join(", ")))
            })?,
            None => *usable.first().ok_or_else(|| {
                input(format!(
                    "{name}: no tensor with ≥ 2 dimensions (need rows × features; a 1-D array is a labels file)"
                ))
            })?,
        };
        let (rows, cols) = matrix_shape(&entry.shape).ok_or_else(|| {
            input(format!(
                "{name}: tensor `{}` has shape {:?}: need rows × features",
                entry.name, entry.shape
            ))
        })?;
        let data = read_tensor(src, entry, &ReadParams::default())
            .map_err(|e| input(format!("{name}: {e}")))?;
        Ok(EmbeddingSet {
            data: tensor_f32(data),
            rows,
            cols,
            tensor: entry.name.clone(),
            tensors: usable.into_iter().map(TensorInfo::of).collect(),
        })
    }

    /// The matrix.
    pub fn view(&self) -> ArrayView2<'_, f32> {
        ArrayView2::from_shape((self.rows, self.cols), &self.data).expect("checked at load")
    }

    /// [`vendi_profile`] of this set.
    pub fn vendi_profile(&self, options: &VendiOptions) -> Result<VendiProfile> {
        vendi_profile(self.view(), options)
    }

    /// [`vendi_per_class`] of this set.
    pub fn vendi_per_class(
        &self,
        labels: &[f64],
        options: &VendiOptions,
    ) -> Result<PerClassReport> {
        vendi_per_class(self.view(), labels, options)
    }

    /// [`metrics_report`] of this set.
    pub fn report(&self, options: &MetricsReportOptions) -> Result<MetricsReport> {
        metrics_report(self.view(), options)
    }
}

/// The tensors of a model file usable as matrices (headers only; supported dtypes).
pub fn matrix_tensors(src: &dyn ByteSource, name: &str) -> Result<Vec<TensorInfo>> {
    let index = read_index(src, name).map_err(|e| input(format!("{name}: {e}")))?;
    Ok(index
        .tensors
        .iter()
        .filter(|t| matrix_shape(&t.shape).is_some() && t.dtype.is_supported())
        .map(TensorInfo::of)
        .collect())
}

/// Matrix metrics of one weight tensor; a metric undefined for it is `None`, with the reason in
/// `error`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TensorMetrics {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub matrix_entropy: Option<f64>,
    pub erank: Option<f64>,
    pub stable_rank: Option<f64>,
    pub roy_vetterli_erank: Option<f64>,
    pub error: Option<String>,
}

/// [`TensorMetrics`] of the tensor `tensor` of the file `name` (rows = leading dimensions
/// flattened): matrix entropy and its effective rank, stable rank, Roy–Vetterli effective rank.
pub fn tensor_metrics(src: &dyn ByteSource, name: &str, tensor: &str) -> Result<TensorMetrics> {
    let index = read_index(src, name).map_err(|e| input(format!("{name}: {e}")))?;
    let entry = index
        .get(tensor)
        .ok_or_else(|| input(format!("{name}: no tensor `{tensor}`")))?;
    let (rows, cols) = matrix_shape(&entry.shape)
        .ok_or_else(|| input(format!("{tensor}: shape {:?} is not a matrix", entry.shape)))?;
    let data = read_tensor(src, entry, &ReadParams::default())
        .map_err(|e| input(format!("{tensor}: {e}")))?;
    let flat = tensor_f32(data);
    let x = matrix_view(&flat, rows, cols)?;
    let mut errors = Vec::new();
    let mut soft =
        |r: Result<f64>, what: &str| r.map_err(|e| errors.push(format!("{what}: {e}"))).ok();
    let (matrix_entropy, erank) = match metrics::matrix_entropy(x) {
        Ok(m) => (Some(m.entropy), Some(m.erank)),
        Err(e) => {
            soft(Err(e), "matrix entropy");
            (None, None)
        }
    };
    let stable_rank = soft(metrics::stable_rank(x), "stable rank");
    let roy_vetterli_erank = soft(metrics::roy_vetterli_erank(x), "Roy–Vetterli");
    Ok(TensorMetrics {
        name: entry.name.clone(),
        rows,
        cols,
        matrix_entropy,
        erank,
        stable_rank,
        roy_vetterli_erank,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::model::safetensors_bytes;

    /// `n` orthogonal unit rows in `d ≥ n` dimensions (Vendi = n for cosine).
    fn orthogonal(n: usize, d: usize) -> Vec<f32> {
        (0..n * d).map(|i| f32::from(i % d == i / d)).collect()
    }

    #[test]
    fn vendi_profile_of_orthogonal_and_identical_rows() {
        let x = orthogonal(4, 6);
        let v = matrix_view(&x, 4, 6).unwrap();
        let o = VendiOptions {
            qs: Some(vec![0.0, 1.0, 2.0, f64::INFINITY]),
            ..VendiOptions::default()
        };
        let p = vendi_profile(v, &o).unwrap();
        assert_eq!((p.n, p.d, p.rank, p.bandwidth), (4, 6, 4, None));
        for s in &p.vendi {
            assert!((s - 4.0).abs() < 1e-9, "{s}");
        }
        let same = vec![1.0f32; 12];
        let s = vendi_score(matrix_view(&same, 4, 3).unwrap(), &VendiOptions::default()).unwrap();
        assert!((s.score - 1.0).abs() < 1e-9);
        // The default grid, and the RBF bandwidth reported.
        let o = VendiOptions {
            kernel: Some(KernelOption::Rbf),
            bandwidth: Some(BandwidthOption::Value(0.5)),
            ..VendiOptions::default()
        };
        let p = vendi_profile(v, &o).unwrap();
        assert_eq!(p.q, default_q_grid());
        assert_eq!(p.bandwidth, Some(0.5));
    }

    #[test]
    fn bad_options_and_shapes_are_named() {
        let x = orthogonal(3, 3);
        let v = matrix_view(&x, 3, 3).unwrap();
        let bad = |o: VendiOptions| vendi_profile(v, &o).unwrap_err().to_string();
        let e = bad(VendiOptions {
            qs: Some(vec![]),
            ..Default::default()
        });
        assert_eq!(e, "qs: give at least one order");
        let e = bad(VendiOptions {
            qs: Some(vec![-1.0]),
            ..Default::default()
        });
        assert!(e.contains("≥ 0"), "{e}");
        let e = bad(VendiOptions {
            kernel: Some(KernelOption::Rbf),
            bandwidth: Some(BandwidthOption::Name("wide".into())),
            ..Default::default()
        });
        assert!(e.contains("unknown `wide`"), "{e}");
        let same = vec![1.0f32; 9];
        let o = VendiOptions {
            kernel: Some(KernelOption::Rbf),
            ..Default::default()
        };
        let e = vendi_score(matrix_view(&same, 3, 3).unwrap(), &o).unwrap_err();
        assert!(e.to_string().contains("identical rows"), "{e}");
        let e = matrix_view(&x, 2, 3).unwrap_err().to_string();
        assert_eq!(e, "data has 9 values but rows × cols = 2 × 3 = 6");
        let e = integer_labels(&[0.0, 1.5]).unwrap_err().to_string();
        assert_eq!(e, "label 1 is 1.5, not an integer");
        let o = MetricsReportOptions {
            dse_sigma: Some(0.0),
            ..Default::default()
        };
        assert!(o.to_params(v).unwrap_err().to_string().contains("dseSigma"));
    }

    #[test]
    fn per_class_and_report() {
        let x = orthogonal(4, 4);
        let v = matrix_view(&x, 4, 4).unwrap();
        let pc = vendi_per_class(v, &[0.0, 0.0, 1.0, 1.0], &VendiOptions::default()).unwrap();
        assert_eq!(pc.classes.len(), 2);
        assert!((pc.all.score - 4.0).abs() < 1e-9);
        assert!(pc.classes.iter().all(|c| (c.score - 2.0).abs() < 1e-9));
        let o = MetricsReportOptions {
            dse: Some(false),
            seed: Some(3.0),
            ..Default::default()
        };
        let p = o.to_params(v).unwrap();
        assert!(p.dse.is_none() && p.nystrom.seed == 3);
        let r = metrics_report(v, &o).unwrap();
        assert_eq!((r.n, r.d), (4, 4));
    }

    #[test]
    fn load_a_set_and_tensor_metrics() {
        let e: Vec<f32> = (0..2 * 3 * 4).map(|i| (i as f32).sin()).collect();
        let bias = [0.5f32, 1.0];
        let file = safetensors_bytes(&[("bias", &[2], &bias), ("emb", &[2, 3, 4], &e)]);
        let set = EmbeddingSet::load(&file, "e.safetensors", &LoadOptions::default()).unwrap();
        assert_eq!((set.rows, set.cols, set.tensor.as_str()), (6, 4, "emb"));
        assert_eq!(set.data, e);
        assert_eq!(set.tensors.len(), 1);
        assert_eq!(set.tensors[0].dtype, "F32");
        let o = LoadOptions {
            tensor: Some("bias".into()),
        };
        let err = EmbeddingSet::load(&file, "e.safetensors", &o)
            .unwrap_err()
            .to_string();
        assert!(err.contains("need rows × features"), "{err}");
        let o = LoadOptions {
            tensor: Some("nope".into()),
        };
        let err = EmbeddingSet::load(&file, "e.safetensors", &o)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "e.safetensors: no tensor `nope` (has: bias, emb)");
        assert!(set.vendi_profile(&VendiOptions::default()).is_ok());
        assert_eq!(matrix_tensors(&file, "e.safetensors").unwrap(), set.tensors);
        let m = tensor_metrics(&file, "e.safetensors", "emb").unwrap();
        assert_eq!((m.rows, m.cols), (6, 4));
        let sr = metrics::stable_rank(set.view()).unwrap();
        assert_eq!(m.stable_rank, Some(sr));
        assert!(m.error.is_none());
        let err = tensor_metrics(&file, "e.safetensors", "bias")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "bias: shape [2] is not a matrix");
    }
}

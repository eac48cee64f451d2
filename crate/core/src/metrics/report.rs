//! The one-shot metrics table ([`metrics_report`]) and per-class Vendi ([`vendi_per_class`]).

use super::diffusion::{diffusion_spectral_entropy, DseParams};
use super::entropy::{
    centre_normalise_rows, entropy_report, normalised_cov_spectrum,
    roy_vetterli_from_singular_values, stable_rank_from_singular_values, to_f64,
    uncomp_from_spectrum, MatrixEntropyReport, UncompParams, UncompReport,
};
use super::nuclear::{matrix_nuclear_norm, MnnReport};
use super::nystrom::{nystrom_vendi, NystromParams};
use super::vendi::{
    default_q_grid, vendi_score, vendi_spectrum, Kernel, QPoint, VendiParams, VendiPath,
    VendiReport, VendiSpectrum,
};
use crate::linalg::{singular_values, Real};
use crate::{Error, Result};
use ndarray::{ArrayView2, Axis};
use serde::Serialize;
use std::collections::BTreeMap;

/// Parameters of [`metrics_report`].
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsParams {
    /// Orders of the cosine q-profile (default [`default_q_grid`]; finite values only).
    pub q_profile: Vec<f64>,
    /// Bandwidth of the RBF Vendi row; `None` (default) skips it.
    pub rbf_bandwidth: Option<f64>,
    /// Above this many rows the RBF Vendi uses [`nystrom_vendi`] instead of the exact `n × n`
    /// eigen-decomposition. Default 2000.
    pub rbf_exact_max_n: usize,
    /// Landmarks of the Nyström RBF path.
    pub nystrom: NystromParams,
    /// DSE parameters; `None` skips DSE. Default: the anchor's `σ = 10`, `t = 1`, but
    /// `max_n = 2000` (rows beyond are subsampled, seeded) to bound the `O(n³)` cost.
    pub dse: Option<DseParams>,
    /// UNComp truncation (default `k = max(1, d/4)`).
    pub uncomp: UncompParams,
    /// Vendi eigenvalue threshold (see [`VendiParams::rel_threshold`]).
    pub rel_threshold: Option<f64>,
    /// Sample weights for the Vendi rows (see [`VendiParams::weights`]).
    pub weights: Option<Vec<f64>>,
}

impl Default for MetricsParams {
    fn default() -> Self {
        MetricsParams {
            q_profile: default_q_grid(),
            rbf_bandwidth: None,
            rbf_exact_max_n: 2000,
            nystrom: NystromParams::default(),
            dse: Some(DseParams {
                max_n: 2000,
                ..DseParams::default()
            }),
            uncomp: UncompParams::default(),
            rel_threshold: None,
            weights: None,
        }
    }
}

/// Vendi at the orders of the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct VendiOrders {
    /// `q = 0`: the numerical rank of `ρ`.
    pub q0: f64,
    /// `q = ½`.
    pub q_half: f64,
    /// `q = 1` (the Vendi score).
    pub q1: f64,
    /// `q = 2`.
    pub q2: f64,
    /// `q = ∞`: `1/λ_max`.
    pub q_inf: f64,
}

impl VendiOrders {
    /// The five orders from one spectrum.
    pub fn from_spectrum(s: &VendiSpectrum) -> Result<Self> {
        Ok(VendiOrders {
            q0: s.score(0.0)?,
            q_half: s.score(0.5)?,
            q1: s.score(1.0)?,
            q2: s.score(2.0)?,
            q_inf: s.score(f64::INFINITY)?,
        })
    }
}

/// Every metric of a set of rows (see the module doc for definitions). Metrics undefined for
/// this input are `None`, with the reason in `notes`.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsReport {
    /// Rows (items).
    pub n: usize,
    /// Columns (features).
    pub d: usize,
    /// Vendi, cosine kernel.
    pub vendi_cosine: Option<VendiOrders>,
    /// Vendi, linear kernel normalised by its trace (`q = 1` is the σ²-effective rank).
    pub vendi_linear: Option<VendiOrders>,
    /// Vendi, RBF kernel (only with [`MetricsParams::rbf_bandwidth`]).
    pub vendi_rbf: Option<VendiOrders>,
    /// Bandwidth used for `vendi_rbf`.
    pub rbf_bandwidth: Option<f64>,
    /// `"exact"` or `"nystrom"` for `vendi_rbf`.
    pub rbf_method: Option<String>,
    /// Cosine Vendi at each order of [`MetricsParams::q_profile`] (from the one spectrum).
    pub q_profile: Vec<QPoint>,
    /// Eigenvalues of the cosine `ρ` (linear when cosine is undefined), descending, sub-threshold
    /// values as 0: for plotting.
    pub spectrum: Vec<f64>,
    /// `"cosine"` or `"linear"`: which kernel `spectrum` belongs to.
    pub spectrum_kernel: String,
    /// Path of the cosine/linear Vendi (`dual` when `d ≤ n`).
    pub vendi_path: VendiPath,
    /// Relative eigenvalue threshold `τ` of the Vendi rows.
    pub rel_threshold: f64,
    /// Diff-eRank matrix entropy (centred, row-normalised).
    pub matrix_entropy: Option<MatrixEntropyReport>,
    /// Roy–Vetterli effective rank of `X` as given.
    pub roy_vetterli_erank: Option<f64>,
    /// Stable rank `‖X‖_F²/‖X‖₂²`.
    pub stable_rank: Option<f64>,
    /// Nuclear norm `Σσᵢ(X)` of `X` as given.
    pub nuclear_norm: f64,
    /// MNN (`L₁,₂` proxy) and the exact nuclear norm of the centred, normalised rows.
    pub mnn: Option<MnnReport>,
    /// Diffusion spectral entropy in bits.
    pub dse_bits: Option<f64>,
    /// Rows DSE used (after subsampling).
    pub dse_n_used: Option<usize>,
    /// UNComp truncated matrix entropy.
    pub uncomp: Option<UncompReport>,
    /// Why any metric is `None`, and other caveats.
    pub notes: Vec<String>,
}

fn soft<T>(r: Result<T>, what: &str, notes: &mut Vec<String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            notes.push(format!("{what}: {e}"));
            None
        }
    }
}

/// Computes the whole metrics table of the rows of `x` (`n × d`).
///
/// Errors (for the whole table): [`Error::Empty`] for `n = 0` or `d = 0`,
/// [`Error::NonFinite`] for NaN/±Inf, [`Error::InvalidParameter`] for bad parameters. Every
/// other failure only blanks the metric concerned.
pub fn metrics_report(x: ArrayView2<'_, f32>, params: &MetricsParams) -> Result<MetricsReport> {
    metrics_report_generic(x, params)
}

/// [`metrics_report`] for any real element type (f32 or f64).
pub fn metrics_report_generic<T: Real>(
    x: ArrayView2<'_, T>,
    params: &MetricsParams,
) -> Result<MetricsReport> {
    let x = to_f64(x)?;
    let (n, d) = x.dim();
    if let Some(q) = params
        .q_profile
        .iter()
        .find(|q| !(q.is_finite() && **q >= 0.0))
    {
        return Err(Error::InvalidParameter {
            name: "q_profile",
            reason: format!("orders must be finite and ≥ 0 (got {q})"),
        });
    }
    let mut notes = Vec::new();
    let vp = |kernel| VendiParams {
        kernel,
        weights: params.weights.clone(),
        rel_threshold: params.rel_threshold,
        ..VendiParams::default()
    };
    // Bad weights/threshold are the caller's error, not a property of the data.
    super::vendi::weights(params.weights.as_deref(), n)?;
    let cos = soft(
        vendi_spectrum(x.view(), &vp(Kernel::Cosine)),
        "vendi (cosine)",
        &mut notes,
    );
    let lin = soft(
        vendi_spectrum(x.view(), &vp(Kernel::Linear)),
        "vendi (linear)",
        &mut notes,
    );
    let orders = |s: &Option<VendiSpectrum>| s.as_ref().map(VendiOrders::from_spectrum).transpose();
    let vendi_cosine = orders(&cos)?;
    let vendi_linear = orders(&lin)?;
    let q_profile = match &cos {
        Some(s) => params
            .q_profile
            .iter()
            .map(|&q| {
                Ok(QPoint {
                    q,
                    vendi: s.score(q)?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let (spectrum, spectrum_kernel, vendi_path, rel) = match (&cos, &lin) {
        (Some(s), _) => (s.eigenvalues.clone(), "cosine", s.path, s.rel_threshold),
        (None, Some(s)) => (s.eigenvalues.clone(), "linear", s.path, s.rel_threshold),
        (None, None) => (Vec::new(), "cosine", VendiPath::Auto, f64::NAN),
    };

    let (mut vendi_rbf, mut rbf_method) = (None, None);
    if let Some(h) = params.rbf_bandwidth {
        let p = vp(Kernel::Rbf { bandwidth: h });
        let (s, method) = if n <= params.rbf_exact_max_n {
            (vendi_spectrum(x.view(), &p), "exact")
        } else {
            notes.push(format!(
                "vendi (rbf): n = {n} > {}: Nyström approximation with {} landmarks",
                params.rbf_exact_max_n, params.nystrom.landmarks
            ));
            (
                nystrom_vendi(x.view(), &p, &params.nystrom).map(|r| r.spectrum),
                "nystrom",
            )
        };
        if let Some(s) = soft(s, "vendi (rbf)", &mut notes) {
            vendi_rbf = Some(VendiOrders::from_spectrum(&s)?);
            rbf_method = Some(method.to_string());
        }
    }

    // Centred metrics share one Σ spectrum.
    let (mut matrix_entropy, mut uncomp) = (None, None);
    if let Some(z) = soft(centre_normalise_rows(&x), "centred metrics", &mut notes) {
        if let Some(ev) = soft(normalised_cov_spectrum(&z), "matrix entropy", &mut notes) {
            matrix_entropy = Some(entropy_report(&ev, d));
            if d >= 2 {
                uncomp = Some(uncomp_from_spectrum(
                    &ev,
                    params.uncomp.k.unwrap_or((d / 4).max(1)).max(1),
                ));
            } else {
                notes.push("uncomp: needs d ≥ 2".into());
            }
        }
    }
    let mnn = if matrix_entropy.is_some() {
        soft(matrix_nuclear_norm(x.view()), "mnn", &mut notes)
    } else {
        None
    };
    let sv = singular_values(x.view())?;
    let sv = sv.as_slice().expect("contiguous");
    let roy_vetterli_erank = soft(roy_vetterli_from_singular_values(sv), "erank", &mut notes);
    let stable_rank = soft(
        stable_rank_from_singular_values(sv),
        "stable rank",
        &mut notes,
    );
    let nuclear_norm = sv.iter().sum();
    let (mut dse_bits, mut dse_n_used) = (None, None);
    if let Some(dp) = &params.dse {
        if n > dp.max_n {
            notes.push(format!(
                "dse: {n} rows subsampled to {} (seed {})",
                dp.max_n, dp.seed
            ));
        }
        if let Some(r) = soft(diffusion_spectral_entropy(x.view(), dp), "dse", &mut notes) {
            dse_bits = Some(r.entropy_bits);
            dse_n_used = Some(r.n_used);
        }
    }
    Ok(MetricsReport {
        n,
        d,
        vendi_cosine,
        vendi_linear,
        vendi_rbf,
        rbf_bandwidth: params.rbf_bandwidth,
        rbf_method,
        q_profile,
        spectrum,
        spectrum_kernel: spectrum_kernel.to_string(),
        vendi_path,
        rel_threshold: rel,
        matrix_entropy,
        roy_vetterli_erank,
        stable_rank,
        nuclear_norm,
        mnn,
        dse_bits,
        dse_n_used,
        uncomp,
        notes,
    })
}

/// Vendi of one class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassVendi {
    /// The label.
    pub label: i64,
    /// Rows with this label.
    pub count: usize,
    /// Vendi score of those rows.
    pub score: f64,
}

/// Vendi of the whole set and of each class.
#[derive(Debug, Clone, Serialize)]
pub struct PerClassReport {
    /// All rows together.
    pub all: VendiReport,
    /// One entry per distinct label, ascending.
    pub classes: Vec<ClassVendi>,
}

/// Vendi score (kernel, order, threshold from `params`) of all rows and of each class
/// (`labels[i]` is row `i`'s class). Weights, if any, are restricted to each class and
/// renormalised there. Errors: [`Error::Shape`] when `labels.len() ≠ n`, plus those of
/// [`vendi_score`].
pub fn vendi_per_class<T: Real>(
    x: ArrayView2<'_, T>,
    labels: &[i64],
    params: &VendiParams,
) -> Result<PerClassReport> {
    if labels.len() != x.nrows() {
        return Err(Error::Shape {
            expected: format!("{} labels (one per row)", x.nrows()),
            found: format!("{}", labels.len()),
        });
    }
    let all = vendi_score(x, params)?;
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, &l) in labels.iter().enumerate() {
        groups.entry(l).or_default().push(i);
    }
    let classes = groups
        .into_iter()
        .map(|(label, idx)| {
            let sub = x.select(Axis(0), &idx);
            let mut p = params.clone();
            p.weights = params
                .weights
                .as_ref()
                .map(|w| idx.iter().map(|&i| w[i]).collect());
            let r = vendi_score(sub.view(), &p)?;
            Ok(ClassVendi {
                label,
                count: idx.len(),
                score: r.score,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(PerClassReport { all, classes })
}

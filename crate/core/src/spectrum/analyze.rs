//! Model analysis: walk the tensors, build each layer's ESD, fit, and report with
//! WeightWatcher's column names (see [`super::metrics`], [`super::power_law`], [`super::farms`]).
//!
//! Policy differences from WeightWatcher 0.7.7, on purpose:
//! - a failed fit has `status = "failed"` and a `reason`, and its α-dependent columns are empty
//!   (`None`), instead of `-1`; the summary means skip them (WW averages the −1 in);
//! - a tensor that cannot be read (bad dtype, malformed bytes, NaN) becomes a row with
//!   `status = "error"` naming the problem; the rest of the model is still analysed;
//! - every skipped tensor is listed with its reason.

use super::farms::{farms_layer_mode, FarmsParams, FarmsReport};
use super::layers::{layer_esd_mode, LayerEsd, LayerKind, LayerPlan};
use super::marchenko_pastur::{fit_marchenko_pastur, MpFit};
use super::metrics::norm_metrics;
use super::power_law::{
    fit_clipped_power_law, fit_power_law, PowerLawFit, PowerLawParams, XminMethod,
};
use super::power_law::{histogram_peak, EVALS_THRESH};
use super::randomize::{randomize_layer, RandomizeReport};
use super::truncated_power_law::{fit_truncated_power_law, TplParams};
use crate::formats::TensorData;
use crate::linalg::{GramInput, GramParams};
use crate::Result;
use ndarray::ArrayViewD;
use serde::Serialize;

/// WW's `fix_fingers`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FixFingers {
    None,
    /// `clip_xmax` with `max_fingers` (10) and `finger_thresh` (1.0).
    ClipXmax {
        max_fingers: usize,
        finger_thresh: f64,
    },
    /// `xmin_peak` (FARMS/AlphaPruning scan over the window around the ESD's log-peak).
    XminPeak {
        xmin_max: Option<f64>,
    },
}

/// WW's `fit`: the tail model. WW's `'E_TPL'` is `TruncatedPowerLaw` with
/// [`FixFingers::XminPeak`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum FitKind {
    /// `'PL'` (default): WW's own power-law scan ([`super::power_law`]).
    #[default]
    PowerLaw,
    /// `'TPL'`: truncated power law `x^{−α}e^{−Λx}` as powerlaw 1.5 fits it
    /// ([`super::truncated_power_law`]); adds the `Lambda` column. Slow: a 2-parameter
    /// Nelder–Mead per candidate x_min.
    TruncatedPowerLaw,
}

impl FitKind {
    /// WW's `fit` names (case-insensitive): `PL`/`power_law`, `TPL`/`truncated_power_law`, and
    /// `E_TPL`, which also returns `true` = "use `fix_fingers = xmin_peak`" (WW's
    /// `normalize_params`).
    pub fn from_ww_name(name: &str) -> Result<(FitKind, bool)> {
        match name.to_ascii_lowercase().as_str() {
            "pl" | "power_law" => Ok((FitKind::PowerLaw, false)),
            "tpl" | "truncated_power_law" => Ok((FitKind::TruncatedPowerLaw, false)),
            "e_tpl" => Ok((FitKind::TruncatedPowerLaw, true)),
            other => Err(crate::Error::InvalidParameter {
                name: "fit",
                reason: format!("unknown `{other}` (PL | TPL | E_TPL)"),
            }),
        }
    }
}

/// Everything `analyze` can be asked for. `Default` = WeightWatcher 0.7.7's defaults.
#[derive(Debug, Clone, Copy)]
pub struct AnalyzeParams {
    pub walk: super::layers::WalkParams,
    pub fix_fingers: FixFingers,
    /// WW `fit`: PL (default) or TPL.
    pub fit: FitKind,
    /// WW `xmax = -k`: drop the top `k` eigenvalues before fitting.
    pub xmax_clip: Option<usize>,
    /// FARMS beside the classic α (None: off).
    pub farms: Option<FarmsParams>,
    /// WW `mp_fit=True`: Marchenko–Pastur fit of each ESD.
    pub mp_fit: bool,
    /// WW `randomize=True`, with the seed of the shuffles (None: off).
    pub randomize: Option<u64>,
    /// Compute f32 layers' Gram in f64 (default). `false` uses the f32 SIMD Gram: α, x_min and the
    /// norms agree with WW to ~1e-7, but eigenvalues below ~1e-6·λ_max are noise, so
    /// `matrix_rank`, `entropy` and `sv_min` of ill-conditioned layers differ.
    pub exact: bool,
    pub gram: GramParams,
}

impl Default for AnalyzeParams {
    fn default() -> Self {
        AnalyzeParams {
            walk: Default::default(),
            fix_fingers: FixFingers::None,
            fit: FitKind::PowerLaw,
            xmax_clip: None,
            farms: None,
            mp_fit: false,
            randomize: None,
            exact: true,
            gram: GramParams::default(),
        }
    }
}

/// One analysed (or failed) layer. Field names are WeightWatcher's columns.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LayerReport {
    pub layer_id: usize,
    pub name: String,
    pub layer_type: String,
    #[serde(rename = "N")]
    pub n: usize,
    #[serde(rename = "M")]
    pub m: usize,
    pub rf: usize,
    #[serde(rename = "Q")]
    pub q: f64,
    pub num_evals: usize,
    pub sv_max: f64,
    pub sv_min: f64,
    pub rank_loss: usize,
    pub weak_rank_loss: usize,
    pub lambda_max: f64,
    pub alpha: Option<f64>,
    pub xmin: Option<f64>,
    pub xmax: Option<f64>,
    #[serde(rename = "D")]
    pub d: Option<f64>,
    pub sigma: Option<f64>,
    pub num_pl_spikes: Option<usize>,
    /// TPL's exponential cut-off `Λ` (WW column `Lambda`; only with `fit = TPL`).
    #[serde(rename = "Lambda")]
    pub lambda: Option<f64>,
    pub status: String,
    pub warning: String,
    pub norm: f64,
    pub log_norm: f64,
    pub spectral_norm: f64,
    pub log_spectral_norm: f64,
    pub alpha_weighted: Option<f64>,
    pub log_alpha_norm: Option<f64>,
    pub stable_rank: f64,
    pub matrix_rank: usize,
    pub entropy: f64,
    pub num_fingers: Option<usize>,
    pub raw_alpha: Option<f64>,
    /// Plain Hill α of the full ESD at the median (the estimator FARMS uses, without windows).
    pub alpha_hill: Option<f64>,
    pub farms: Option<FarmsReport>,
    /// MP fit columns (`num_spikes, sigma_mp, mp_softrank, W_scale, bulk_max, bulk_min`).
    pub mp: Option<MpFit>,
    /// Randomisation columns; `num_traps` = spikes of the randomised ESD's MP fit.
    pub rand: Option<RandomizeReport>,
    pub num_traps: Option<usize>,
    /// Why the fit failed / the tensor errored.
    pub reason: Option<String>,
    /// The ESD itself (ascending), for charts; not written to CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evals: Option<Vec<f64>>,
}

/// WW `get_summary()`: means over analysed rows (failed fits excluded, see the module doc).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub log_norm: f64,
    pub alpha: f64,
    pub alpha_weighted: f64,
    pub log_alpha_norm: f64,
    pub log_spectral_norm: f64,
    pub stable_rank: f64,
    pub mp_softrank: Option<f64>,
    pub farms_alpha: Option<f64>,
}

/// The whole analysis.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ModelReport {
    pub layers: Vec<LayerReport>,
    pub skipped: Vec<LayerPlan>,
    pub summary: Summary,
}

const WEAK_RANK_TOL: f64 = 1e-6;

/// The tail fit of one layer, whatever the model.
struct LayerFit {
    alpha: f64,
    xmin: f64,
    xmax: Option<f64>,
    d: f64,
    sigma: Option<f64>,
    lambda: Option<f64>,
    num_fingers: Option<usize>,
    raw_alpha: Option<f64>,
}

impl LayerFit {
    fn pl(f: PowerLawFit, num_fingers: Option<usize>, raw_alpha: Option<f64>) -> Self {
        LayerFit {
            alpha: f.alpha,
            xmin: f.xmin,
            xmax: Some(f.xmax),
            d: f.d,
            sigma: Some(f.sigma),
            lambda: None,
            num_fingers,
            raw_alpha,
        }
    }
}

fn fit_layer(evals: &[f64], p: &AnalyzeParams) -> Result<LayerFit> {
    let ev: &[f64] = match p.xmax_clip {
        Some(k) if k > 0 => {
            if 2 * k > evals.len() {
                return Err(crate::Error::InvalidParameter {
                    name: "xmax",
                    reason: format!("clipping {k} of {} eigenvalues", evals.len()),
                });
            }
            &evals[..evals.len() - k]
        }
        _ => evals,
    };
    if p.fit == FitKind::TruncatedPowerLaw {
        let xmin_range = match p.fix_fingers {
            FixFingers::None => None,
            FixFingers::XminPeak { xmin_max } => {
                let nz: Vec<f64> = ev.iter().copied().filter(|&v| v > EVALS_THRESH).collect();
                if nz.is_empty() {
                    return Err(crate::Error::InvalidParameter {
                        name: "evals",
                        reason: "no eigenvalue above the fitting threshold".into(),
                    });
                }
                let peak = histogram_peak(&nz, 100);
                // sic: WW's lower bound is a log10 value used as a linear bound.
                Some(((0.95 * peak).log10(), xmin_max.unwrap_or(1.5 * peak)))
            }
            FixFingers::ClipXmax { .. } => {
                return Err(crate::Error::InvalidParameter {
                    name: "fix_fingers",
                    reason: "clip_xmax fits a plain power law; it cannot be combined with TPL"
                        .into(),
                })
            }
        };
        let f = fit_truncated_power_law(ev, EVALS_THRESH, &TplParams { xmin_range })?;
        return Ok(LayerFit {
            alpha: f.alpha,
            xmin: f.xmin,
            xmax: None,
            d: f.d,
            sigma: None,
            lambda: Some(f.lambda),
            num_fingers: None,
            raw_alpha: None,
        });
    }
    match p.fix_fingers {
        FixFingers::None => Ok(LayerFit::pl(
            fit_power_law(ev, &PowerLawParams::default())?,
            None,
            None,
        )),
        FixFingers::ClipXmax {
            max_fingers,
            finger_thresh,
        } => {
            let (f, nf, raw) =
                fit_clipped_power_law(ev, &PowerLawParams::default(), max_fingers, finger_thresh)?;
            Ok(LayerFit::pl(f, Some(nf), Some(raw.alpha)))
        }
        FixFingers::XminPeak { xmin_max } => {
            let pp = PowerLawParams {
                xmin_method: XminMethod::Peak {
                    bins: 100,
                    xmin_max,
                    drop_last: true,
                },
                ..Default::default()
            };
            Ok(LayerFit::pl(fit_power_law(ev, &pp)?, None, None))
        }
    }
}

fn analyze_typed<T: GramInput>(
    t: ArrayViewD<'_, T>,
    plan: &LayerPlan,
    p: &AnalyzeParams,
    keep_evals: bool,
) -> LayerReport {
    let kind = plan.kind.unwrap_or(LayerKind::Dense);
    let esd = match layer_esd_mode(t.view(), kind, &p.gram, p.exact) {
        Ok(e) => e,
        Err(e) => {
            let mut r = base_report(plan);
            r.status = "error".into();
            r.reason = Some(format!("{}: {e}", plan.name));
            return r;
        }
    };
    let mut r = report_from_esd(&esd, plan, p);
    if let Some(fp) = &p.farms {
        match farms_layer_mode(t.view(), kind, fp, &p.gram, p.exact) {
            Ok(f) => r.farms = Some(f),
            Err(e) => r.reason = Some(format!("FARMS: {e}")),
        }
    }
    if let Some(seed) = p.randomize {
        // One stream per layer: the seed mixed with the layer's position in the file.
        let layer_seed = seed ^ (plan.index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        match randomize_layer(
            t.view(),
            kind,
            &esd.evals,
            plan.n,
            plan.m,
            layer_seed,
            &p.gram,
            p.exact,
        ) {
            Ok(rr) => {
                r.num_traps = rr.rand_mp.map(|m| m.num_spikes);
                r.rand = Some(rr);
            }
            Err(e) => r.reason = Some(format!("randomize: {e}")),
        }
    }
    if keep_evals {
        r.evals = Some(esd.evals);
    }
    r
}

/// A row with the plan's facts (name, shape, type) and nothing measured yet.
fn base_report(plan: &LayerPlan) -> LayerReport {
    let kind = plan.kind.unwrap_or(LayerKind::Dense);
    LayerReport {
        layer_id: plan.layer_id,
        name: plan.name.clone(),
        layer_type: match kind {
            LayerKind::Dense => "dense".into(),
            LayerKind::Conv2d => "conv2d".into(),
        },
        n: plan.n,
        m: plan.m,
        rf: plan.rf,
        q: plan.n as f64 / plan.m as f64,
        ..Default::default()
    }
}

/// The row of a layer from its ESD alone: everything but FARMS and randomization (which need
/// the matrix itself) — fits, norms, ranks, Hill α and the MP fit.
pub(crate) fn report_from_esd(esd: &LayerEsd, plan: &LayerPlan, p: &AnalyzeParams) -> LayerReport {
    let mut r = base_report(plan);
    let ev = &esd.evals;
    r.num_evals = ev.len();
    r.sv_max = esd.sv_max;
    r.sv_min = esd.sv_min;
    r.rank_loss = esd.rank_loss;
    r.weak_rank_loss = ev.iter().filter(|&&l| l < WEAK_RANK_TOL).count();
    r.lambda_max = *ev.last().unwrap_or(&0.0);
    let fit = fit_layer(ev, p);
    let alpha_for_norms = fit.as_ref().map(|f| f.alpha).unwrap_or(f64::NAN);
    let nm = norm_metrics(ev, alpha_for_norms, plan.n);
    r.norm = nm.norm;
    r.log_norm = nm.log_norm;
    r.spectral_norm = nm.spectral_norm;
    r.log_spectral_norm = nm.log_spectral_norm;
    r.stable_rank = nm.stable_rank;
    r.matrix_rank = nm.matrix_rank;
    r.entropy = nm.entropy;
    match fit {
        Ok(f) => {
            r.alpha = Some(f.alpha);
            r.xmin = Some(f.xmin);
            r.xmax = f.xmax;
            r.d = Some(f.d);
            r.sigma = f.sigma;
            r.lambda = f.lambda;
            r.num_pl_spikes = Some(ev.iter().filter(|&&l| l >= f.xmin).count());
            r.alpha_weighted = Some(nm.alpha_weighted);
            r.log_alpha_norm = Some(nm.log_alpha_norm);
            r.num_fingers = f.num_fingers;
            r.raw_alpha = f.raw_alpha;
            r.status = "success".into();
            r.warning = if f.alpha < 2.0 {
                "over-trained".into()
            } else if f.alpha > 6.0 {
                "under-trained".into()
            } else {
                String::new()
            };
        }
        Err(e) => {
            r.status = "failed".into();
            r.reason = Some(e.to_string());
        }
    }
    let hill = PowerLawParams {
        xmin_method: XminMethod::Median,
        evals_thresh: None,
        keep_scan: false,
    };
    r.alpha_hill = fit_power_law(ev, &hill).ok().map(|f| f.alpha);
    if p.mp_fit {
        match fit_marchenko_pastur(ev, plan.n, plan.m) {
            Ok(m) => r.mp = Some(m),
            Err(e) => r.reason = Some(format!("MP fit: {e}")),
        }
    }
    add_degenerate_warnings(&mut r);
    r
}

/// Fewer eigenvalues than this in the fitted tail (`num_pl_spikes`) make a fit degenerate.
pub const DEGENERATE_MIN_TAIL: usize = 5;

/// The `degenerate:*` tags of a row whose WeightWatcher numbers are formally fine but
/// meaningless (see [`add_degenerate_warnings`]).
pub fn degenerate_tags(r: &LayerReport) -> Vec<&'static str> {
    let mut tags = Vec::new();
    if r.alpha.is_some_and(|a| !a.is_finite()) {
        tags.push("degenerate:alpha-inf");
    }
    if r.num_pl_spikes.is_some_and(|k| k < DEGENERATE_MIN_TAIL) {
        tags.push("degenerate:few-tail");
    }
    if !(r.entropy.is_finite() && (-1e-9..=1.0 + 1e-9).contains(&r.entropy)) {
        tags.push("degenerate:entropy-range");
    }
    let non_finite = |v: Option<f64>| v.is_some_and(|x| !x.is_finite());
    if non_finite(r.alpha_weighted) || non_finite(r.log_alpha_norm) {
        tags.push("degenerate:alpha-norm-inf");
    }
    tags
}

/// Appends the `degenerate:*` tags to the `warning` column, `;`-separated after WeightWatcher's
/// own value (`over-trained` / `under-trained` / empty), which stays first and unchanged. The
/// numbers themselves are WeightWatcher's (α = inf for an identity matrix, entropy ≫ 1 for an
/// exactly rank-1 matrix, …): the tags say they should not be trusted. Tags:
/// - `degenerate:alpha-inf`: α is not finite (e.g. all eigenvalues equal, identity matrix);
/// - `degenerate:few-tail`: the fit used fewer than [`DEGENERATE_MIN_TAIL`] eigenvalues;
/// - `degenerate:entropy-range`: the spectral entropy is outside its documented range [0, 1]
///   (WW divides by `log(rank)`, which is ~0 for a rank-1 matrix);
/// - `degenerate:alpha-norm-inf`: `alpha_weighted` or `log_alpha_norm` is not finite.
pub fn add_degenerate_warnings(r: &mut LayerReport) {
    let tags = degenerate_tags(r);
    if tags.is_empty() {
        return;
    }
    let mut all: Vec<&str> = Vec::new();
    if !r.warning.is_empty() {
        all.push(&r.warning);
    }
    all.extend(tags);
    r.warning = all.join(";");
}

/// Analyses one tensor according to its plan (`plan.kind` must be set).
pub fn analyze_layer(
    data: &TensorData,
    plan: &LayerPlan,
    params: &AnalyzeParams,
    keep_evals: bool,
) -> LayerReport {
    // f32 with `exact`: the exact Gram reads the f32 entries (no widened copy of the tensor).
    match data {
        TensorData::F32(a) => analyze_typed(a.view(), plan, params, keep_evals),
        TensorData::F64(a) => analyze_typed(a.view(), plan, params, keep_evals),
    }
}

/// A row for a tensor that could not be loaded.
pub fn error_report(plan: &LayerPlan, message: String) -> LayerReport {
    LayerReport {
        status: "error".into(),
        reason: Some(message),
        ..base_report(plan)
    }
}

/// Means over the rows with a successful fit (see the module doc).
pub fn summarize(layers: &[LayerReport]) -> Summary {
    let ok: Vec<&LayerReport> = layers.iter().filter(|l| l.status == "success").collect();
    let mean = |f: &dyn Fn(&LayerReport) -> f64| {
        if ok.is_empty() {
            f64::NAN
        } else {
            ok.iter().map(|l| f(l)).sum::<f64>() / ok.len() as f64
        }
    };
    let farms: Vec<f64> = ok
        .iter()
        .filter_map(|l| l.farms.as_ref().map(|f| f.alpha))
        .collect();
    Summary {
        log_norm: mean(&|l| l.log_norm),
        alpha: mean(&|l| l.alpha.unwrap_or(f64::NAN)),
        alpha_weighted: mean(&|l| l.alpha_weighted.unwrap_or(f64::NAN)),
        log_alpha_norm: mean(&|l| l.log_alpha_norm.unwrap_or(f64::NAN)),
        log_spectral_norm: mean(&|l| l.log_spectral_norm),
        stable_rank: mean(&|l| l.stable_rank),
        mp_softrank: {
            let v: Vec<f64> = ok
                .iter()
                .filter_map(|l| l.mp.map(|m| m.mp_softrank))
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        },
        farms_alpha: (!farms.is_empty()).then(|| farms.iter().sum::<f64>() / farms.len() as f64),
    }
}

/// Analyses already-loaded tensors, in parallel over layers when `params.gram.parallel` and the
/// `parallel` feature allow (one layer per task); rows come back in input order, identical to a
/// sequential run. Inside a layer the work may split further (Gram lanes, FARMS windows): rayon
/// steals it when a big layer (an embedding) is left alone at the end of a batch. Every split is
/// thread-count invariant, so the rows do not depend on how the work was scheduled.
pub fn analyze_loaded(
    batch: &[(&LayerPlan, Result<TensorData>)],
    params: &AnalyzeParams,
    keep_evals: bool,
) -> Vec<LayerReport> {
    let layer_parallel = params.gram.parallel && batch.len() > 1;
    crate::parallel::map_collect(batch, layer_parallel, |(plan, data)| match data {
        Ok(d) => analyze_layer(d, plan, params, keep_evals),
        Err(e) => error_report(plan, format!("{}: {e}", plan.name)),
    })
}

/// Analyses every planned tensor. `load` reads a tensor (called on the calling thread, in file
/// order); tensors are analysed in batches of [`crate::parallel::available_threads`] layers,
/// in parallel when the build has threads. `progress(done, total, name)` is called before each
/// layer and may return `false` to stop (the finished rows are kept).
pub fn analyze_model(
    plans: &[LayerPlan],
    mut load: impl FnMut(&LayerPlan) -> Result<TensorData>,
    params: &AnalyzeParams,
    mut progress: impl FnMut(usize, usize, &str) -> bool,
) -> ModelReport {
    let todo: Vec<&LayerPlan> = plans.iter().filter(|p| p.skip.is_none()).collect();
    let batch_size = if params.gram.parallel {
        crate::parallel::available_threads().max(1)
    } else {
        1
    };
    let mut layers = Vec::with_capacity(todo.len());
    let mut stop = false;
    for chunk in todo.chunks(batch_size) {
        let mut batch = Vec::with_capacity(chunk.len());
        for plan in chunk {
            if !progress(layers.len() + batch.len(), todo.len(), &plan.name) {
                stop = true;
                break;
            }
            batch.push((*plan, load(plan)));
        }
        layers.extend(analyze_loaded(&batch, params, false));
        if stop {
            break;
        }
    }
    progress(layers.len(), todo.len(), "");
    let summary = summarize(&layers);
    ModelReport {
        layers,
        skipped: plans.iter().filter(|p| p.skip.is_some()).cloned().collect(),
        summary,
    }
}

/// CSV columns, in order (WW's names; `farms_*` and `reason` are Spectralab's).
pub const CSV_COLUMNS: &[&str] = &[
    "layer_id",
    "name",
    "layer_type",
    "N",
    "M",
    "rf",
    "Q",
    "num_evals",
    "sv_max",
    "sv_min",
    "rank_loss",
    "weak_rank_loss",
    "lambda_max",
    "alpha",
    "xmin",
    "xmax",
    "D",
    "sigma",
    "num_pl_spikes",
    "Lambda",
    "status",
    "warning",
    "norm",
    "log_norm",
    "spectral_norm",
    "log_spectral_norm",
    "alpha_weighted",
    "log_alpha_norm",
    "stable_rank",
    "matrix_rank",
    "entropy",
    "num_fingers",
    "raw_alpha",
    "alpha_hill",
    "farms_alpha",
    "farms_D",
    "farms_num_windows",
    "num_spikes",
    "sigma_mp",
    "mp_softrank",
    "W_scale",
    "bulk_max",
    "bulk_min",
    "max_rand_eval",
    "rand_distance",
    "ww_softrank",
    "ww_maxdist",
    "num_traps",
    "reason",
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(v: f64) -> String {
    // Shortest representation that round-trips.
    format!("{v:?}")
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The CSV row of a layer that could not be analysed (`status = error`): the plan's facts
/// (id, name, type, shape) and the reason; every measured cell is empty, never a made-up 0.
fn error_csv_row(l: &LayerReport) -> String {
    let mut cells = vec![String::new(); CSV_COLUMNS.len()];
    for (i, c) in CSV_COLUMNS.iter().enumerate() {
        cells[i] = match *c {
            "layer_id" => l.layer_id.to_string(),
            "name" => csv_field(&l.name),
            "layer_type" => l.layer_type.clone(),
            "N" if l.n > 0 => l.n.to_string(),
            "M" if l.m > 0 => l.m.to_string(),
            "rf" if l.rf > 0 => l.rf.to_string(),
            "Q" if l.m > 0 => num(l.q),
            "status" => l.status.clone(),
            "warning" => csv_field(&l.warning),
            "reason" => csv_field(l.reason.as_deref().unwrap_or("")),
            _ => String::new(),
        };
    }
    let mut row = cells.join(",");
    row.push('\n');
    row
}

/// The report as CSV: analysed rows, then skipped tensors (`status = skipped`, `reason`).
pub fn to_csv(report: &ModelReport) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    for l in &report.layers {
        if l.status == "error" {
            out.push_str(&error_csv_row(l));
            continue;
        }
        let f = l.farms.as_ref();
        let cells = [
            l.layer_id.to_string(),
            csv_field(&l.name),
            l.layer_type.clone(),
            l.n.to_string(),
            l.m.to_string(),
            l.rf.to_string(),
            num(l.q),
            l.num_evals.to_string(),
            num(l.sv_max),
            num(l.sv_min),
            l.rank_loss.to_string(),
            l.weak_rank_loss.to_string(),
            num(l.lambda_max),
            opt(l.alpha.map(num)),
            opt(l.xmin.map(num)),
            opt(l.xmax.map(num)),
            opt(l.d.map(num)),
            opt(l.sigma.map(num)),
            opt(l.num_pl_spikes),
            opt(l.lambda.map(num)),
            l.status.clone(),
            l.warning.clone(),
            num(l.norm),
            num(l.log_norm),
            num(l.spectral_norm),
            num(l.log_spectral_norm),
            opt(l.alpha_weighted.map(num)),
            opt(l.log_alpha_norm.map(num)),
            num(l.stable_rank),
            l.matrix_rank.to_string(),
            num(l.entropy),
            opt(l.num_fingers),
            opt(l.raw_alpha.map(num)),
            opt(l.alpha_hill.map(num)),
            opt(f.map(|f| num(f.alpha))),
            opt(f.map(|f| num(f.d))),
            opt(f.map(|f| f.num_windows)),
            opt(l.mp.map(|m| m.num_spikes)),
            opt(l.mp.map(|m| num(m.sigma_mp))),
            opt(l.mp.map(|m| num(m.mp_softrank))),
            opt(l.mp.map(|m| num(m.w_scale))),
            opt(l.mp.map(|m| num(m.bulk_max))),
            opt(l.mp.map(|m| num(m.bulk_min))),
            opt(l.rand.as_ref().map(|x| num(x.max_rand_eval))),
            opt(l.rand.as_ref().map(|x| num(x.rand_distance))),
            opt(l.rand.as_ref().map(|x| num(x.ww_softrank))),
            opt(l.rand.as_ref().map(|x| num(x.ww_maxdist))),
            opt(l.num_traps),
            csv_field(l.reason.as_deref().unwrap_or("")),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    for s in &report.skipped {
        let mut cells = vec![String::new(); CSV_COLUMNS.len()];
        cells[0] = s.layer_id.to_string();
        cells[1] = csv_field(&s.name);
        let status = CSV_COLUMNS.iter().position(|c| *c == "status").unwrap_or(0);
        cells[status] = "skipped".into();
        cells[CSV_COLUMNS.len() - 1] = csv_field(s.skip.as_deref().unwrap_or(""));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Reads a model file's index and plans the walk (which tensors are layers, which are skipped
/// and why). Returns the index too, for [`analyze_planned_layer`].
pub fn plan_source(
    src: &dyn crate::formats::ByteSource,
    name_hint: &str,
    params: &AnalyzeParams,
) -> Result<(crate::formats::TensorIndex, Vec<LayerPlan>)> {
    use crate::formats::{gguf_layer_order, read_index, Dtype, FileFormat};
    let index = read_index(src, name_hint)?;
    // GGUF: walk token_embd, then blk.N by block number, then the rest (writers need not store
    // them in that order); other formats: file order.
    let order: Vec<usize> = if index.format == FileFormat::Gguf {
        let names: Vec<&str> = index.tensors.iter().map(|t| t.name.as_str()).collect();
        gguf_layer_order(&names)
    } else {
        (0..index.tensors.len()).collect()
    };
    let described: Vec<(String, Vec<usize>, Option<String>)> = order
        .iter()
        .map(|&i| {
            let t = &index.tensors[i];
            let problem = match &t.dtype {
                Dtype::Other(d) => Some(format!(
                    "unsupported dtype {d} (supported: F64, F32, F16, BF16)"
                )),
                Dtype::Ggml(g) if !g.can_dequantize() => Some(format!("unsupported GGUF type {g}")),
                _ => None,
            };
            (t.name.clone(), t.shape.clone(), problem)
        })
        .collect();
    // A state dict names its layers `*.weight`; a bare array file (.npy, or an .npz of
    // embeddings) does not, so then every 2-D/4-D tensor is a layer.
    let mut walk = params.walk;
    if !index.tensors.iter().any(|t| t.name.ends_with(".weight")) {
        walk.weights_only = false;
    }
    let mut plans = super::layers::plan_layers(&described, &walk);
    for p in &mut plans {
        p.index = order[p.index];
    }
    Ok((index, plans))
}

/// WeightWatcher's `layers=[…]` filter: keeps the planned layers whose name contains one of
/// `patterns` (a numeric pattern selects by `layer_id` instead); the others become skipped with the
/// reason "not selected". An empty `patterns` selects everything. Returns how many stay.
pub fn select_layers(plans: &mut [LayerPlan], patterns: &[String]) -> usize {
    let mut kept = 0;
    for p in plans
        .iter_mut()
        .filter(|p| p.skip.is_none() || p.size_gated)
    {
        let hit = patterns.is_empty()
            || patterns.iter().any(|pat| match pat.parse::<usize>() {
                Ok(id) => id == p.layer_id,
                Err(_) => p.name.contains(pat.as_str()),
            });
        if !hit {
            p.skip = Some("not selected (layers filter)".into());
            p.size_gated = false;
        } else if p.skip.is_none() {
            kept += 1;
        }
    }
    kept
}

/// Reads and analyses one planned layer (a row with `status = "error"` if it cannot be read).
pub fn analyze_planned_layer(
    src: &dyn crate::formats::ByteSource,
    index: &crate::formats::TensorIndex,
    plan: &LayerPlan,
    params: &AnalyzeParams,
    keep_evals: bool,
) -> LayerReport {
    use crate::formats::{read_tensor, ReadParams};
    match read_tensor(src, &index.tensors[plan.index], &ReadParams::default()) {
        Ok(data) => analyze_layer(&data, plan, params, keep_evals),
        Err(e) => error_report(plan, format!("{}: {e}", plan.name)),
    }
}

/// Reads the planned layers `batch` (sequentially, on the calling thread) and analyses them,
/// in parallel over layers in the threaded build (see [`analyze_loaded`]).
pub fn analyze_planned_layers(
    src: &dyn crate::formats::ByteSource,
    index: &crate::formats::TensorIndex,
    batch: &[&LayerPlan],
    params: &AnalyzeParams,
    keep_evals: bool,
) -> Vec<LayerReport> {
    use crate::formats::{read_tensor, ReadParams};
    let loaded: Vec<(&LayerPlan, Result<TensorData>)> = batch
        .iter()
        .map(|p| {
            (
                *p,
                read_tensor(src, &index.tensors[p.index], &ReadParams::default()),
            )
        })
        .collect();
    analyze_loaded(&loaded, params, keep_evals)
}

/// Reads a model file's index from `src`, plans the walk and analyses it (see [`analyze_model`]).
/// `name_hint` (file name) names `.npy` tensors and sharpens format errors.
pub fn analyze_source(
    src: &dyn crate::formats::ByteSource,
    name_hint: &str,
    params: &AnalyzeParams,
    progress: impl FnMut(usize, usize, &str) -> bool,
) -> Result<ModelReport> {
    use crate::formats::{read_tensor, ReadParams};
    let (index, plans) = plan_source(src, name_hint, params)?;
    let read = ReadParams::default();
    Ok(analyze_model(
        &plans,
        |plan| read_tensor(src, &index.tensors[plan.index], &read),
        params,
        progress,
    ))
}

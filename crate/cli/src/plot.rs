//! `spectralab analyze FILE --plot DIR`: the analysis of [`analyze_source`], keeping each
//! layer's ESD, then SVG charts (`spectralab-plot`) in `DIR`:
//! `alpha.svg` (α per layer) and, per analysed layer, `esd_<name>.svg` and `rank_<name>.svg`,
//! `<name>` being the layer name with every character outside `[A-Za-z0-9._-]` replaced by `_`.
//!
//! [`analyze_source`]: spectralab_core::spectrum::analyze::analyze_source

use spectralab_core::formats::ByteSource;
use spectralab_core::spectrum::analyze::{
    analyze_planned_layer, plan_source, select_layers, summarize, AnalyzeParams, ModelReport,
};
use spectralab_plot::{alpha_chart, esd_chart, rank_chart, ChartLayer, ChartOptions};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// [`analyze_source`](spectralab_core::spectrum::analyze::analyze_source) with the ESDs kept
/// (`LayerReport::evals`); the same progress protocol.
pub fn analyze_keeping_evals(
    src: &dyn ByteSource,
    name_hint: &str,
    params: &AnalyzeParams,
    select: &[String],
    mut progress: impl FnMut(usize, usize, &str) -> bool,
) -> Result<ModelReport, String> {
    let (index, mut plans) = plan_source(src, name_hint, params).map_err(|e| e.to_string())?;
    select_layers(&mut plans, select);
    let todo: Vec<_> = plans.iter().filter(|p| p.skip.is_none()).collect();
    let mut layers = Vec::with_capacity(todo.len());
    for (i, plan) in todo.iter().enumerate() {
        if !progress(i, todo.len(), &plan.name) {
            break;
        }
        layers.push(analyze_planned_layer(src, &index, plan, params, true));
    }
    progress(layers.len(), todo.len(), "");
    let summary = summarize(&layers);
    Ok(ModelReport {
        layers,
        skipped: plans.iter().filter(|p| p.skip.is_some()).cloned().collect(),
        summary,
    })
}

/// File-name-safe form of a layer name.
pub fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

/// Writes the charts of `report` (which must hold the ESDs) into `dir` (created if needed).
/// Returns the files written and one line per layer that could not be charted.
pub fn write_charts(
    report: &ModelReport,
    dir: &Path,
) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let opts = ChartOptions::default();
    let mut written = Vec::new();
    let mut problems = Vec::new();
    let mut write = |name: String, svg: &str| -> Result<(), String> {
        let p = dir.join(name);
        std::fs::write(&p, svg).map_err(|e| format!("{}: {e}", p.display()))?;
        written.push(p);
        Ok(())
    };
    let layers: Vec<ChartLayer> = report.layers.iter().map(ChartLayer::from).collect();
    match alpha_chart(&layers, &opts) {
        Ok(c) => write("alpha.svg".into(), &c.svg)?,
        Err(e) => problems.push(format!("alpha.svg: {e}")),
    }
    let mut used = HashSet::new();
    for l in &layers {
        let mut stem = sanitize(&l.name);
        let mut k = 2;
        while !used.insert(stem.clone()) {
            stem = format!("{}_{k}", sanitize(&l.name));
            k += 1;
        }
        for (kind, chart) in [("esd", esd_chart(l, &opts)), ("rank", rank_chart(l, &opts))] {
            match chart {
                Ok(c) => write(format!("{kind}_{stem}.svg"), &c.svg)?,
                Err(e) => problems.push(format!("{kind}_{stem}.svg: {e}")),
            }
        }
    }
    Ok((written, problems))
}

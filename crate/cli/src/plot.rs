//! `spectralab analyze FILE --plot DIR`: the session's analysis with each layer's ESD kept,
//! then SVG charts (`spectralab-plot`) in `DIR`:
//! `alpha.svg` (α per layer) and, per analysed layer, `esd_<name>.svg` and `rank_<name>.svg`,
//! `<name>` being the layer name with every character outside `[A-Za-z0-9._-]` replaced by `_`.

use spectralab_core::spectrum::analyze::ModelReport;
use spectralab_plot::{alpha_chart, esd_chart, rank_chart, ChartLayer, ChartOptions};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

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

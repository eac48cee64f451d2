//! Helpers shared by the integration tests that compare against committed goldens.
#![allow(dead_code)] // each test binary uses its own subset

use serde_json::Value;
use spectralab_core::spectrum::analyze::LayerReport;
use std::path::{Path, PathBuf};

/// The repository root (goldens live under `tests/goldens/`, cached models under `.cache/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A WeightWatcher column of a layer row as f64: top-level columns, and the MP-fit columns
/// (`num_spikes`, `sigma_mp`, `mp_softrank`, `W_scale`, `bulk_max`, `bulk_min`) from `mp`.
pub fn field(l: &LayerReport, col: &str) -> Option<f64> {
    const MP: [&str; 6] = [
        "num_spikes",
        "sigma_mp",
        "mp_softrank",
        "W_scale",
        "bulk_max",
        "bulk_min",
    ];
    let v = serde_json::to_value(l).unwrap();
    let pick = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    if l.mp.is_some() && MP.contains(&col) {
        pick(&v["mp"], col)
    } else {
        pick(&v, col)
    }
}

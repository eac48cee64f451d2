//! What the npm CLI (`web/bin/spectralab.mjs`) needs, beyond the other modules' exports, to
//! print the same numbers as the native `spectralab metrics` (`crate/cli/src/metrics.rs`).

use wasm_bindgen::prelude::*;

use crate::{js_err, view};

/// Median of the pairwise Euclidean distances of the first `max_rows` rows (the "median
/// heuristic" RBF bandwidth, `spectralab_core::metrics::median_pairwise_distance`). The native
/// CLI's `--bandwidth median` uses `max_rows = 2000`; `vendiScore`'s `"auto"` uses 1000.
#[wasm_bindgen(js_name = medianPairwiseDistance)]
pub fn median_pairwise_distance(
    data: &[f32],
    rows: usize,
    cols: usize,
    max_rows: usize,
) -> Result<f64, JsError> {
    let x = view(data, rows, cols)?;
    spectralab_core::metrics::median_pairwise_distance(x, max_rows).map_err(js_err)
}

//! What every fuzz target does with its input: open it the way the CLI, Node and the page do
//! (format sniffed, `name` only a hint), then read every tensor it lists, whole and by row
//! blocks, with a small memory budget. Any outcome is fine except a panic, an abort (out of
//! memory: the budget must be checked *before* allocating) or a hang.

use spectralab_core::formats::{
    can_read_blocks, read_block, read_index, read_tensor, ByteSource, ReadParams,
};
use spectralab_core::session::{AnalyzeOptions, ModelSession};

/// Largest tensor a fuzz input may make us decode (bytes).
pub const MAX_TENSOR_BYTES: u64 = 8 << 20;

/// Index, then every tensor whole and its first row block.
pub fn read_file(data: &[u8], name: &str) {
    let Ok(index) = read_index(&data, name) else {
        return;
    };
    let params = ReadParams {
        max_tensor_bytes: MAX_TENSOR_BYTES,
        chunk_bytes: 4096,
    };
    for e in &index.tensors {
        let _ = read_tensor(&data, e, &params);
        if can_read_blocks(e) && !e.shape.is_empty() {
            let rows = e.shape[0].min(2);
            let cols = e.shape[1..]
                .iter()
                .fold(1usize, |a, &b| a.saturating_mul(b))
                .min(64);
            // A block's decoded size is rows × cols × 8 at most: bounded above.
            let _ = read_block(&data, e, 0..rows, 0..cols);
        }
    }
    // The session merges the index into plans (names, depth order, shapes).
    let owned = data.to_vec();
    if let Ok(s) = ModelSession::open(
        vec![(name.to_string(), Box::new(owned) as Box<dyn ByteSource>)],
        AnalyzeOptions::default(),
    ) {
        let _ = s.info();
    }
}

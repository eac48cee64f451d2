//! What a caller does with an opened model, computed once.
//!
//! - [`options`]: the analysis options shared by the CLI, the wasm bindings and Node (one serde
//!   type; camelCase on the wire; unknown keys refused).
//! - [`model`]: [`ModelSession`], the one owner of an opened model: its byte sources (one file or
//!   many shards), the merged tensor index in depth order, the layer plans and the cached
//!   spectra. Large layers are streamed by row blocks ([`crate::spectrum::stream`]).
//! - [`embeddings`]: [`EmbeddingSet`] (an embedding matrix loaded from a file) and the
//!   metrics served on any embedding matrix (Vendi scores and profiles, the metrics table).
//! - [`compress`]: truncation curves as columns, the rank planner, structured trade-offs.
//! - [`transform`]: the transform explorer (test signals, magnitude spectra, compaction).
//! - [`quant`]: the spectrum-independent part of compression on a session: each 2-D weight
//!   quantized with llama.cpp's types by row blocks, and the quantization plan.

pub mod compress;
pub mod embeddings;
pub mod model;
pub mod options;
pub mod quant;
pub mod transform;

pub use embeddings::EmbeddingSet;
pub use model::{
    depth_cmp, natural_cmp, ModelInfo, ModelSession, ModelTensor, NamedSource, TensorLocation,
};
pub use options::{AnalyzeOptions, FitOption, FixFingersOption};

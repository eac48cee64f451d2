//! Bindings of `spectralab_core::compress` (placeholder until they land).

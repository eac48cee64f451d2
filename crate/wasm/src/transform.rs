//! Bindings of `spectralab_core::transform` (placeholder until they land).

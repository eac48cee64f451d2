//! Bindings of `spectralab_core::metrics` (placeholder until they land).

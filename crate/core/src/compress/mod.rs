//! Compression trade-offs (issue 7). Placeholder: filled in by the compression work.

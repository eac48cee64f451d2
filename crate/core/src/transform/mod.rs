//! Transform kernels (issue 8). Placeholder: filled in by the transforms work.

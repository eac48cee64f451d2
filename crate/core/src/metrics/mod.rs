//! Entropy and diversity metrics (issue 6). Placeholder: filled in by the metrics work.

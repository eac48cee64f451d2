//! One error type for the core. Variants carry the data a user needs to act on the message.

use std::fmt;

/// Everything that can go wrong in the numeric core.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A matrix entry is NaN or ±Inf. `row`/`col` are indices in the matrix as given.
    NonFinite { row: usize, col: usize, value: f64 },
    /// The operation needs a non-empty matrix (or a matrix of at least `min` rows/columns).
    Empty { rows: usize, cols: usize },
    /// Shapes that must agree do not.
    Shape { expected: String, found: String },
    /// An iterative method did not converge.
    NoConvergence { method: &'static str },
    /// A result is too large (or small) for f64, e.g. the Gram matrix of entries near 1e200.
    Overflow { what: String },
    /// A model/array file is malformed: `what` says which check failed, with offsets/sizes.
    Format { what: String },
    /// A tensor's dtype is not one the analysis reads (F64, F32, F16, BF16).
    UnsupportedDtype { tensor: String, dtype: String },
    /// The byte source failed (I/O error, file changed, out-of-range read).
    Io { what: String },
    /// A parameter is out of its valid range.
    InvalidParameter { name: &'static str, reason: String },
    /// Bad input named in full (which file, tensor or argument, and what to give instead): the
    /// message is `what` as is.
    Input { what: String },
}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NonFinite { row, col, value } => write!(
                f,
                "matrix contains a non-finite value ({value}) at row {row}, column {col}"
            ),
            Error::Empty { rows, cols } => {
                write!(f, "matrix is empty ({rows}×{cols}): nothing to decompose")
            }
            Error::Shape { expected, found } => {
                write!(f, "shape mismatch: expected {expected}, found {found}")
            }
            Error::NoConvergence { method } => write!(f, "{method} did not converge"),
            Error::Overflow { what } => write!(f, "{what} overflows the f64 range"),
            Error::Format { what } => write!(f, "malformed file: {what}"),
            Error::UnsupportedDtype { tensor, dtype } if dtype.starts_with("GGUF type ") => write!(
                f,
                "tensor `{tensor}` has unsupported {dtype} (supported GGUF types: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS)"
            ),
            Error::UnsupportedDtype { tensor, dtype } => {
                write!(f, "tensor `{tensor}` has unsupported dtype {dtype} (supported: F64, F32, F16, BF16)")
            }
            Error::Io { what } => write!(f, "read error: {what}"),
            Error::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter `{name}`: {reason}")
            }
            Error::Input { what } => f.write_str(what),
        }
    }
}

impl std::error::Error for Error {}

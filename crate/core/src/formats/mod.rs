//! Model and array files read **tensor by tensor** through a random-access [`ByteSource`].
//!
//! Two steps, so a file far larger than memory (or than wasm32's 4 GiB) can be analysed:
//! 1. [`read_index`] reads and validates only the headers (safetensors JSON header, `.npy`
//!    header, ZIP central directory + each member's `.npy` header) and returns a [`TensorIndex`]:
//!    name, dtype, shape and byte range of every tensor.
//! 2. [`read_tensor`] reads exactly one tensor's bytes (in chunks of
//!    [`ReadParams::chunk_bytes`]) and decodes them into a C-order `ndarray` array.
//!
//! ## Formats
//! - **safetensors**: `u64` little-endian header length `N`, `N` bytes of UTF-8 JSON (an object
//!   `name → {dtype, shape, data_offsets: [begin, end]}` plus an optional `__metadata__` string
//!   map; writers pad it with spaces to a multiple of 8), then the data section. Offsets are
//!   relative to the data section, which starts at byte `8 + N`. Always little-endian, C order.
//! - **`.npy`** (format 1.0, 2.0, 3.0): magic `\x93NUMPY`, major, minor, header length (`u16` LE
//!   in 1.0, `u32` LE in 2.0/3.0), a Python dict literal
//!   `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` (latin-1; UTF-8 in 3.0), data.
//! - **`.npz`**: a ZIP archive of `.npy` members (`np.savez`: stored; `np.savez_compressed`:
//!   deflated), ZIP64 included. Member `name.npy` is tensor `name`.
//! - **PyTorch** (`torch.save`, torch ≥ 1.6): a ZIP with `<root>/data.pkl` read by a restricted
//!   unpickler (no code runs) and stored `<root>/data/<key>` storages; each tensor is one raw
//!   byte range of its storage. Names, strides and refusals: see `formats/torch.rs`. The legacy
//!   pre-1.6 stream format is refused with a message naming it.
//!
//! ## Conventions
//! - Tensors are listed in **file order**: by data offset for safetensors, by local-header offset
//!   (= the order numpy wrote them) for `.npz`.
//! - F16 and BF16 are widened to f32 exactly ([`crate::dtype`]); F32 stays f32; F64 stays f64.
//!   Every other dtype is kept in the index as [`Dtype::Other`] (so the rest of the file can still
//!   be analysed) and reading it is an [`Error::UnsupportedDtype`].
//! - Big-endian (`'>f8'`) and Fortran-order `.npy` data are converted while reading; the result is
//!   always a standard (C-order) array of the logical shape.
//! - Errors: a malformed file is an [`Error::Format`] whose message names the check that failed
//!   with its tensor name, offsets and sizes; a failing or short source is an [`Error::Io`].
//!   Nothing here panics on any input, every loop is bounded by the source's length, and no
//!   allocation is sized by an unchecked header field: headers are bounded
//!   ([`MAX_SAFETENSORS_HEADER`], [`MAX_NPY_HEADER`]) and tensors by
//!   [`ReadParams::max_tensor_bytes`].

mod decode;
#[cfg_attr(not(feature = "gguf"), allow(dead_code))]
mod ggml_dequant;
#[cfg_attr(not(feature = "gguf"), allow(dead_code))]
mod gguf;
#[cfg_attr(not(feature = "npz"), allow(dead_code))]
mod inflate;
mod npy;
#[cfg_attr(not(all(feature = "npz", feature = "torch")), allow(dead_code))]
mod npz;
mod pyliteral;
mod safetensors;
mod source;
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
mod torch;
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
pub mod unpickle;

use std::fmt;

use ndarray::ArrayD;

use crate::error::{Error, Result};

pub use ggml_dequant::{dequantize as dequantize_ggml, GgmlType};
pub use gguf::{
    gguf_layer_order, read_gguf_header, read_gguf_rows, GgufHeader, GgufTensorInfo, GgufValue,
    MAX_GGUF_NAME, MAX_GGUF_VALUE_STRING,
};
pub use npy::MAX_NPY_HEADER;
pub use safetensors::MAX_SAFETENSORS_HEADER;
pub use source::ByteSource;

/// The most dimensions a tensor may have (numpy's own limit, `NPY_MAXDIMS`). Bounds the work and
/// memory a lying header can cause.
pub const MAX_DIMS: usize = 64;

/// Element type of a stored tensor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// IEEE 754 binary64.
    F64,
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary16 (widened to f32 on read).
    F16,
    /// bfloat16 (widened to f32 on read).
    BF16,
    /// A ggml tensor type of a GGUF file (`Q4_K`, `Q8_0`, `F32`, …), dequantized to f32 on read
    /// (see [`GgmlType::can_dequantize`]).
    Ggml(GgmlType),
    /// Any other type, as the file spells it: a safetensors name (`"I64"`, `"U8"`, `"BOOL"`,
    /// `"F8_E4M3"`, …) or a numpy descriptor (`"<i8"`, `"|b1"`, `"|O"`, `"<c16"`, …).
    Other(String),
}

impl Dtype {
    /// Bytes per element where known: 8/4/2/2 for F64/F32/F16/BF16; for [`Dtype::Other`] the size
    /// the name implies (safetensors `"I64"` → 8, numpy `"<i8"` → 8, `"<U3"` → 12), `None` for
    /// unknown names, object (`"|O"`) and sub-byte types (`"F4"`).
    pub fn item_size(&self) -> Option<usize> {
        match self {
            Dtype::F64 => Some(8),
            Dtype::F32 => Some(4),
            Dtype::F16 | Dtype::BF16 => Some(2),
            Dtype::Ggml(t) => (t.block_size() == Some(1))
                .then(|| t.type_size().map(|s| s as usize))
                .flatten(),
            Dtype::Other(name) => safetensors::dtype_bits(name)
                .filter(|bits| bits % 8 == 0)
                .map(|bits| bits as usize / 8)
                .or_else(|| npy::descr_item_size(name).map(|s| s as usize)),
        }
    }

    /// Whether [`read_tensor`] can decode this type (F64, F32, F16, BF16, and the ggml types
    /// with a dequantizer).
    pub fn is_supported(&self) -> bool {
        match self {
            Dtype::Other(_) => false,
            Dtype::Ggml(t) => t.can_dequantize(),
            _ => true,
        }
    }

    /// `"F64"`, `"F32"`, `"F16"`, `"BF16"`, or the file's own spelling for [`Dtype::Other`].
    pub fn name(&self) -> &str {
        match self {
            Dtype::F64 => "F64",
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::Ggml(t) => t.name(),
            Dtype::Other(name) => name,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Container format of a file, as sniffed by [`read_index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// Hugging Face safetensors.
    Safetensors,
    /// A single numpy `.npy` array.
    Npy,
    /// A numpy `.npz` ZIP archive of `.npy` members.
    Npz,
    /// A PyTorch ZIP checkpoint (`torch.save`, torch ≥ 1.6; see `formats/torch.rs`).
    Torch,
    /// A GGUF v2/v3 file (llama.cpp), quantized tensors dequantized on read.
    Gguf,
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileFormat::Safetensors => "safetensors",
            FileFormat::Npy => "npy",
            FileFormat::Npz => "npz",
            FileFormat::Torch => "torch",
            FileFormat::Gguf => "gguf",
        })
    }
}

/// How a tensor's bytes are stored in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// The tensor's bytes are `offset .. offset + byte_len` of the source, as is.
    Raw,
    /// The tensor sits in a deflate-compressed `.npz` member: the source holds a raw deflate
    /// stream (RFC 1951) at `compressed_offset .. compressed_offset + compressed_len` that inflates
    /// to a whole `.npy` file of `inflated_len` bytes with CRC-32 `crc32`; the tensor's bytes are
    /// `offset .. offset + byte_len` of that *inflated* stream. Reading inflates from the start of
    /// the member (deflate is not seekable) and checks the size and the CRC-32.
    Deflated {
        /// Absolute offset of the compressed stream in the source.
        compressed_offset: u64,
        /// Length of the compressed stream in bytes.
        compressed_len: u64,
        /// Declared length of the inflated member (the whole `.npy` file).
        inflated_len: u64,
        /// Declared CRC-32 (ISO-HDLC, as in ZIP) of the inflated member.
        crc32: u32,
    },
}

/// One tensor of a [`TensorIndex`]: where its bytes are and how to decode them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
    /// Tensor name: the safetensors key, the `.npz` member name without `.npy`, or the file stem
    /// of a `.npy` file (from `name_hint`, `"array"` if it has none).
    pub name: String,
    /// Element type.
    pub dtype: Dtype,
    /// Logical shape, outermost first (`[]` for a 0-d array). At most [`MAX_DIMS`] entries.
    pub shape: Vec<usize>,
    /// Byte offset of the first data byte: absolute in the source for [`Storage::Raw`], inside the
    /// inflated member for [`Storage::Deflated`].
    pub offset: u64,
    /// Number of data bytes: `prod(shape) · item_size` (for a `.npy` whose item size is unknown,
    /// e.g. object arrays, the bytes from `offset` to the end of the file or member).
    pub byte_len: u64,
    /// Data stored in Fortran (column-major) order (`.npy` only; safetensors is always C order).
    pub fortran_order: bool,
    /// Elements stored big-endian (`.npy` descriptors starting with `>`).
    pub big_endian: bool,
    /// Raw bytes or a deflated `.npz` member.
    pub storage: Storage,
}

impl TensorEntry {
    /// `prod(shape)` (1 for a 0-d array), `None` if it overflows `u64`.
    pub fn element_count(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
    }
}

/// Headers of one file: its format, its tensors in file order, and its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorIndex {
    /// Sniffed container format.
    pub format: FileFormat,
    /// Tensors in file order (see the module conventions).
    pub tensors: Vec<TensorEntry>,
    /// safetensors: the `__metadata__` map, sorted by key (the reference writer stores a hash map,
    /// so its key order carries no meaning). `.npz`: one `("skipped_member", name)` pair for each
    /// member that is not a `.npy` file. `.npy`: empty.
    pub metadata: Vec<(String, String)>,
}

impl TensorIndex {
    /// The tensor called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&TensorEntry> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// Decoded tensor data in standard (C-order) layout, shape = [`TensorEntry::shape`].
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    /// From F32, F16 or BF16 storage.
    F32(ArrayD<f32>),
    /// From F64 storage.
    F64(ArrayD<f64>),
}

impl TensorData {
    /// Logical shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            TensorData::F32(a) => a.shape(),
            TensorData::F64(a) => a.shape(),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(a) => a.len(),
            TensorData::F64(a) => a.len(),
        }
    }

    /// Whether the tensor has no elements (a dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Options of [`read_tensor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadParams {
    /// Largest tensor [`read_tensor`] will decode, in bytes, compared with both the stored size
    /// and the decoded size (f16/bf16 double when widened to f32). Default 2 GiB: about what a
    /// wasm32 instance can still allocate next to its other data.
    pub max_tensor_bytes: u64,
    /// Bytes requested from the source per `read_at` call (also the compressed input chunk when
    /// inflating). Bounds the scratch memory next to the output array. Default 1 MiB; must be ≥ 1.
    pub chunk_bytes: usize,
}

impl Default for ReadParams {
    fn default() -> Self {
        ReadParams {
            max_tensor_bytes: 2 << 30,
            chunk_bytes: 1 << 20,
        }
    }
}

/// Reads the headers of a safetensors, `.npy`, `.npz` or PyTorch file and validates them.
///
/// The format is sniffed from the first bytes: `\x93NUMPY` → `.npy`; `PK\x03\x04` (or the
/// `PK\x05\x06` of an empty archive) → a PyTorch checkpoint if the central directory has a
/// `data.pkl` at the top or one folder down, else `.npz`; otherwise an 8-byte little-endian length followed
/// by `{` → safetensors. `name_hint` (a file name or path; may be empty) only names a `.npy`
/// file's single tensor and, when sniffing fails, picks the parser (by extension) whose error
/// message is most useful.
///
/// Reads only headers: the safetensors JSON header (≤ [`MAX_SAFETENSORS_HEADER`] bytes), the
/// `.npy` header (≤ [`MAX_NPY_HEADER`]), or the ZIP end records, central directory and each
/// member's local header and `.npy` header (inflating only the first bytes of a deflated member).
///
/// Every tensor's byte range is checked to lie inside the file (or member) and to match
/// `shape × item size` where the item size is known; see the submodules for the full list.
pub fn read_index(src: &dyn ByteSource, name_hint: &str) -> Result<TensorIndex> {
    let len = src.len();
    let mut head = [0u8; 9];
    let n = len.min(head.len() as u64) as usize;
    src.read_at(0, &mut head[..n])?;
    let head = &head[..n];
    if head.starts_with(npy::MAGIC) {
        return npy::read_npy_index(src, name_hint);
    }
    if head.starts_with(b"GGUF") {
        return read_gguf_index_if_built(src);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return read_zip_index(src);
    }
    if torch::is_legacy_torch(head) {
        return Err(format_err(torch::LEGACY_MESSAGE));
    }
    if n == 9 && head[8] == b'{' {
        return safetensors::read_safetensors_index(src);
    }
    let ext = extension(name_hint);
    match ext.as_str() {
        "safetensors" => safetensors::read_safetensors_index(src),
        "npy" => Err(Error::Format {
            what: format!(
                "`{name_hint}` does not start with the .npy magic \\x93NUMPY (first bytes: {})",
                hex_prefix(head)
            ),
        }),
        "gguf" => read_gguf_index_if_built(src),
        "npz" | "zip" => Err(Error::Format {
            what: format!(
                "`{name_hint}` is not a ZIP archive: no PK\\x03\\x04 signature (first bytes: {})",
                hex_prefix(head)
            ),
        }),
        _ => {
            let hint = if head.starts_with(&[0x80]) {
                " (this looks like a Python pickle, e.g. a legacy PyTorch checkpoint: convert it to safetensors)"
            } else {
                ""
            };
            let shown = if name_hint.is_empty() {
                "input"
            } else {
                name_hint
            };
            Err(Error::Format {
                what: format!(
                    "`{shown}` is not a safetensors, .npy or .npz file nor a PyTorch checkpoint{hint}: first bytes {}",
                    hex_prefix(head)
                ),
            })
        }
    }
}

/// A ZIP archive: a PyTorch checkpoint (feature `torch`) or an `.npz` (feature `npz`).
#[cfg(any(feature = "npz", feature = "torch"))]
fn read_zip_index(src: &dyn ByteSource) -> Result<TensorIndex> {
    let members = npz::zip_members(src)?;
    if torch::is_torch_archive(&members) {
        #[cfg(feature = "torch")]
        return torch::read_torch_index(src, members);
        #[cfg(not(feature = "torch"))]
        return Err(not_built("a PyTorch checkpoint", "torch"));
    }
    #[cfg(feature = "npz")]
    return npz::read_npz_members(src, members);
    #[cfg(not(feature = "npz"))]
    return Err(not_built("an .npz archive", "npz"));
}

/// Without `npz` and `torch`, ZIP archives are not read at all.
#[cfg(not(any(feature = "npz", feature = "torch")))]
fn read_zip_index(_src: &dyn ByteSource) -> Result<TensorIndex> {
    Err(not_built(
        "a ZIP archive (.npz or a PyTorch checkpoint)",
        "npz",
    ))
}

/// [`gguf::read_gguf_index`] where the `gguf` feature is on; else the "not in this build" error.
fn read_gguf_index_if_built(src: &dyn ByteSource) -> Result<TensorIndex> {
    #[cfg(feature = "gguf")]
    return gguf::read_gguf_index(src);
    #[cfg(not(feature = "gguf"))]
    {
        let _ = src;
        Err(not_built("a GGUF file", "gguf"))
    }
}

/// The error for a format whose reader this build leaves out (cargo feature `feature` off, as
/// in the widgets' wasm spectrum module).
#[cfg(any(not(feature = "gguf"), not(feature = "torch"), not(feature = "npz")))]
fn not_built(what: &str, feature: &str) -> Error {
    format_err(format!(
        "{what} is not read by this build (built without the `{feature}` feature, like the widgets' spectrum module): use the full build, the lab or the CLI"
    ))
}

/// Reads one tensor of `entry` (from [`read_index`] on the same source) and decodes it.
///
/// Reads exactly the entry's bytes (for a deflated `.npz` member: inflates the member from its
/// start, skipping the `.npy` header, and checks the inflated size and CRC-32), in chunks of
/// [`ReadParams::chunk_bytes`], decoding each chunk straight into its final place in the output
/// array: peak memory is the output array (`prod(shape)` × 4 or 8 bytes) plus at most
/// 2.5 × `chunk_bytes` of scratch (plus ~45 KiB of inflate state for a deflated member); no
/// second copy of the tensor is ever made. F16/BF16 are widened to f32, big-endian data is
/// byte-swapped, and Fortran-order data is scattered to its C-order positions while reading.
///
/// Errors: [`Error::UnsupportedDtype`] for [`Dtype::Other`]; [`Error::InvalidParameter`]
/// (`max_tensor_bytes`) when the stored or decoded size exceeds the limit, before allocating;
/// [`Error::Format`] when the entry is inconsistent (`byte_len ≠ prod(shape)·item_size`, range
/// outside the source) or a deflated member is corrupt; [`Error::Io`] when the source fails.
pub fn read_tensor(
    src: &dyn ByteSource,
    entry: &TensorEntry,
    params: &ReadParams,
) -> Result<TensorData> {
    if let Dtype::Ggml(_) = entry.dtype {
        #[cfg(feature = "gguf")]
        return gguf::read_gguf_tensor(src, entry, params);
        #[cfg(not(feature = "gguf"))]
        return Err(not_built("a GGUF tensor", "gguf"));
    }
    decode::read_tensor(src, entry, params)
}

/// Reads the block `rows × cols` of a tensor seen as a matrix (`shape[0] × prod(shape[1..])`),
/// decoded like [`read_tensor`] (F16/BF16 widened to f32), as a 2-D C-order array of shape
/// `[rows.len(), cols.len()]`. Only the block's bytes are read: whole rows as one range, a column
/// strip as one range per row. This is what streaming analyses use, so a tensor larger than
/// memory never has to be held whole.
///
/// Errors: [`Error::UnsupportedDtype`] for types that cannot be decoded; [`Error::Format`] for
/// storage that is not raw C order (Fortran-order `.npy`, deflated `.npz` members: read those
/// whole with [`read_tensor`]) and for inconsistent entries; [`Error::InvalidParameter`] for a
/// block outside the tensor.
pub fn read_block(
    src: &dyn ByteSource,
    entry: &TensorEntry,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> Result<TensorData> {
    #[cfg(not(feature = "gguf"))]
    if let Dtype::Ggml(_) = entry.dtype {
        return Err(not_built("a GGUF tensor", "gguf"));
    }
    #[cfg(feature = "gguf")]
    if let Dtype::Ggml(_) = entry.dtype {
        // GGUF rows are whole quantization blocks: dequantize the rows, then keep the columns.
        let (n, m) = decode::matrix_dims(entry)?;
        if rows.start > rows.end || rows.end > n || cols.start > cols.end || cols.end > m {
            return Err(Error::InvalidParameter {
                name: "block",
                reason: format!(
                    "rows {rows:?} × columns {cols:?} outside tensor `{}` of {n}×{m}",
                    entry.name
                ),
            });
        }
        let r = rows.len();
        let mut buf = vec![0f32; r * m];
        read_gguf_rows(src, entry, rows, &mut buf)?;
        let block = if cols.len() == m {
            buf
        } else {
            let mut out = Vec::with_capacity(r * cols.len());
            for row in buf.chunks_exact(m.max(1)) {
                out.extend_from_slice(&row[cols.clone()]);
            }
            out
        };
        let a = ndarray::ArrayD::from_shape_vec(vec![r, cols.len()], block)
            .map_err(|e| format_err(format!("tensor `{}`: {e}", entry.name)))?;
        return Ok(TensorData::F32(a));
    }
    decode::read_block(src, entry, rows, cols)
}

/// Whether [`read_block`] can read this tensor (a decodable dtype in raw C-order storage).
pub fn can_read_blocks(entry: &TensorEntry) -> bool {
    entry.dtype.is_supported() && !entry.fortran_order && matches!(entry.storage, Storage::Raw)
}

/// Lower-cased extension of a file name or path (`""` if none).
fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// File stem of a file name or path (`"array"` if empty).
fn file_stem(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    if stem.is_empty() {
        "array".to_string()
    } else {
        stem.to_string()
    }
}

/// `"93 4e 55 …"`: up to 8 bytes in hex, for error messages.
fn hex_prefix(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(none: the input is empty)".to_string();
    }
    bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A [`Error::Format`] with `what`.
fn format_err(what: impl Into<String>) -> Error {
    Error::Format { what: what.into() }
}

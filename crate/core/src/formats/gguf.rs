//! GGUF (llama.cpp / ggml model files), versions 2 and 3, read by byte range.
//!
//! ## Layout (all integers little-endian)
//! ```text
//! "GGUF"  u32 version  u64 tensor_count  u64 kv_count
//! kv_count × { string key, u32 value_type, value }
//! tensor_count × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//! padding to a multiple of A, then the data section
//! ```
//! A string is `u64 len` + `len` UTF-8 bytes. Value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32,
//! 5 i32, 6 f32, 7 bool, 8 string, 9 array (`u32 elem_type, u64 count, elements`), 10 u64,
//! 11 i64, 12 f64. `A` = `general.alignment` (a u32 power of two; default 32). A tensor's
//! `offset` is relative to the data section and a multiple of `A`.
//!
//! ## Orientation: ggml dims → PyTorch shape
//! ggml stores `ne[0]` **innermost**: `ne[0]` is the contiguous row length, and quantization
//! blocks run along it. The shape reported in [`TensorEntry::shape`] is the dims reversed,
//! `shape = [ne[n−1], …, ne[1], ne[0]]`, the NumPy/PyTorch shape of the same row-major bytes. A
//! `Linear.weight` of PyTorch shape (out, in) is stored with `ne = [in, out]` and read back as
//! `(out, in)`: element `(r, c)` is element `c` of row `r`, at block `c / B` of the row that
//! starts at byte `offset + r · (ne[0] / B) · S` (`B`, `S`: the type's block size and bytes per
//! block). `token_embd.weight` (`ne = [n_embd, n_vocab]`) becomes `(n_vocab, n_embd)`. A 3-D MoE
//! tensor becomes `(n_expert, out, in)`. Rows of [`read_gguf_rows`] are rows of this shape with
//! all outer dims flattened: row `r` is `ne[0]` elements, `0 ≤ r < ne[1]·ne[2]·ne[3]`.
//!
//! ## Metadata, bounded
//! Scalars are kept typed ([`GgufValue`]); string values up to [`MAX_GGUF_VALUE_STRING`] bytes are
//! kept, longer ones only by length; arrays (tokenizer vocabularies of 150k+ strings, merges,
//! scores) are **skipped**: only their element type and count are kept, and each string element
//! costs one 8-byte length read, never a copy. The header is read through a 1 MiB window, so a
//! 50 MB tokenizer header is walked without holding it.
//!
//! ## Split files
//! `gguf-split` writes `<prefix>-00001-of-0000N.gguf`; each shard is a complete GGUF with its own
//! header and data section and the keys `split.no` (0-based), `split.count`,
//! `split.tensors.count`. One shard is read as a file on its own; [`GgufHeader::split`] reports
//! the shard, and the index metadata carries a `gguf.split` note saying which tensors are missing.
//!
//! ## Validation (each an [`Error::Format`] naming the check)
//! Magic, version 2 or 3 (v1 and byte-swapped big-endian files are named and refused), every
//! read inside the file, keys and names ≤ [`MAX_GGUF_NAME`] bytes and valid UTF-8, no duplicate
//! keys or tensor names, nested arrays ≤ 2 levels, `1 ≤ n_dims ≤ 4`, every `ne[i] ≤ 2^63 − 1` and
//! their product fits in 64 bits, `ne[0] % B == 0`, alignment a power of two ≤ 2^30,
//! `offset % A == 0`, `data_start + offset + nbytes ≤ file length`, no two tensors overlap. Loops
//! run at most once per header byte; nothing is allocated from an unchecked count. A tensor of a
//! ggml type unknown to this reader is listed (size 0, its range unchecked) and reading it is an
//! error; so is reading a known type without a dequantizer (IQ1–IQ3, TQ, MXFP4, Q8_1, integers).

use std::collections::HashSet;
use std::ops::Range;

use ndarray::{ArrayD, IxDyn};

use super::ggml_dequant::{dequantize, GgmlType};
use super::source::check_range;
use super::{
    format_err, ByteSource, Dtype, FileFormat, ReadParams, Storage, TensorData, TensorEntry,
    TensorIndex,
};
use crate::error::{Error, Result};

/// Longest key or tensor name accepted, in bytes.
pub const MAX_GGUF_NAME: u64 = 1 << 16;
/// Longest string value kept in [`GgufHeader::metadata`]; longer ones are skipped and kept as
/// [`GgufValue::LongString`].
pub const MAX_GGUF_VALUE_STRING: u64 = 1 << 16;
/// Bytes read from the source at a time while walking the header.
const WINDOW: u64 = 1 << 20;
/// Deepest nesting of arrays accepted (an array of arrays of scalars is depth 2).
const MAX_ARRAY_DEPTH: u32 = 2;

/// One metadata value. Arrays are never materialised: only their element type and length.
#[derive(Debug, Clone, PartialEq)]
pub enum GgufValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    /// A string longer than [`MAX_GGUF_VALUE_STRING`] bytes: only its length is kept.
    LongString(u64),
    U64(u64),
    I64(i64),
    F64(f64),
    /// An array of `len` elements of value type `elem` (the type name, e.g. `"string"`).
    Array {
        elem: &'static str,
        len: u64,
    },
}

impl GgufValue {
    /// The value as an unsigned integer, for any integer type holding a non-negative value.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            GgufValue::U8(v) => Some(v as u64),
            GgufValue::U16(v) => Some(v as u64),
            GgufValue::U32(v) => Some(v as u64),
            GgufValue::U64(v) => Some(v),
            GgufValue::I8(v) => u64::try_from(v).ok(),
            GgufValue::I16(v) => u64::try_from(v).ok(),
            GgufValue::I32(v) => u64::try_from(v).ok(),
            GgufValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value if it is a (kept) string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            GgufValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Human-readable rendering (arrays as `[262144 × string]`).
    pub fn render(&self) -> String {
        match self {
            GgufValue::U8(v) => v.to_string(),
            GgufValue::I8(v) => v.to_string(),
            GgufValue::U16(v) => v.to_string(),
            GgufValue::I16(v) => v.to_string(),
            GgufValue::U32(v) => v.to_string(),
            GgufValue::I32(v) => v.to_string(),
            GgufValue::F32(v) => v.to_string(),
            GgufValue::Bool(v) => v.to_string(),
            GgufValue::String(s) => s.clone(),
            GgufValue::LongString(n) => format!("<string of {n} bytes, not kept>"),
            GgufValue::U64(v) => v.to_string(),
            GgufValue::I64(v) => v.to_string(),
            GgufValue::F64(v) => v.to_string(),
            GgufValue::Array { elem, len } => format!("[{len} × {elem}]"),
        }
    }
}

/// One tensor info as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufTensorInfo {
    /// Tensor name (`blk.0.attn_q.weight`).
    pub name: String,
    /// ggml dims, innermost first (`ne[0]` = row length). See the module doc for the mapping.
    pub ne: Vec<u64>,
    /// Element type.
    pub ggml_type: GgmlType,
    /// Offset of the tensor's bytes relative to the data section.
    pub offset: u64,
    /// Stored bytes: `(ne[0] / B) · S · ne[1] · ne[2] · ne[3]` (0 for an unknown type).
    pub nbytes: u64,
}

/// A parsed, validated GGUF header.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufHeader {
    /// 2 or 3.
    pub version: u32,
    /// Key/value metadata in file order.
    pub metadata: Vec<(String, GgufValue)>,
    /// Tensor infos in file order.
    pub tensors: Vec<GgufTensorInfo>,
    /// Data alignment `A` (`general.alignment`, default 32).
    pub alignment: u64,
    /// Absolute offset of the data section (header end rounded up to `A`).
    pub data_start: u64,
}

impl GgufHeader {
    /// The value of metadata key `key`.
    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `general.architecture` (`"gemma3"`, `"llama"`, …).
    pub fn architecture(&self) -> Option<&str> {
        self.get("general.architecture").and_then(GgufValue::as_str)
    }

    /// `general.name`.
    pub fn model_name(&self) -> Option<&str> {
        self.get("general.name").and_then(GgufValue::as_str)
    }

    /// `general.file_type` (llama.cpp's `llama_ftype`: 15 = MOSTLY_Q4_K_M). Informational only:
    /// each tensor's own type is authoritative.
    pub fn file_type(&self) -> Option<u64> {
        self.get("general.file_type").and_then(GgufValue::as_u64)
    }

    /// The quantization mix: number of tensors of each ggml type, most frequent first (ties by
    /// type id).
    pub fn quantization_mix(&self) -> Vec<(GgmlType, usize)> {
        let mut mix: Vec<(GgmlType, usize)> = Vec::new();
        for t in &self.tensors {
            match mix.iter_mut().find(|(ty, _)| *ty == t.ggml_type) {
                Some((_, n)) => *n += 1,
                None => mix.push((t.ggml_type, 1)),
            }
        }
        mix.sort_by_key(|&(ty, n)| (std::cmp::Reverse(n), ty.id()));
        mix
    }

    /// `(split.no, split.count, split.tensors.count)` when the file is one shard of a split model
    /// (`split.count` present).
    pub fn split(&self) -> Option<(u64, u64, Option<u64>)> {
        let count = self.get("split.count").and_then(GgufValue::as_u64)?;
        let no = self
            .get("split.no")
            .and_then(GgufValue::as_u64)
            .unwrap_or(0);
        let total = self.get("split.tensors.count").and_then(GgufValue::as_u64);
        Some((no, count, total))
    }
}

/// Byte-window reader over the header: bounded reads, every one checked against the file length.
struct Cursor<'a> {
    src: &'a dyn ByteSource,
    len: u64,
    pos: u64,
    buf: Vec<u8>,
    buf_start: u64,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a dyn ByteSource) -> Self {
        Cursor {
            src,
            len: src.len(),
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
        }
    }

    fn truncated(&self, n: u64, what: &str) -> Error {
        format_err(format!(
            "GGUF {what} at offset {} needs {n} bytes but the file ends at {} (truncated or a lying length)",
            self.pos, self.len
        ))
    }

    /// The next `n ≤ WINDOW` bytes.
    fn take(&mut self, n: u64, what: &str) -> Result<&[u8]> {
        debug_assert!(n <= WINDOW);
        if self.pos.checked_add(n).is_none_or(|e| e > self.len) {
            return Err(self.truncated(n, what));
        }
        let buf_end = self.buf_start + self.buf.len() as u64;
        if self.pos < self.buf_start || self.pos + n > buf_end {
            let want = WINDOW.max(n).min(self.len - self.pos);
            self.buf.resize(want as usize, 0);
            self.src.read_at(self.pos, &mut self.buf)?;
            self.buf_start = self.pos;
        }
        let at = (self.pos - self.buf_start) as usize;
        self.pos += n;
        Ok(&self.buf[at..at + n as usize])
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        match self.pos.checked_add(n) {
            Some(e) if e <= self.len => {
                self.pos = e;
                Ok(())
            }
            _ => Err(self.truncated(n, what)),
        }
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A key or tensor name: ≤ [`MAX_GGUF_NAME`] bytes of UTF-8.
    fn name(&mut self, what: &str) -> Result<String> {
        let at = self.pos;
        let n = self.u64(what)?;
        if n > MAX_GGUF_NAME {
            return Err(format_err(format!(
                "GGUF {what} at offset {at} declares {n} bytes, more than the limit of {MAX_GGUF_NAME}"
            )));
        }
        let bytes = self.take(n, what)?.to_vec();
        String::from_utf8(bytes)
            .map_err(|_| format_err(format!("GGUF {what} at offset {at} is not valid UTF-8")))
    }

    /// Reads (or skips) one value of type `ty`.
    fn value(&mut self, ty: u32, key: &str, depth: u32) -> Result<GgufValue> {
        let what = format!("value of `{key}`");
        let v = match ty {
            0 => GgufValue::U8(self.take(1, &what)?[0]),
            1 => GgufValue::I8(self.take(1, &what)?[0] as i8),
            2 => {
                let b = self.take(2, &what)?;
                GgufValue::U16(u16::from_le_bytes([b[0], b[1]]))
            }
            3 => {
                let b = self.take(2, &what)?;
                GgufValue::I16(i16::from_le_bytes([b[0], b[1]]))
            }
            4 => GgufValue::U32(self.u32(&what)?),
            5 => GgufValue::I32(self.u32(&what)? as i32),
            6 => GgufValue::F32(f32::from_bits(self.u32(&what)?)),
            7 => {
                let b = self.take(1, &what)?[0];
                if b > 1 {
                    return Err(format_err(format!(
                        "GGUF bool {what} at offset {} is {b}, not 0 or 1",
                        self.pos - 1
                    )));
                }
                GgufValue::Bool(b == 1)
            }
            8 => {
                let n = self.u64(&what)?;
                if n > MAX_GGUF_VALUE_STRING {
                    self.skip(n, &what)?;
                    GgufValue::LongString(n)
                } else {
                    let b = self.take(n, &what)?;
                    GgufValue::String(String::from_utf8_lossy(b).into_owned())
                }
            }
            9 => {
                let at = self.pos;
                let elem = self.u32(&what)?;
                let len = self.u64(&what)?;
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(format_err(format!(
                        "GGUF {what}: arrays nested deeper than {MAX_ARRAY_DEPTH} levels (at offset {at})"
                    )));
                }
                let elem_name = value_type_name(elem).ok_or_else(|| {
                    format_err(format!(
                        "GGUF {what}: array at offset {at} has unknown element type {elem}"
                    ))
                })?;
                match fixed_size(elem) {
                    Some(size) => {
                        let bytes = len
                            .checked_mul(size)
                            .ok_or_else(|| self.truncated(u64::MAX, &what))?;
                        self.skip(bytes, &what)?;
                    }
                    None => {
                        // Strings (≥ 8 bytes each) or arrays (≥ 12 bytes each): the count cannot
                        // exceed what is left of the file, so this loop is bounded by its length.
                        let min = if elem == 8 { 8 } else { 12 };
                        if len > (self.len - self.pos) / min {
                            return Err(format_err(format!(
                                "GGUF {what}: array at offset {at} declares {len} {elem_name} elements, more than the {} bytes left in the file can hold",
                                self.len - self.pos
                            )));
                        }
                        for _ in 0..len {
                            if elem == 8 {
                                let n = self.u64(&what)?;
                                self.skip(n, &what)?;
                            } else {
                                self.value(elem, key, depth + 1)?;
                            }
                        }
                    }
                }
                GgufValue::Array {
                    elem: elem_name,
                    len,
                }
            }
            10 => GgufValue::U64(self.u64(&what)?),
            11 => GgufValue::I64(self.u64(&what)? as i64),
            12 => GgufValue::F64(f64::from_bits(self.u64(&what)?)),
            t => {
                return Err(format_err(format!(
                    "GGUF {what} at offset {} has unknown value type {t} (known: 0–12)",
                    self.pos.saturating_sub(4)
                )))
            }
        };
        Ok(v)
    }
}

fn value_type_name(t: u32) -> Option<&'static str> {
    const NAMES: [&str; 13] = [
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64",
        "f64",
    ];
    NAMES.get(t as usize).copied()
}

fn fixed_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

/// Reads and validates a GGUF header (see the module doc for every check).
pub fn read_gguf_header(src: &dyn ByteSource) -> Result<GgufHeader> {
    let mut c = Cursor::new(src);
    let magic = c.take(4, "magic").map_err(|_| {
        format_err(format!(
            "GGUF file is {} bytes, shorter than its 4-byte magic",
            src.len()
        ))
    })?;
    if magic != b"GGUF" {
        return Err(format_err("file does not start with the GGUF magic `GGUF`"));
    }
    let version = c.u32("version")?;
    if version & 0xFFFF == 0 && version != 0 {
        return Err(format_err(format!(
            "GGUF version field reads {version:#x}: this is a byte-swapped (big-endian) GGUF file, which is not supported"
        )));
    }
    if version == 1 {
        return Err(format_err(
            "GGUF version 1 (32-bit counts, 2023) is not supported: convert the file with a current llama.cpp",
        ));
    }
    if version != 2 && version != 3 {
        return Err(format_err(format!(
            "GGUF version {version} is not supported (supported: 2 and 3)"
        )));
    }
    let tensor_count = c.u64("tensor count")?;
    let kv_count = c.u64("metadata count")?;
    // A tensor info takes at least 32 bytes (name length, n_dims, one dim, type, offset) and a
    // key/value at least 13 (key length, value type, a 1-byte value): a count the file cannot
    // hold is named as such, before anything is read past it.
    let room = src.len().saturating_sub(c.pos);
    if tensor_count > room / 32 {
        return Err(format_err(format!(
            "GGUF header declares {tensor_count} tensors: the {} bytes after it can hold at most {} tensor infos",
            room,
            room / 32
        )));
    }
    if kv_count > room / 13 {
        return Err(format_err(format!(
            "GGUF header declares {kv_count} metadata key/values: the {} bytes after it can hold at most {}",
            room,
            room / 13
        )));
    }

    let mut metadata: Vec<(String, GgufValue)> = Vec::new();
    let mut keys = HashSet::new();
    // Each key/value takes at least 13 bytes: the loop ends at the end of the file whatever
    // `kv_count` says.
    for i in 0..kv_count {
        let at = c.pos;
        let key = c.name(&format!("metadata key #{i}"))?;
        if !keys.insert(key.clone()) {
            return Err(format_err(format!(
                "GGUF metadata key `{key}` (at offset {at}) appears twice"
            )));
        }
        let ty = c.u32(&format!("value type of `{key}`"))?;
        let v = c.value(ty, &key, 0)?;
        metadata.push((key, v));
    }

    let alignment = match metadata.iter().find(|(k, _)| k == "general.alignment") {
        None => 32,
        Some((_, GgufValue::U32(a))) if a.is_power_of_two() && *a <= 1 << 30 => *a as u64,
        Some((_, v)) => {
            return Err(format_err(format!(
                "GGUF general.alignment is {v:?}: it must be a u32 power of two ≤ 2^30"
            )))
        }
    };

    let mut tensors: Vec<GgufTensorInfo> = Vec::new();
    let mut names = HashSet::new();
    for i in 0..tensor_count {
        let at = c.pos;
        let name = c.name(&format!("tensor name #{i}"))?;
        if !names.insert(name.clone()) {
            return Err(format_err(format!(
                "GGUF tensor `{name}` (info at offset {at}) appears twice"
            )));
        }
        let n_dims = c.u32(&format!("n_dims of `{name}`"))?;
        if !(1..=4).contains(&n_dims) {
            return Err(format_err(format!(
                "GGUF tensor `{name}`: n_dims is {n_dims} (must be 1 to 4)"
            )));
        }
        let mut ne = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            let d = c.u64(&format!("dims of `{name}`"))?;
            if d > i64::MAX as u64 {
                return Err(format_err(format!(
                    "GGUF tensor `{name}`: dimension {d} is negative as an int64"
                )));
            }
            ne.push(d);
        }
        let ty = GgmlType::from_id(c.u32(&format!("type of `{name}`"))?);
        let offset = c.u64(&format!("offset of `{name}`"))?;
        let count = ne.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
        let Some(count) = count else {
            return Err(format_err(format!(
                "GGUF tensor `{name}`: dims {ne:?} overflow 64 bits"
            )));
        };
        let nbytes = match (ty.block_size(), ty.type_size()) {
            (Some(bs), Some(ts)) => {
                if ne[0] % bs != 0 {
                    return Err(format_err(format!(
                        "GGUF tensor `{name}` ({ty}): row length ne[0] = {} is not a multiple of the block size {bs}",
                        ne[0]
                    )));
                }
                (count / bs).checked_mul(ts).ok_or_else(|| {
                    format_err(format!(
                        "GGUF tensor `{name}` ({ty}, dims {ne:?}): byte size overflows 64 bits"
                    ))
                })?
            }
            _ => 0,
        };
        if offset % alignment != 0 {
            return Err(format_err(format!(
                "GGUF tensor `{name}`: offset {offset} is not a multiple of the alignment {alignment}"
            )));
        }
        tensors.push(GgufTensorInfo {
            name,
            ne,
            ggml_type: ty,
            offset,
            nbytes,
        });
    }

    let header_end = c.pos;
    let data_start = header_end.div_ceil(alignment) * alignment;
    let total = src.len();
    if !tensors.is_empty() && data_start > total {
        return Err(format_err(format!(
            "GGUF data section would start at {data_start} (header ends at {header_end}, alignment {alignment}) past the end of the {total}-byte file"
        )));
    }
    for t in &tensors {
        if t.nbytes > 0 {
            let abs = data_start.checked_add(t.offset).ok_or_else(|| {
                format_err(format!(
                    "GGUF tensor `{}`: offset {} overflows 64 bits",
                    t.name, t.offset
                ))
            })?;
            check_range(
                total,
                abs,
                t.nbytes,
                &format!(
                    "GGUF tensor `{}` ({}, dims {:?}, data offset {})",
                    t.name, t.ggml_type, t.ne, t.offset
                ),
            )?;
        }
    }
    let mut by_offset: Vec<&GgufTensorInfo> = tensors.iter().filter(|t| t.nbytes > 0).collect();
    by_offset.sort_by_key(|t| (t.offset, t.nbytes));
    for w in by_offset.windows(2) {
        let (p, t) = (w[0], w[1]);
        if p.offset + p.nbytes > t.offset {
            return Err(format_err(format!(
                "GGUF tensors `{}` (bytes {}..{} of the data section) and `{}` (from {}) overlap",
                p.name,
                p.offset,
                p.offset + p.nbytes,
                t.name,
                t.offset
            )));
        }
    }
    Ok(GgufHeader {
        version,
        metadata,
        tensors,
        alignment,
        data_start,
    })
}

/// The [`TensorIndex`] of a GGUF file: tensors in file order with [`Dtype::Ggml`] and the
/// PyTorch-oriented shape; metadata = every key rendered as text (arrays as `[len × type]`), then
/// `gguf.version`, `gguf.alignment`, `gguf.quantization_mix` (`"Q4_K:120, F32:100, …"`) and, for
/// a shard of a split model, `gguf.split`.
pub(crate) fn read_gguf_index(src: &dyn ByteSource) -> Result<TensorIndex> {
    let h = read_gguf_header(src)?;
    let mut tensors = Vec::with_capacity(h.tensors.len());
    for t in &h.tensors {
        let shape =
            t.ne.iter()
                .rev()
                .map(|&d| usize::try_from(d))
                .collect::<std::result::Result<Vec<usize>, _>>()
                .map_err(|_| {
                    format_err(format!(
                        "GGUF tensor `{}`: dims {:?} do not fit in memory on this platform",
                        t.name, t.ne
                    ))
                })?;
        tensors.push(TensorEntry {
            name: t.name.clone(),
            dtype: Dtype::Ggml(t.ggml_type),
            shape,
            offset: h.data_start + t.offset,
            byte_len: t.nbytes,
            fortran_order: false,
            big_endian: false,
            storage: Storage::Raw,
        });
    }
    let mut metadata: Vec<(String, String)> = h
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.render()))
        .collect();
    metadata.push(("gguf.version".into(), h.version.to_string()));
    metadata.push(("gguf.alignment".into(), h.alignment.to_string()));
    let mix = h
        .quantization_mix()
        .iter()
        .map(|(t, n)| format!("{t}:{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    metadata.push(("gguf.quantization_mix".into(), mix));
    if let Some((no, count, total)) = h.split() {
        if count > 1 {
            let total = total.map_or("an unknown number of".to_string(), |t| t.to_string());
            metadata.push((
                "gguf.split".into(),
                format!(
                    "shard {} of {count} of a split model: this file holds {} of the {total} tensors; open each shard (`…-0000k-of-{count:05}.gguf`) for the rest",
                    no + 1,
                    h.tensors.len()
                ),
            ));
        }
    }
    Ok(TensorIndex {
        format: FileFormat::Gguf,
        tensors,
        metadata,
    })
}

/// Order in which a GGUF file's tensors are walked as layers: `token_embd.*` first, then
/// `blk.N.*` by block number `N` (numerically: `blk.2` before `blk.10`), then everything else
/// (`output_norm`, `output.weight`, …); file order within each group. Returns indices into
/// `names`.
pub fn gguf_layer_order<S: AsRef<str>>(names: &[S]) -> Vec<usize> {
    let key = |name: &str| -> (u8, u64) {
        if name.starts_with("token_embd.") {
            return (0, 0);
        }
        if let Some(rest) = name.strip_prefix("blk.") {
            let digits = rest.split('.').next().unwrap_or("");
            if let Ok(n) = digits.parse::<u64>() {
                return (1, n);
            }
        }
        (2, 0)
    };
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by_key(|&i| (key(names[i].as_ref()), i));
    order
}

/// `(rows, ne0, bytes per row)` of a GGUF entry, after checking that it can be dequantized and
/// that its byte length matches.
fn row_geometry(entry: &TensorEntry) -> Result<(GgmlType, usize, usize, u64)> {
    let name = &entry.name;
    let ty = match &entry.dtype {
        Dtype::Ggml(t) if t.can_dequantize() => *t,
        Dtype::Ggml(t) => {
            return Err(Error::UnsupportedDtype {
                tensor: name.clone(),
                dtype: format!("GGUF type {t}"),
            })
        }
        d => {
            return Err(Error::InvalidParameter {
                name: "entry",
                reason: format!("tensor `{name}` is {d}, not a GGUF tensor"),
            })
        }
    };
    // Known and dequantizable: both sizes exist.
    let bs = ty.block_size().unwrap_or(1);
    let ts = ty.type_size().unwrap_or(1);
    let ne0 = entry.shape.last().copied().unwrap_or(1);
    let rows = entry.shape[..entry.shape.len().saturating_sub(1)]
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d));
    let row_bytes = (ne0 as u64)
        .is_multiple_of(bs)
        .then(|| ne0 as u64 / bs * ts);
    let total = rows.and_then(|r| row_bytes.and_then(|b| (r as u64).checked_mul(b)));
    match (rows, row_bytes, total) {
        (Some(rows), Some(rb), Some(total)) if total == entry.byte_len => Ok((ty, rows, ne0, rb)),
        _ => Err(format_err(format!(
            "GGUF tensor `{name}`: index entry is inconsistent: shape {:?} of {ty} does not make {} bytes",
            entry.shape, entry.byte_len
        ))),
    }
}

/// Dequantizes rows `rows` of a GGUF tensor into `out` (row-major, `rows.len() · ne0` values),
/// reading only those rows' bytes, `chunk` bytes at a time (whole blocks).
fn read_rows_chunked(
    src: &dyn ByteSource,
    entry: &TensorEntry,
    rows: Range<usize>,
    out: &mut [f32],
    chunk: usize,
) -> Result<()> {
    let (ty, n_rows, ne0, row_bytes) = row_geometry(entry)?;
    let name = &entry.name;
    if rows.start > rows.end || rows.end > n_rows {
        return Err(Error::InvalidParameter {
            name: "rows",
            reason: format!(
                "rows {}..{} of tensor `{name}`, which has {n_rows} rows",
                rows.start, rows.end
            ),
        });
    }
    let want = (rows.end - rows.start).checked_mul(ne0);
    if want != Some(out.len()) {
        return Err(Error::Shape {
            expected: format!("{} rows × {ne0} = output of {want:?} values", rows.len()),
            found: format!("{} values", out.len()),
        });
    }
    check_range(
        src.len(),
        entry.offset,
        entry.byte_len,
        &format!("GGUF tensor `{name}`"),
    )?;
    let (bs, ts) = (
        ty.block_size().unwrap_or(1) as usize,
        ty.type_size().unwrap_or(1) as usize,
    );
    let start = entry.offset + rows.start as u64 * row_bytes;
    let len = rows.len() as u64 * row_bytes;
    let blocks_per_read = (chunk / ts).max(1);
    let mut buf = vec![0u8; (blocks_per_read as u64 * ts as u64).min(len) as usize];
    let mut done = 0u64;
    let mut written = 0usize;
    while done < len {
        let n = ((len - done) as usize).min(buf.len());
        src.read_at(start + done, &mut buf[..n])?;
        let k = n / ts * bs;
        if !dequantize(ty, &buf[..n], &mut out[written..written + k]) {
            return Err(format_err(format!(
                "GGUF tensor `{name}`: could not dequantize {n} bytes of {ty}"
            )));
        }
        done += n as u64;
        written += k;
    }
    Ok(())
}

/// Dequantizes rows `rows` of the GGUF tensor `entry` (from [`super::read_index`] on `src`) into
/// `out`, reading only those rows' bytes.
///
/// Rows are rows of the PyTorch-oriented shape (module doc): for a 2-D `(out, in)` weight row `r`
/// is output channel `r`, `in = ne[0]` values; for more dims the outer dims are flattened. A row
/// is a whole number of blocks, so any row range is a contiguous byte range, streamed in 1 MiB
/// reads. `out.len()` must be `rows.len() · ne[0]`.
///
/// Errors: [`Error::UnsupportedDtype`] ("unsupported GGUF type X") for a type without a
/// dequantizer; [`Error::InvalidParameter`] for a non-GGUF entry or rows past the end;
/// [`Error::Shape`] for a wrong `out` length; [`Error::Format`] for an inconsistent entry or a
/// range outside the source; [`Error::Io`] when the source fails.
pub fn read_gguf_rows(
    src: &dyn ByteSource,
    entry: &TensorEntry,
    rows: Range<usize>,
    out: &mut [f32],
) -> Result<()> {
    read_rows_chunked(src, entry, rows, out, 1 << 20)
}

/// [`super::read_tensor`] for a GGUF entry: the whole tensor dequantized to f32 in its
/// PyTorch-oriented shape.
pub(crate) fn read_gguf_tensor(
    src: &dyn ByteSource,
    entry: &TensorEntry,
    params: &ReadParams,
) -> Result<TensorData> {
    if params.chunk_bytes == 0 {
        return Err(Error::InvalidParameter {
            name: "chunk_bytes",
            reason: "must be at least 1".to_string(),
        });
    }
    let (_, rows, ne0, _) = row_geometry(entry)?;
    let name = &entry.name;
    let count = (rows as u64).saturating_mul(ne0 as u64);
    let decoded = count.saturating_mul(4);
    if entry.byte_len > params.max_tensor_bytes || decoded > params.max_tensor_bytes {
        return Err(Error::InvalidParameter {
            name: "max_tensor_bytes",
            reason: format!(
                "tensor `{name}` ({}, shape {:?}) is {} bytes stored and {decoded} bytes decoded, larger than the limit of {} bytes",
                entry.dtype, entry.shape, entry.byte_len, params.max_tensor_bytes
            ),
        });
    }
    let n = usize::try_from(decoded)
        .ok()
        .map(|_| count as usize)
        .ok_or_else(|| {
            format_err(format!(
                "tensor `{name}` ({decoded} bytes decoded) does not fit in memory on this platform"
            ))
        })?;
    let mut out = vec![0f32; n];
    read_rows_chunked(src, entry, 0..rows, &mut out, params.chunk_bytes)?;
    let array = ArrayD::from_shape_vec(IxDyn(&entry.shape), out).map_err(|e| {
        format_err(format!(
            "tensor `{name}`: shape {:?} does not match {n} values: {e}",
            entry.shape
        ))
    })?;
    Ok(TensorData::F32(array))
}

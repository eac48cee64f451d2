//! numpy `.npy` headers (format versions 1.0, 2.0 and 3.0).
//!
//! Layout: `\x93NUMPY`, major (u8), minor (u8), header length `H` (u16 LE for 1.0, u32 LE for
//! 2.0/3.0), `H` bytes of a Python dict literal (latin-1 for 1.0/2.0, UTF-8 for 3.0; numpy pads it
//! with spaces and a final `\n` so the data starts at a multiple of 64), then the data:
//! `prod(shape) · itemsize` bytes in C or Fortran order.
//!
//! Validation (each an [`Error::Format`](crate::Error::Format) naming the file or member): magic; version 1.0/2.0/3.0;
//! `H ≤` [`MAX_NPY_HEADER`] and inside the file; header text decodable; a dict with `descr`
//! (string, or list = structured), `fortran_order` (bool) and `shape` (tuple or list of
//! non-negative integers, at most [`MAX_DIMS`]), no duplicate keys; a parseable
//! descriptor; `prod(shape) · itemsize` without overflow and not more than the bytes after the
//! header (a truncated file names expected vs available bytes). Extra keys are ignored.

use super::pyliteral::{self, PyValue};
use super::source::{SeqRead, SourceCursor};
use super::{
    file_stem, format_err, Dtype, FileFormat, Storage, TensorEntry, TensorIndex, MAX_DIMS,
};
use crate::error::Result;

/// The 6-byte magic every `.npy` starts with.
pub(crate) const MAGIC: &[u8] = b"\x93NUMPY";

/// Largest `.npy` header accepted (bytes of the dict literal). numpy's own reader refuses headers
/// over 10 000 bytes unless told the file is trusted; real headers are < 200 bytes.
pub const MAX_NPY_HEADER: u64 = 1 << 20;

/// A parsed `.npy` header.
#[derive(Debug, Clone)]
pub(crate) struct NpyHeader {
    pub dtype: Dtype,
    pub big_endian: bool,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Bytes from the start of the `.npy` to its first data byte.
    pub data_offset: u64,
    /// `prod(shape) · itemsize`, `None` if the item size is unknown (object/structured dtypes).
    pub data_len: Option<u64>,
}

/// Reads and validates a `.npy` header from `r`, which yields the `.npy` bytes from their start;
/// `available` is the total size of the `.npy` (file or member); `what` names it in errors
/// (e.g. "`x.npy`" or "member `w.npy`").
pub(crate) fn read_npy_header(
    r: &mut dyn SeqRead,
    available: u64,
    what: &str,
) -> Result<NpyHeader> {
    if available < 10 {
        return Err(format_err(format!(
            "{what} is {available} bytes, shorter than the 10-byte minimum .npy preamble"
        )));
    }
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre)?;
    if &pre[..6] != MAGIC {
        return Err(format_err(format!(
            "{what} does not start with the .npy magic \\x93NUMPY"
        )));
    }
    let (major, minor) = (pre[6], pre[7]);
    let (len_bytes, utf8) = match (major, minor) {
        (1, 0) => (2usize, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => {
            return Err(format_err(format!(
                "{what} has .npy format version {major}.{minor}; supported: 1.0, 2.0, 3.0"
            )))
        }
    };
    let mut lb = [0u8; 4];
    r.read_exact(&mut lb[..len_bytes])?;
    let header_len = u64::from(u32::from_le_bytes(lb));
    let prefix = 8 + len_bytes as u64;
    if header_len > MAX_NPY_HEADER {
        return Err(format_err(format!(
            "{what}: .npy header length {header_len} bytes exceeds the limit of {MAX_NPY_HEADER}"
        )));
    }
    let data_offset = prefix + header_len;
    if data_offset > available {
        return Err(format_err(format!(
            "{what} is truncated: its .npy header ends at byte {data_offset}, but it has only {available} bytes"
        )));
    }
    let mut raw = vec![0u8; header_len as usize];
    r.read_exact(&mut raw)?;
    let text: String = if utf8 {
        String::from_utf8(raw).map_err(|e| {
            format_err(format!(
                "{what}: .npy 3.0 header is not valid UTF-8 (at header byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?
    } else {
        // latin-1: every byte is the code point of the same value.
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let dict = match pyliteral::parse(&text) {
        Ok(PyValue::Dict(items)) => items,
        Ok(other) => {
            return Err(format_err(format!(
                "{what}: .npy header is {}, not a dict",
                other.describe()
            )))
        }
        Err(e) => {
            return Err(format_err(format!(
                "{what}: .npy header is not a Python literal: {e}"
            )))
        }
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in dict {
        let key = match key {
            PyValue::Str(k) => k,
            other => {
                return Err(format_err(format!(
                    "{what}: .npy header has a non-string key ({})",
                    other.describe()
                )))
            }
        };
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(format_err(format!(
                "{what}: .npy header has key '{key}' twice"
            )));
        }
    }
    let missing = |k: &str| format_err(format!("{what}: .npy header has no '{k}' key"));
    let descr = descr.ok_or_else(|| missing("descr"))?;
    let fortran_order = match fortran.ok_or_else(|| missing("fortran_order"))? {
        PyValue::Bool(b) => b,
        other => {
            return Err(format_err(format!(
                "{what}: .npy header 'fortran_order' must be True or False, found {}",
                other.describe()
            )))
        }
    };
    let dims = match shape.ok_or_else(|| missing("shape"))? {
        PyValue::Tuple(v) | PyValue::List(v) => v,
        other => {
            return Err(format_err(format!(
                "{what}: .npy header 'shape' must be a tuple of integers, found {}",
                other.describe()
            )))
        }
    };
    if dims.len() > MAX_DIMS {
        return Err(format_err(format!(
            "{what}: .npy shape has {} dimensions, more than {MAX_DIMS}",
            dims.len()
        )));
    }
    let mut shape = Vec::with_capacity(dims.len());
    for d in &dims {
        match d {
            PyValue::Int(i) if *i >= 0 => shape.push(usize::try_from(*i).map_err(|_| {
                format_err(format!(
                    "{what}: .npy shape dimension {i} does not fit in memory"
                ))
            })?),
            other => {
                return Err(format_err(format!(
                    "{what}: .npy shape entries must be non-negative integers, found {}",
                    other.describe()
                )))
            }
        }
    }
    let (dtype, big_endian, item_size) = match &descr {
        PyValue::Str(s) => parse_descr(s).ok_or_else(|| {
            format_err(format!("{what}: unrecognised .npy dtype descriptor {s:?}"))
        })?,
        PyValue::List(_) => (
            Dtype::Other(format!("structured {}", summarize(&text))),
            false,
            None,
        ),
        other => {
            return Err(format_err(format!(
                "{what}: .npy header 'descr' must be a string, found {}",
                other.describe()
            )))
        }
    };
    let data_len = match item_size {
        None => None,
        Some(size) => {
            let n = shape
                .iter()
                .try_fold(size, |acc, &d| acc.checked_mul(d as u64))
                .ok_or_else(|| {
                    format_err(format!(
                        "{what}: shape {shape:?} × {size}-byte items overflows 64 bits"
                    ))
                })?;
            let have = available - data_offset;
            if n > have {
                return Err(format_err(format!(
                    "{what} is truncated: shape {shape:?} of {} needs {n} data bytes after the {data_offset}-byte header, but only {have} are available",
                    dtype
                )));
            }
            Some(n)
        }
    };
    Ok(NpyHeader {
        dtype,
        big_endian,
        fortran_order,
        shape,
        data_offset,
        data_len,
    })
}

/// Index of a whole `.npy` file: one raw tensor named after the file stem of `name_hint`.
pub(crate) fn read_npy_index(src: &dyn super::ByteSource, name_hint: &str) -> Result<TensorIndex> {
    let total = src.len();
    let mut cursor = SourceCursor::new(src, 0, total, 4096);
    let shown = if name_hint.is_empty() {
        "the .npy file".to_string()
    } else {
        format!("`{name_hint}`")
    };
    let h = read_npy_header(&mut cursor, total, &shown)?;
    Ok(TensorIndex {
        format: FileFormat::Npy,
        tensors: vec![entry_from_header(
            file_stem(name_hint),
            h,
            0,
            total,
            Storage::Raw,
        )],
        metadata: Vec::new(),
    })
}

/// The [`TensorEntry`] of a parsed header; `base` is added to the data offset (the `.npy`'s own
/// offset in the source for raw storage, 0 for deflated members) and `available` is the `.npy`'s
/// size.
pub(crate) fn entry_from_header(
    name: String,
    h: NpyHeader,
    base: u64,
    available: u64,
    storage: Storage,
) -> TensorEntry {
    let byte_len = h.data_len.unwrap_or(available - h.data_offset);
    TensorEntry {
        name,
        dtype: h.dtype,
        shape: h.shape,
        offset: base + h.data_offset,
        byte_len,
        fortran_order: h.fortran_order,
        big_endian: h.big_endian,
        storage,
    }
}

/// Parses a numpy type descriptor such as `'<f4'`, `'>f8'`, `'|b1'`, `'<U10'`, `'<M8[ns]'`,
/// `'|O'` into (dtype, big-endian, item size). `'='` (native) is taken as little-endian, the
/// order of every platform Spectralab runs on. `None` if it is not a descriptor.
pub(crate) fn parse_descr(s: &str) -> Option<(Dtype, bool, Option<u64>)> {
    let (order, rest) = match s.chars().next()? {
        c @ ('<' | '>' | '|' | '=') => (c, &s[1..]),
        _ => ('=', s),
    };
    let big_endian = order == '>';
    let mut chars = rest.chars();
    let kind = chars.next()?;
    let tail = chars.as_str();
    let digits_end = tail
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(tail.len());
    let (digits, suffix) = tail.split_at(digits_end);
    let size: Option<u64> = if digits.is_empty() {
        None
    } else {
        digits.parse().ok()
    };
    // Only datetime/timedelta may carry a unit suffix like "[ns]".
    let unit_ok = matches!(kind, 'M' | 'm') && suffix.starts_with('[') && suffix.ends_with(']');
    if !suffix.is_empty() && !unit_ok {
        return None;
    }
    let dtype = match (kind, size) {
        ('f', Some(2)) => Dtype::F16,
        ('f', Some(4)) => Dtype::F32,
        ('f', Some(8)) => Dtype::F64,
        ('O', None) => return Some((Dtype::Other(s.to_string()), false, None)),
        ('f' | 'i' | 'u' | 'c' | 'b' | 'S' | 'a' | 'V' | 'U' | 'M' | 'm', Some(_)) => {
            Dtype::Other(s.to_string())
        }
        _ => return None,
    };
    let item_size = match kind {
        'U' => size.and_then(|n| n.checked_mul(4)),
        _ => size,
    };
    Some((dtype, big_endian, item_size))
}

/// Item size of a numpy descriptor, if `s` is one with a known size.
pub(crate) fn descr_item_size(s: &str) -> Option<u64> {
    parse_descr(s).and_then(|(_, _, size)| size)
}

/// The header text, shortened for error messages and dtype names.
fn summarize(text: &str) -> String {
    let t = text.trim();
    if t.chars().count() > 80 {
        let head: String = t.chars().take(77).collect();
        format!("{head}…")
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        assert_eq!(parse_descr("<f4"), Some((Dtype::F32, false, Some(4))));
        assert_eq!(parse_descr(">f8"), Some((Dtype::F64, true, Some(8))));
        assert_eq!(parse_descr("<f2"), Some((Dtype::F16, false, Some(2))));
        assert_eq!(
            parse_descr("|b1"),
            Some((Dtype::Other("|b1".into()), false, Some(1)))
        );
        assert_eq!(
            parse_descr("<i8"),
            Some((Dtype::Other("<i8".into()), false, Some(8)))
        );
        assert_eq!(
            parse_descr("<U3"),
            Some((Dtype::Other("<U3".into()), false, Some(12)))
        );
        assert_eq!(
            parse_descr("<M8[ns]"),
            Some((Dtype::Other("<M8[ns]".into()), false, Some(8)))
        );
        assert_eq!(
            parse_descr("|O"),
            Some((Dtype::Other("|O".into()), false, None))
        );
        assert_eq!(
            parse_descr("<f16"),
            Some((Dtype::Other("<f16".into()), false, Some(16)))
        );
        for bad in [
            "",
            "<",
            "<x4",
            "<f",
            "<f4x",
            "<i8[ns]",
            "<f99999999999999999999999",
        ] {
            assert_eq!(parse_descr(bad), None, "{bad:?}");
        }
    }
}

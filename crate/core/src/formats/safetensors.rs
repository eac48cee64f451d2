//! safetensors headers.
//!
//! Layout: bytes `0..8` = header length `N` (u64 little-endian); bytes `8..8+N` = UTF-8 JSON
//! object; bytes `8+N..` = data section. Each tensor entry is
//! `"name": {"dtype": "F16", "shape": [384, 384], "data_offsets": [begin, end]}` with offsets
//! relative to the data section; `"__metadata__"` (optional, may be `null`) maps strings to
//! strings. Data is little-endian, C order.
//!
//! **Order.** The reference writer (the `safetensors` crate, also behind the Python package)
//! sorts tensors by dtype (larger types first) then by name, lays the data out in that order and
//! writes the header keys in the same order; its reader sorts entries by `data_offsets`. We return
//! tensors sorted by `(begin, end)` of their data (stable, so ties keep header order): the file
//! order, which equals the header order for files from the reference writer.
//!
//! **Validation** (each an [`Error::Format`](crate::Error::Format) naming the tensor, offsets
//! and sizes): file ≥ 8 bytes; `0 < N ≤` [`MAX_SAFETENSORS_HEADER`] and `8 + N ≤` file length;
//! header UTF-8; header a JSON object (trailing spaces allowed, as writers pad to 8 bytes),
//! without duplicate keys; each entry an object with `dtype` (string), `shape` (array of
//! non-negative integers, at most [`MAX_DIMS`]) and `data_offsets` (two
//! non-negative integers), other keys ignored; `begin ≤ end`; `end ≤` data-section length;
//! `prod(shape) · item size = end − begin` (checked arithmetic) for every dtype whose size is
//! known; no two non-empty tensors overlap; `__metadata__` an object of strings.
//! Unknown dtypes are kept as [`Dtype::Other`] (the rest of the file stays readable).
//! Deliberately **more lenient** than the reference reader: gaps between tensors and bytes after
//! the last one are accepted (they are harmless for random access).

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::source::read_vec;
use super::{
    format_err, ByteSource, Dtype, FileFormat, Storage, TensorEntry, TensorIndex, MAX_DIMS,
};
use crate::error::Result;

/// Largest safetensors JSON header accepted, in bytes: the reference implementation's own limit.
pub const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;

/// Bits per element of the safetensors dtype names (`None` for names we do not know).
pub(crate) fn dtype_bits(name: &str) -> Option<u64> {
    Some(match name {
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

fn dtype_from_name(name: &str) -> Dtype {
    match name {
        "F64" => Dtype::F64,
        "F32" => Dtype::F32,
        "F16" => Dtype::F16,
        "BF16" => Dtype::BF16,
        other => Dtype::Other(other.to_string()),
    }
}

/// One header entry as parsed, before validation.
struct RawEntry {
    name: String,
    dtype: Option<String>,
    shape: Option<Vec<u64>>,
    data_offsets: Option<Vec<u64>>,
}

/// Everything the header holds, in header order.
struct RawHeader {
    entries: Vec<RawEntry>,
    metadata: Vec<(String, String)>,
}

/// Reads and validates the header of a safetensors file.
pub(crate) fn read_safetensors_index(src: &dyn ByteSource) -> Result<TensorIndex> {
    let total = src.len();
    if total < 8 {
        return Err(format_err(format!(
            "safetensors file is {total} bytes, shorter than its 8-byte header-length prefix"
        )));
    }
    let mut lb = [0u8; 8];
    src.read_at(0, &mut lb)?;
    let n = u64::from_le_bytes(lb);
    if n == 0 {
        return Err(format_err("safetensors header length (bytes 0..8) is 0"));
    }
    if n > MAX_SAFETENSORS_HEADER {
        return Err(format_err(format!(
            "safetensors header length {n} bytes exceeds the limit of {MAX_SAFETENSORS_HEADER} bytes"
        )));
    }
    if n > total - 8 {
        return Err(format_err(format!(
            "safetensors header length {n} bytes runs past the end of the {total}-byte file (at most {} bytes follow the length prefix)",
            total - 8
        )));
    }
    let bytes = read_vec(src, 8, n, "safetensors header")?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        format_err(format!(
            "safetensors header is not valid UTF-8 (invalid byte at file offset {})",
            8 + e.valid_up_to()
        ))
    })?;
    let raw = parse_header(text)?;
    let data_start = 8 + n;
    let data_len = total - data_start;

    let mut tensors = Vec::with_capacity(raw.entries.len());
    for e in raw.entries {
        tensors.push(validate_entry(e, data_start, data_len)?);
    }
    tensors.sort_by_key(|t| (t.offset, t.byte_len));
    let mut last: Option<&TensorEntry> = None;
    for t in tensors.iter().filter(|t| t.byte_len > 0) {
        if let Some(p) = last {
            if p.offset + p.byte_len > t.offset {
                return Err(format_err(format!(
                    "safetensors tensors `{}` (data_offsets [{}, {}]) and `{}` (data_offsets [{}, {}]) overlap",
                    p.name,
                    p.offset - data_start,
                    p.offset - data_start + p.byte_len,
                    t.name,
                    t.offset - data_start,
                    t.offset - data_start + t.byte_len
                )));
            }
        }
        last = Some(t);
    }
    Ok(TensorIndex {
        format: FileFormat::Safetensors,
        tensors,
        metadata: raw.metadata,
    })
}

fn validate_entry(e: RawEntry, data_start: u64, data_len: u64) -> Result<TensorEntry> {
    let name = e.name;
    let missing = |field: &str| {
        format_err(format!(
            "safetensors tensor `{name}` has no `{field}` field"
        ))
    };
    let dtype_name = e.dtype.ok_or_else(|| missing("dtype"))?;
    let shape64 = e.shape.ok_or_else(|| missing("shape"))?;
    let offsets = e.data_offsets.ok_or_else(|| missing("data_offsets"))?;
    let [begin, end] = offsets[..] else {
        return Err(format_err(format!(
            "safetensors tensor `{name}`: `data_offsets` must hold 2 integers [begin, end], found {}",
            offsets.len()
        )));
    };
    if begin > end {
        return Err(format_err(format!(
            "safetensors tensor `{name}`: data_offsets [{begin}, {end}] have begin > end"
        )));
    }
    if end > data_len {
        return Err(format_err(format!(
            "safetensors tensor `{name}`: data_offsets [{begin}, {end}] lie outside the {data_len}-byte data section (file offsets {}..{} of a {}-byte file)",
            data_start,
            data_start + data_len,
            data_start + data_len
        )));
    }
    let mut shape = Vec::with_capacity(shape64.len());
    for &d in &shape64 {
        shape.push(usize::try_from(d).map_err(|_| {
            format_err(format!(
                "safetensors tensor `{name}`: dimension {d} of shape {shape64:?} does not fit in memory on this platform"
            ))
        })?);
    }
    if let Some(bits) = dtype_bits(&dtype_name) {
        let expected = shape64
            .iter()
            .try_fold(bits, |acc, &d| acc.checked_mul(d))
            .map(|total_bits| total_bits.div_ceil(8))
            .ok_or_else(|| {
                format_err(format!(
                    "safetensors tensor `{name}`: shape {shape64:?} × {dtype_name} overflows 64 bits"
                ))
            })?;
        if expected != end - begin {
            return Err(format_err(format!(
                "safetensors tensor `{name}`: shape {shape64:?} of {dtype_name} needs {expected} bytes, but data_offsets [{begin}, {end}] span {} bytes",
                end - begin
            )));
        }
    }
    Ok(TensorEntry {
        dtype: dtype_from_name(&dtype_name),
        shape,
        offset: data_start + begin,
        byte_len: end - begin,
        fortran_order: false,
        big_endian: false,
        storage: Storage::Raw,
        name,
    })
}

/// Parses the JSON header keeping key order and recording, for error messages, which tensor
/// and field was being read when the JSON parser failed.
fn parse_header(text: &str) -> Result<RawHeader> {
    let context = RefCell::new(String::new());
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = HeaderSeed { context: &context }
        .deserialize(&mut de)
        .and_then(|h| de.end().map(|()| h));
    parsed.map_err(|e| {
        let ctx = context.borrow();
        let what = if !ctx.is_empty() {
            format!("safetensors header: {ctx}: {e}")
        } else if e.is_data() {
            format!("safetensors header is not a JSON object of tensor entries: {e}")
        } else {
            format!("safetensors header is not valid JSON: {e}")
        };
        format_err(what)
    })
}

struct HeaderSeed<'c> {
    context: &'c RefCell<String>,
}

impl<'de> DeserializeSeed<'de> for HeaderSeed<'_> {
    type Value = RawHeader;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<RawHeader, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HeaderSeed<'_> {
    type Value = RawHeader;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (tensor name → {dtype, shape, data_offsets})")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawHeader, A::Error> {
        let mut entries = Vec::new();
        let mut metadata = None;
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            if key == "__metadata__" {
                *self.context.borrow_mut() = "`__metadata__` (must be an object of strings)".into();
                let m: Option<MetadataMap> = map.next_value()?;
                metadata = Some(m.map(|m| m.0).unwrap_or_default());
            } else {
                *self.context.borrow_mut() = format!("tensor `{key}`");
                let e = map.next_value_seed(EntrySeed {
                    name: key,
                    context: self.context,
                })?;
                entries.push(e);
            }
            self.context.borrow_mut().clear();
        }
        let mut metadata = metadata.unwrap_or_default();
        metadata.sort();
        Ok(RawHeader { entries, metadata })
    }
}

/// `__metadata__`: string → string, in file order (sorted afterwards).
struct MetadataMap(Vec<(String, String)>);

impl<'de> de::Deserialize<'de> for MetadataMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MetadataMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object whose values are strings")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<MetadataMap, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(MetadataMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

struct EntrySeed<'c> {
    name: String,
    context: &'c RefCell<String>,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = RawEntry;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<RawEntry, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = RawEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object {\"dtype\", \"shape\", \"data_offsets\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawEntry, A::Error> {
        let mut e = RawEntry {
            name: self.name,
            dtype: None,
            shape: None,
            data_offsets: None,
        };
        while let Some(field) = map.next_key::<String>()? {
            *self.context.borrow_mut() = format!("tensor `{}`, field `{field}`", e.name);
            let duplicate = match field.as_str() {
                "dtype" => e.dtype.replace(map.next_value()?).is_some(),
                "shape" => e
                    .shape
                    .replace(map.next_value_seed(UintSeq { max: MAX_DIMS })?)
                    .is_some(),
                "data_offsets" => e
                    .data_offsets
                    .replace(map.next_value_seed(UintSeq { max: 2 })?)
                    .is_some(),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    false
                }
            };
            if duplicate {
                return Err(de::Error::custom("the field appears twice"));
            }
        }
        *self.context.borrow_mut() = format!("tensor `{}`", e.name);
        Ok(e)
    }
}

/// An array of at most `max` non-negative integers.
struct UintSeq {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for UintSeq {
    type Value = Vec<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Vec<u64>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for UintSeq {
    type Value = Vec<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of at most {} non-negative integers", self.max)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<u64>, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<u64>()? {
            if out.len() == self.max {
                return Err(de::Error::custom(format!("more than {} entries", self.max)));
            }
            out.push(v);
        }
        Ok(out)
    }
}

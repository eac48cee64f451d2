//! Plain-text tables (CSV/TSV) of embeddings, and integer label vectors from `.npy` files.

use crate::formats::{read_index, read_tensor, ByteSource, Dtype, ReadParams, Storage, TensorData};
use crate::{Error, Result};
use ndarray::Array2;

/// A parsed numeric table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Column names when the first line is a header.
    pub header: Option<Vec<String>>,
    /// Values, one row per data line.
    pub data: Array2<f64>,
}

/// Parses CSV or TSV text into an `n × d` matrix.
///
/// * Delimiter: tab when the first content line has a tab, else `,` (else `;`, else runs of
///   spaces).
/// * Header: the first content line is a header when any of its fields is not a number.
/// * Blank lines and lines starting with `#` are skipped; fields are trimmed and may be quoted
///   (`"1.5"`); `nan`, `inf` parse (and are then rejected by the metrics as non-finite).
///
/// Errors: [`Error::Format`] naming the line for a non-numeric field or a row whose length
/// differs from the first; [`Error::Empty`] when there is no data line.
pub fn parse_table(text: &str) -> Result<Table> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .peekable();
    let Some(&(_, first)) = lines.peek() else {
        return Err(Error::Empty { rows: 0, cols: 0 });
    };
    let delim: Option<char> = if first.contains('\t') {
        Some('\t')
    } else if first.contains(',') {
        Some(',')
    } else if first.contains(';') {
        Some(';')
    } else {
        None
    };
    let split = |l: &str| -> Vec<String> {
        let unq = |f: &str| f.trim().trim_matches('"').trim().to_string();
        match delim {
            Some(c) => l.split(c).map(unq).collect(),
            None => l.split_whitespace().map(unq).collect(),
        }
    };
    let mut header = None;
    let first_fields = split(first);
    if first_fields.iter().any(|f| f.parse::<f64>().is_err()) {
        header = Some(first_fields);
        lines.next();
    }
    let mut values = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (ln, l) in lines {
        let fields = split(l);
        let want = *cols.get_or_insert(fields.len());
        if fields.len() != want {
            return Err(Error::Format {
                what: format!("line {ln}: {} fields, expected {want}", fields.len()),
            });
        }
        for (c, f) in fields.iter().enumerate() {
            values.push(f.parse::<f64>().map_err(|_| Error::Format {
                what: format!("line {ln}, column {}: `{f}` is not a number", c + 1),
            })?);
        }
        rows += 1;
    }
    let cols = cols.unwrap_or(0);
    if rows == 0 || cols == 0 {
        return Err(Error::Empty { rows, cols });
    }
    if let Some(h) = &header {
        if h.len() != cols {
            return Err(Error::Format {
                what: format!("header has {} fields, data rows have {cols}", h.len()),
            });
        }
    }
    Ok(Table {
        header,
        data: Array2::from_shape_vec((rows, cols), values).expect("rows·cols values"),
    })
}

/// Reads a 1-D label vector from a `.npy` (or the first tensor of an `.npz`/safetensors):
/// integer dtypes (`i1/i2/i4/i8`, `u1/u2/u4/u8`, little- or big-endian, uncompressed) or floats
/// with integral values. Errors: [`Error::Shape`] unless 1-D; [`Error::UnsupportedDtype`] for
/// other types; [`Error::Format`] for non-integral float labels.
pub fn read_labels(src: &dyn ByteSource, name_hint: &str) -> Result<Vec<i64>> {
    let index = read_index(src, name_hint)?;
    let Some(entry) = index.tensors.first() else {
        return Err(Error::Empty { rows: 0, cols: 0 });
    };
    if entry.shape.len() != 1 {
        return Err(Error::Shape {
            expected: "a 1-D label vector".into(),
            found: format!("shape {:?}", entry.shape),
        });
    }
    let n = entry.shape[0];
    if entry.dtype.is_supported() {
        let data = read_tensor(src, entry, &ReadParams::default())?;
        let v: Vec<f64> = match data {
            TensorData::F32(a) => a.iter().map(|&x| x as f64).collect(),
            TensorData::F64(a) => a.iter().copied().collect(),
        };
        return v
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
                    Ok(x as i64)
                } else {
                    Err(Error::Format {
                        what: format!("label {i} is {x}, not an integer"),
                    })
                }
            })
            .collect();
    }
    let name = entry.dtype.name().to_string();
    let unsupported = || Error::UnsupportedDtype {
        tensor: entry.name.clone(),
        dtype: name.clone(),
    };
    let Dtype::Other(descr) = &entry.dtype else {
        return Err(unsupported());
    };
    if entry.storage != Storage::Raw {
        return Err(unsupported());
    }
    let (big, code) = match descr.as_bytes() {
        [b'<' | b'|' | b'=', rest @ ..] => (false, rest),
        [b'>', rest @ ..] => (true, rest),
        _ => return Err(unsupported()),
    };
    let (signed, size) = match code {
        b"i1" => (true, 1),
        b"i2" => (true, 2),
        b"i4" => (true, 4),
        b"i8" => (true, 8),
        b"u1" => (false, 1),
        b"u2" => (false, 2),
        b"u4" => (false, 4),
        b"u8" => (false, 8),
        _ => return Err(unsupported()),
    };
    if entry.byte_len != (n * size) as u64 {
        return Err(Error::Format {
            what: format!("label tensor: {} bytes for {n} × {size}", entry.byte_len),
        });
    }
    let mut buf = vec![0u8; n * size];
    src.read_at(entry.offset, &mut buf)?;
    Ok(buf
        .chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            if big {
                for (k, &x) in c.iter().rev().enumerate() {
                    b[k] = x;
                }
            } else {
                b[..size].copy_from_slice(c);
            }
            let negative = signed && b[size - 1] & 0x80 != 0;
            if negative {
                for x in b.iter_mut().skip(size) {
                    *x = 0xff;
                }
            }
            i64::from_le_bytes(b)
        })
        .collect())
}

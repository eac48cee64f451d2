//! Decoding a tensor's bytes, chunk by chunk, straight into a C-order output array.

use ndarray::{ArrayD, IxDyn};

#[cfg(feature = "npz")]
use super::inflate::MemberInflater;
use super::source::check_range;
#[cfg(feature = "npz")]
use super::source::SeqRead;
use super::{format_err, ByteSource, Dtype, ReadParams, Storage, TensorData, TensorEntry};
use crate::dtype::{widen_bf16, widen_f16};
use crate::error::{Error, Result};

/// See [`super::read_tensor`].
pub(crate) fn read_tensor(
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
    let name = &entry.name;
    let kind = match &entry.dtype {
        Dtype::Other(d) => {
            return Err(Error::UnsupportedDtype {
                tensor: name.clone(),
                dtype: d.clone(),
            })
        }
        d => d.clone(),
    };
    let item = kind.item_size().unwrap_or(1) as u64;
    let count = entry.element_count().ok_or_else(|| {
        format_err(format!(
            "tensor `{name}`: shape {:?} overflows 64 bits",
            entry.shape
        ))
    })?;
    let stored = count.checked_mul(item);
    if stored != Some(entry.byte_len) {
        return Err(format_err(format!(
            "tensor `{name}`: index entry is inconsistent: shape {:?} of {kind} needs {} bytes, byte_len is {}",
            entry.shape,
            stored.map_or("more than 2^64".to_string(), |s| s.to_string()),
            entry.byte_len
        )));
    }
    let out_item: u64 = if kind == Dtype::F64 { 8 } else { 4 };
    let decoded = count.saturating_mul(out_item);
    if entry.byte_len > params.max_tensor_bytes || decoded > params.max_tensor_bytes {
        return Err(Error::InvalidParameter {
            name: "max_tensor_bytes",
            reason: format!(
                "tensor `{name}` ({kind}, shape {:?}) is {} bytes stored and {decoded} bytes decoded, larger than the limit of {} bytes",
                entry.shape, entry.byte_len, params.max_tensor_bytes
            ),
        });
    }
    let n = usize::try_from(count)
        .ok()
        .filter(|_| usize::try_from(decoded).is_ok())
        .ok_or_else(|| {
            format_err(format!(
                "tensor `{name}` ({decoded} bytes decoded) does not fit in memory on this platform"
            ))
        })?;
    let mut sink = ElementSink::new(kind, entry.big_endian, entry.fortran_order, &entry.shape, n);
    let chunk = params.chunk_bytes;
    match &entry.storage {
        Storage::Raw => {
            check_range(
                src.len(),
                entry.offset,
                entry.byte_len,
                &format!("tensor `{name}`"),
            )?;
            let mut buf = vec![0u8; (chunk as u64).min(entry.byte_len) as usize];
            let mut pos = entry.offset;
            let end = entry.offset + entry.byte_len;
            while pos < end {
                let k = (end - pos).min(buf.len() as u64) as usize;
                src.read_at(pos, &mut buf[..k])?;
                sink.push(&buf[..k]);
                pos += k as u64;
            }
        }
        #[cfg(not(feature = "npz"))]
        Storage::Deflated { .. } => {
            return Err(format_err(format!(
                "tensor `{name}` is a deflated .npz member, which is not read by this build (built without the `npz` feature, like the widgets' spectrum module): use the full build, the lab or the CLI"
            )));
        }
        #[cfg(feature = "npz")]
        Storage::Deflated {
            compressed_offset,
            compressed_len,
            inflated_len,
            crc32,
        } => {
            let what = format!("tensor `{name}` (deflated member)");
            check_range(src.len(), *compressed_offset, *compressed_len, &what)?;
            let data_end = entry.offset.checked_add(entry.byte_len);
            if data_end.is_none_or(|e| e > *inflated_len) {
                return Err(format_err(format!(
                    "{what}: data bytes {}..+{} lie outside the {inflated_len}-byte inflated member",
                    entry.offset, entry.byte_len
                )));
            }
            let mut z = MemberInflater::new(
                src,
                what,
                *compressed_offset,
                *compressed_len,
                *inflated_len,
                chunk,
            );
            let mut buf =
                vec![0u8; (chunk as u64).min(entry.offset.max(entry.byte_len)).max(1) as usize];
            // Skip the .npy header.
            let mut left = entry.offset;
            while left > 0 {
                let k = left.min(buf.len() as u64) as usize;
                z.read_exact(&mut buf[..k])?;
                left -= k as u64;
            }
            let mut left = entry.byte_len;
            while left > 0 {
                let k = left.min(buf.len() as u64) as usize;
                z.read_exact(&mut buf[..k])?;
                sink.push(&buf[..k]);
                left -= k as u64;
            }
            z.finish(*crc32)?;
        }
    }
    sink.finish(&entry.shape, name)
}

/// Where the next element read from the file goes in the C-order output.
///
/// C order: positions 0, 1, 2, …  Fortran order: the file's first index varies fastest, so the
/// position follows an odometer over the dimensions with C strides
/// `stride[k] = prod(shape[k+1..])`.
struct Placement {
    fortran: bool,
    dims: Vec<usize>,
    strides: Vec<usize>,
    idx: Vec<usize>,
    pos: usize,
    count: usize,
}

impl Placement {
    /// `n = prod(shape)` has been checked to fit in `usize`.
    fn new(shape: &[usize], fortran: bool, n: usize) -> Self {
        let fortran = fortran && shape.len() > 1 && n > 0;
        let mut strides = vec![1usize; shape.len()];
        if fortran {
            for k in (0..shape.len().saturating_sub(1)).rev() {
                strides[k] = strides[k + 1] * shape[k + 1];
            }
        }
        Placement {
            fortran,
            dims: shape.to_vec(),
            strides,
            idx: vec![0; shape.len()],
            pos: 0,
            count: 0,
        }
    }

    fn next(&mut self) -> usize {
        let p = if self.fortran { self.pos } else { self.count };
        self.count += 1;
        if self.fortran {
            for k in 0..self.dims.len() {
                self.idx[k] += 1;
                self.pos += self.strides[k];
                if self.idx[k] < self.dims[k] {
                    break;
                }
                self.pos -= self.dims[k] * self.strides[k];
                self.idx[k] = 0;
            }
        }
        p
    }
}

enum Output {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// Receives the tensor's bytes in arbitrary pieces and decodes whole elements into the output.
struct ElementSink {
    kind: Dtype,
    big_endian: bool,
    item: usize,
    out: Output,
    place: Placement,
    pending: Vec<u8>,
    written: usize,
    n: usize,
}

impl ElementSink {
    fn new(kind: Dtype, big_endian: bool, fortran: bool, shape: &[usize], n: usize) -> Self {
        let item = kind.item_size().unwrap_or(1);
        let out = if kind == Dtype::F64 {
            Output::F64(vec![0.0; n])
        } else {
            Output::F32(vec![0.0; n])
        };
        ElementSink {
            kind,
            big_endian,
            item,
            out,
            place: Placement::new(shape, fortran, n),
            pending: Vec::with_capacity(8),
            written: 0,
            n,
        }
    }

    fn push(&mut self, mut bytes: &[u8]) {
        if !self.pending.is_empty() {
            let take = (self.item - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() < self.item {
                return;
            }
            let one = std::mem::take(&mut self.pending);
            self.emit(&one);
            self.pending = one;
            self.pending.clear();
        }
        let whole = bytes.len() / self.item * self.item;
        self.emit(&bytes[..whole]);
        self.pending.extend_from_slice(&bytes[whole..]);
    }

    /// Decodes whole elements; elements beyond `n` are dropped (callers pass exactly
    /// `n · item` bytes, and `finish` checks the count).
    fn emit(&mut self, bytes: &[u8]) {
        let room = (self.n - self.written) * self.item;
        let bytes = &bytes[..bytes.len().min(room)];
        let be = self.big_endian;
        let count = bytes.len() / self.item;
        match (&self.kind, &mut self.out) {
            (Dtype::F64, Output::F64(out)) => {
                for c in bytes.chunks_exact(8) {
                    let a: [u8; 8] = c.try_into().unwrap_or([0; 8]);
                    out[self.place.next()] = if be {
                        f64::from_be_bytes(a)
                    } else {
                        f64::from_le_bytes(a)
                    };
                }
            }
            (Dtype::F32, Output::F32(out)) => {
                for c in bytes.chunks_exact(4) {
                    let a: [u8; 4] = c.try_into().unwrap_or([0; 4]);
                    out[self.place.next()] = if be {
                        f32::from_be_bytes(a)
                    } else {
                        f32::from_le_bytes(a)
                    };
                }
            }
            (Dtype::F16 | Dtype::BF16, Output::F32(out)) => {
                let bits: Vec<u16> = bytes
                    .chunks_exact(2)
                    .map(|c| {
                        let a = [c[0], c[1]];
                        if be {
                            u16::from_be_bytes(a)
                        } else {
                            u16::from_le_bytes(a)
                        }
                    })
                    .collect();
                let wide = if self.kind == Dtype::F16 {
                    widen_f16(&bits)
                } else {
                    widen_bf16(&bits)
                };
                for v in wide {
                    out[self.place.next()] = v;
                }
            }
            _ => return,
        }
        self.written += count;
    }

    fn finish(self, shape: &[usize], name: &str) -> Result<TensorData> {
        if self.written != self.n || !self.pending.is_empty() {
            return Err(format_err(format!(
                "tensor `{name}`: decoded {} of {} elements",
                self.written, self.n
            )));
        }
        let shape_err = |e: ndarray::ShapeError| Error::Shape {
            expected: format!("{shape:?}"),
            found: format!("{} elements ({e})", self.n),
        };
        Ok(match self.out {
            Output::F32(v) => {
                TensorData::F32(ArrayD::from_shape_vec(IxDyn(shape), v).map_err(shape_err)?)
            }
            Output::F64(v) => {
                TensorData::F64(ArrayD::from_shape_vec(IxDyn(shape), v).map_err(shape_err)?)
            }
        })
    }
}

/// See [`super::read_block`].
pub(crate) fn read_block(
    src: &dyn ByteSource,
    entry: &TensorEntry,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> Result<TensorData> {
    let name = &entry.name;
    let kind = match &entry.dtype {
        Dtype::Other(d) => {
            return Err(Error::UnsupportedDtype {
                tensor: name.clone(),
                dtype: d.clone(),
            })
        }
        d => d.clone(),
    };
    if entry.fortran_order || !matches!(entry.storage, Storage::Raw) {
        return Err(format_err(format!(
            "tensor `{name}`: a block can only be read from raw C-order storage"
        )));
    }
    let (n, m) = matrix_dims(entry)?;
    if rows.start > rows.end || rows.end > n || cols.start > cols.end || cols.end > m {
        return Err(Error::InvalidParameter {
            name: "block",
            reason: format!("rows {rows:?} × columns {cols:?} outside tensor `{name}` of {n}×{m}"),
        });
    }
    let item = kind.item_size().unwrap_or(1) as u64;
    let expected = (n as u64)
        .checked_mul(m as u64)
        .and_then(|c| c.checked_mul(item));
    if expected != Some(entry.byte_len) {
        return Err(format_err(format!(
            "tensor `{name}`: index entry is inconsistent: shape {:?} of {kind} needs {} bytes, byte_len is {}",
            entry.shape,
            expected.map_or("more than 2^64".to_string(), |s| s.to_string()),
            entry.byte_len
        )));
    }
    check_range(
        src.len(),
        entry.offset,
        entry.byte_len,
        &format!("tensor `{name}`"),
    )?;
    let (r, c) = (rows.len(), cols.len());
    let count = r
        .checked_mul(c)
        .ok_or_else(|| format_err(format!("tensor `{name}`: block {r}×{c} overflows")))?;
    let mut sink = ElementSink::new(kind, entry.big_endian, false, &[r, c], count);
    let row_bytes = m as u64 * item;
    let seg = c as u64 * item;
    if c == m {
        // Whole rows: one contiguous range, read in pieces of ≤ 4 MiB.
        let mut pos = entry.offset + rows.start as u64 * row_bytes;
        let end = pos + r as u64 * row_bytes;
        let mut buf = vec![0u8; (end - pos).min(4 << 20) as usize];
        while pos < end {
            let k = (end - pos).min(buf.len() as u64) as usize;
            src.read_at(pos, &mut buf[..k])?;
            sink.push(&buf[..k]);
            pos += k as u64;
        }
    } else {
        let mut buf = vec![0u8; seg as usize];
        for i in rows {
            let pos = entry.offset + i as u64 * row_bytes + cols.start as u64 * item;
            src.read_at(pos, &mut buf)?;
            sink.push(&buf);
        }
    }
    sink.finish(&[r, c], name)
}

/// `(rows, cols)` of a tensor seen as a matrix: `shape[0] × prod(shape[1..])`.
pub(crate) fn matrix_dims(entry: &TensorEntry) -> Result<(usize, usize)> {
    let n = entry.shape.first().copied().unwrap_or(1);
    let m = entry
        .shape
        .iter()
        .skip(1)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format_err(format!("tensor `{}`: shape overflows", entry.name)))?;
    Ok((n, m))
}

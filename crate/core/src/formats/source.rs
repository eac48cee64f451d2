//! The random-access byte source every reader in [`crate::formats`] goes through.

use crate::error::{Error, Result};

/// A read-only, random-access sequence of bytes: an in-memory buffer, a file read with `pread`,
/// a browser `Blob` read with `FileReaderSync` in a Worker, an HTTP resource read with range
/// requests…
///
/// Object-safe and synchronous; `&self` so one source can serve many reads. The readers call
/// [`read_at`](ByteSource::read_at) only for ranges inside `0..len()` that a header justified,
/// in pieces of bounded size, and never assume the source is cheap to read whole.
pub trait ByteSource {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Whether the source has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` exactly with the bytes at `offset .. offset + buf.len()`.
    ///
    /// A range reaching past [`len`](ByteSource::len), or a source that cannot deliver the bytes
    /// (I/O error, file changed underneath), is an error — typically [`Error::Io`] — never a
    /// partially filled buffer and never a panic.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;
}

impl ByteSource for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let total = <[u8]>::len(self) as u64;
        let end = offset.checked_add(buf.len() as u64);
        match end {
            Some(end) if end <= total => {
                // offset ≤ end ≤ total ≤ usize::MAX here.
                let start = offset as usize;
                buf.copy_from_slice(&self[start..start + buf.len()]);
                Ok(())
            }
            _ => Err(Error::Io {
                what: format!(
                    "read of {} bytes at offset {offset} runs past the end of the {total}-byte buffer",
                    buf.len()
                ),
            }),
        }
    }
}

impl ByteSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.as_slice().read_at(offset, buf)
    }
}

impl<T: ByteSource + ?Sized> ByteSource for &T {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_at(offset, buf)
    }
}

/// Checks that `offset .. offset + len` lies inside a source of `total` bytes; the error names
/// `what`.
pub(crate) fn check_range(total: u64, offset: u64, len: u64, what: &str) -> Result<()> {
    match offset.checked_add(len) {
        Some(end) if end <= total => Ok(()),
        _ => Err(Error::Format {
            what: format!(
                "{what} ({len} bytes at offset {offset}) extends past the end of the {total}-byte file"
            ),
        }),
    }
}

/// Reads `len` bytes at `offset` into a new vector after checking the range against the source
/// length. Callers bound `len` before calling (it is a header-derived size).
pub(crate) fn read_vec(src: &dyn ByteSource, offset: u64, len: u64, what: &str) -> Result<Vec<u8>> {
    check_range(src.len(), offset, len, what)?;
    let n = usize::try_from(len).map_err(|_| Error::Format {
        what: format!("{what} ({len} bytes) does not fit in memory on this platform"),
    })?;
    let mut buf = vec![0u8; n];
    src.read_at(offset, &mut buf)?;
    Ok(buf)
}

/// Sequential reads of an exact number of bytes: a window of a [`ByteSource`] or an inflating
/// `.npz` member.
pub(crate) trait SeqRead {
    /// Fills `buf` with the next `buf.len()` bytes.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// Sequential reader over `pos .. end` of a source, buffered in blocks of `block` bytes so that
/// many small reads (ZIP central-directory records) cost few `read_at` calls.
pub(crate) struct SourceCursor<'a> {
    src: &'a dyn ByteSource,
    /// Absolute offset of the next byte handed out.
    pos: u64,
    /// Absolute end of the window (exclusive).
    end: u64,
    buf: Vec<u8>,
    /// Absolute offset of `buf[0]`.
    buf_start: u64,
    block: usize,
}

impl<'a> SourceCursor<'a> {
    /// A cursor over `start .. end` of `src` (the caller has checked `end ≤ src.len()`).
    pub(crate) fn new(src: &'a dyn ByteSource, start: u64, end: u64, block: usize) -> Self {
        SourceCursor {
            src,
            pos: start,
            end,
            buf: Vec::new(),
            buf_start: start,
            block: block.max(1),
        }
    }

    /// Absolute offset of the next byte.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// Bytes left in the window.
    pub(crate) fn remaining(&self) -> u64 {
        self.end.saturating_sub(self.pos)
    }
}

impl SeqRead for SourceCursor<'_> {
    fn read_exact(&mut self, out: &mut [u8]) -> Result<()> {
        let want = out.len() as u64;
        if want > self.remaining() {
            return Err(Error::Format {
                what: format!(
                    "needs {want} bytes at offset {}, only {} left before offset {}",
                    self.pos,
                    self.remaining(),
                    self.end
                ),
            });
        }
        let mut filled = 0usize;
        while filled < out.len() {
            let buf_end = self.buf_start + self.buf.len() as u64;
            if self.pos >= self.buf_start && self.pos < buf_end {
                let at = (self.pos - self.buf_start) as usize;
                let n = (self.buf.len() - at).min(out.len() - filled);
                out[filled..filled + n].copy_from_slice(&self.buf[at..at + n]);
                filled += n;
                self.pos += n as u64;
            } else {
                let rest = out.len() - filled;
                if rest >= self.block {
                    // Large read: straight from the source.
                    self.src.read_at(self.pos, &mut out[filled..])?;
                    self.pos += rest as u64;
                    filled = out.len();
                } else {
                    let n = (self.block as u64).min(self.end - self.pos) as usize;
                    self.buf.resize(n, 0);
                    self.src.read_at(self.pos, &mut self.buf)?;
                    self.buf_start = self.pos;
                }
            }
        }
        Ok(())
    }
}

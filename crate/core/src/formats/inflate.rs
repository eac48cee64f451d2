//! Streaming inflate of one deflated ZIP member read from a [`ByteSource`] in bounded chunks, with
//! CRC-32 and size checks.

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::source::SeqRead;
use super::{format_err, ByteSource};
use crate::error::Result;

/// CRC-32 (ISO-HDLC / ZIP: reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Crc32(u32);

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

impl Crc32 {
    pub(crate) fn new() -> Self {
        Crc32(0xFFFF_FFFF)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let mut c = self.0;
        for &b in bytes {
            c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }

    pub(crate) fn value(&self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

/// Inflates the raw deflate stream at `offset .. offset + compressed_len` of a source, which must
/// inflate to exactly `inflated_len` bytes. Output is handed out through [`SeqRead`]; never more
/// than `inflated_len` bytes are produced, and [`finish`](MemberInflater::finish) checks the end
/// of the stream, the size and the CRC-32.
pub(crate) struct MemberInflater<'a> {
    src: &'a dyn ByteSource,
    /// Member name for error messages (e.g. "member `a.npy`").
    what: String,
    next_in: u64,
    end_in: u64,
    compressed_len: u64,
    inbuf: Vec<u8>,
    in_pos: usize,
    state: Box<InflateState>,
    produced: u64,
    inflated_len: u64,
    crc: Crc32,
    ended: bool,
    chunk: usize,
}

impl<'a> MemberInflater<'a> {
    /// `chunk`: compressed bytes fetched per `read_at` (≥ 1). The caller has checked that the
    /// compressed range lies inside the source.
    pub(crate) fn new(
        src: &'a dyn ByteSource,
        what: String,
        offset: u64,
        compressed_len: u64,
        inflated_len: u64,
        chunk: usize,
    ) -> Self {
        MemberInflater {
            src,
            what,
            next_in: offset,
            end_in: offset.saturating_add(compressed_len),
            compressed_len,
            inbuf: Vec::new(),
            in_pos: 0,
            state: InflateState::new_boxed(DataFormat::Raw),
            produced: 0,
            inflated_len,
            crc: Crc32::new(),
            ended: false,
            chunk: chunk.max(1),
        }
    }

    /// Inflates into `out` until it is full or the stream ends; returns the bytes written.
    fn fill(&mut self, out: &mut [u8]) -> Result<usize> {
        let mut filled = 0usize;
        let mut stalls = 0u32;
        while filled < out.len() && !self.ended {
            if self.in_pos == self.inbuf.len() && self.next_in < self.end_in {
                let n = (self.end_in - self.next_in).min(self.chunk as u64) as usize;
                self.inbuf.resize(n, 0);
                self.src.read_at(self.next_in, &mut self.inbuf)?;
                self.next_in += n as u64;
                self.in_pos = 0;
            }
            let input = &self.inbuf[self.in_pos..];
            let input_exhausted = self.next_in == self.end_in;
            let res = inflate(&mut self.state, input, &mut out[filled..], MZFlush::None);
            self.in_pos += res.bytes_consumed;
            let written = &out[filled..filled + res.bytes_written];
            self.crc.update(written);
            filled += res.bytes_written;
            self.produced += res.bytes_written as u64;
            match res.status {
                Ok(MZStatus::StreamEnd) => self.ended = true,
                Ok(_) | Err(MZError::Buf) => {
                    if res.bytes_consumed == 0 && res.bytes_written == 0 {
                        if self.in_pos == self.inbuf.len() && input_exhausted {
                            return Err(format_err(format!(
                                "{}: the deflate stream is truncated: its {} compressed bytes end after {} of {} inflated bytes",
                                self.what,
                                self.compressed_len,
                                self.produced,
                                self.inflated_len
                            )));
                        }
                        stalls += 1;
                        if stalls > 2 {
                            return Err(format_err(format!(
                                "{}: the deflate stream makes no progress after {} inflated bytes",
                                self.what, self.produced
                            )));
                        }
                    } else {
                        stalls = 0;
                    }
                }
                Err(e) => {
                    return Err(format_err(format!(
                        "{}: corrupt deflate data after {} inflated bytes ({e:?})",
                        self.what, self.produced
                    )))
                }
            }
        }
        Ok(filled)
    }

    /// Checks that the stream ends exactly at `inflated_len` bytes and that the CRC-32 of all
    /// inflated bytes is `crc32`. Inflates (and discards, in a small buffer) whatever the caller
    /// did not read.
    pub(crate) fn finish(mut self, crc32: u32) -> Result<()> {
        let mut scratch = [0u8; 4096];
        while self.produced < self.inflated_len {
            let want = (self.inflated_len - self.produced).min(scratch.len() as u64) as usize;
            if self.fill(&mut scratch[..want])? < want {
                return Err(self.short_error());
            }
        }
        // The stream must end here: one more byte of room must stay empty.
        let mut probe = [0u8; 1];
        if !self.ended && self.fill(&mut probe)? > 0 {
            return Err(format_err(format!(
                "{} inflates to more than its declared {} bytes",
                self.what, self.inflated_len
            )));
        }
        if !self.ended {
            return Err(format_err(format!(
                "{}: the deflate stream does not end after its declared {} bytes",
                self.what, self.inflated_len
            )));
        }
        let got = self.crc.value();
        if got != crc32 {
            return Err(format_err(format!(
                "{}: CRC-32 mismatch: the inflated data has {got:08x}, the central directory says {crc32:08x}",
                self.what
            )));
        }
        Ok(())
    }

    fn short_error(&self) -> crate::error::Error {
        format_err(format!(
            "{}: the deflate stream ends after {} bytes, but the member is declared as {} bytes",
            self.what, self.produced, self.inflated_len
        ))
    }
}

impl SeqRead for MemberInflater<'_> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        if buf.len() as u64 > self.inflated_len - self.produced {
            return Err(format_err(format!(
                "{}: needs {} bytes at inflated offset {}, past its declared size of {} bytes",
                self.what,
                buf.len(),
                self.produced,
                self.inflated_len
            )));
        }
        if self.fill(buf)? < buf.len() {
            return Err(self.short_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        let mut c = Crc32::new();
        c.update(b"123456789");
        assert_eq!(c.value(), 0xCBF4_3926);
    }
}

//! numpy `.npz` archives: ZIP (with ZIP64) central directory + the `.npy` header of each member.
//!
//! ZIP layout used here (all integers little-endian, APPNOTE 6.3):
//! - End of central directory (EOCD, `PK\x05\x06`, 22 bytes + comment ≤ 65 535 bytes) — searched
//!   backwards in the last 65 557 bytes: disk numbers, entry counts, central directory size and
//!   offset. Values `0xFFFF`/`0xFFFFFFFF` mean "see ZIP64".
//! - ZIP64 EOCD locator (`PK\x06\x07`, 20 bytes, right before the EOCD) → offset of the ZIP64 EOCD
//!   record (`PK\x06\x06`) with 64-bit counts, size and offset. When the locator is present its
//!   values are used (Python's `zipfile` writes it with real values in the EOCD too).
//! - Central directory: one 46-byte record (`PK\x01\x02`) + name + extra + comment per member:
//!   flags, method, CRC-32, sizes, local header offset; a ZIP64 extra field (id 1) holds the
//!   64-bit uncompressed size, compressed size and local header offset, each present only when
//!   the 32-bit field is `0xFFFFFFFF`, in that order.
//! - Local file header (`PK\x03\x04`, 30 bytes + name + extra; numpy always adds a ZIP64 extra
//!   here) followed by the member data. Sizes are taken from the central directory.
//!
//! Validation (each an [`Error::Format`](crate::Error::Format) naming the member, offsets and
//! sizes): EOCD found; single-disk archive; ZIP64 records where the EOCD needs them, with
//! signatures; central directory inside the file, every record's signature and lengths inside it,
//! and as many records as declared; no encryption; method 0 (stored: sizes equal) or 8 (deflate);
//! local header signature, inside the file; member data inside the file; the member's `.npy`
//! header (see [`super::npy`]) and its data inside the member. Members not named `*.npy` are
//! skipped (listed in the index metadata); an archive with members but none `.npy` is an error
//! (a ZIP with a `data.pkl` never gets here: it is a PyTorch checkpoint, [`super::torch`]).

use super::inflate::MemberInflater;
use super::npy::{entry_from_header, read_npy_header};
use super::source::{check_range, read_vec, SeqRead, SourceCursor};
use super::{format_err, ByteSource, FileFormat, Storage, TensorEntry, TensorIndex};
use crate::error::Result;

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;
const EOCD_LEN: u64 = 22;
const MAX_COMMENT: u64 = 0xFFFF;
/// Bytes of central directory / headers fetched per `read_at`.
const BLOCK: usize = 64 * 1024;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Where the central directory is.
struct Directory {
    entries: u64,
    offset: u64,
    size: u64,
    /// Offset of the first end record (ZIP64 EOCD or EOCD): the directory must end before it.
    end_records: u64,
}

/// One central-directory record (shared with the PyTorch reader, [`super::torch`]).
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) flags: u16,
    pub(crate) method: u16,
    pub(crate) crc32: u32,
    pub(crate) compressed: u64,
    pub(crate) uncompressed: u64,
    pub(crate) local_offset: u64,
}

/// Reads the ZIP end records and every central-directory record, in directory order.
pub(crate) fn zip_members(src: &dyn ByteSource) -> Result<Vec<Member>> {
    let dir = find_directory(src)?;
    read_central_directory(src, &dir)
}

/// Absolute offset of `m`'s data: reads its local header (whose name/extra lengths differ from
/// the central directory's; its sizes may be deferred or ZIP64, so they are not used), checks the
/// signature, the encryption flag and that `m.compressed` bytes of data lie inside the source.
/// `what` names the member in errors.
pub(crate) fn member_data_start(src: &dyn ByteSource, m: &Member, what: &str) -> Result<u64> {
    if m.flags & 1 != 0 {
        return Err(format_err(format!("{what} is encrypted")));
    }
    let local = read_vec(
        src,
        m.local_offset,
        30,
        &format!("{what}: local file header"),
    )?;
    if u32_at(&local, 0) != LOCAL_SIG {
        return Err(format_err(format!(
            "{what}: no local file header signature PK\\x03\\x04 at offset {}",
            m.local_offset
        )));
    }
    let data_start =
        m.local_offset + 30 + u64::from(u16_at(&local, 26)) + u64::from(u16_at(&local, 28));
    check_range(src.len(), data_start, m.compressed, &format!("{what} data"))?;
    Ok(data_start)
}

/// Reads and validates an `.npz` archive's every `.npy` member header, given its central
/// directory ([`zip_members`]).
pub(crate) fn read_npz_members(src: &dyn ByteSource, members: Vec<Member>) -> Result<TensorIndex> {
    let mut tensors: Vec<(u64, TensorEntry)> = Vec::new();
    let mut skipped = Vec::new();
    for m in members {
        if m.name.ends_with('/') {
            continue; // a directory entry
        }
        let Some(stem) = m.name.strip_suffix(".npy") else {
            skipped.push(m.name);
            continue;
        };
        let what = format!("member `{}`", m.name);
        let data_start = member_data_start(src, &m, &what)?;
        let entry = match m.method {
            0 => {
                if m.compressed != m.uncompressed {
                    return Err(format_err(format!(
                        "{what} is stored (method 0) but its compressed size {} differs from its size {}",
                        m.compressed, m.uncompressed
                    )));
                }
                let mut r = SourceCursor::new(src, data_start, data_start + m.uncompressed, 4096);
                let h = read_npy_header(&mut r, m.uncompressed, &what)?;
                entry_from_header(stem.to_string(), h, data_start, m.uncompressed, Storage::Raw)
            }
            8 => {
                let mut r = MemberInflater::new(src, what.clone(), data_start, m.compressed, m.uncompressed, 4096);
                let h = read_npy_header(&mut r, m.uncompressed, &what)?;
                entry_from_header(
                    stem.to_string(),
                    h,
                    0,
                    m.uncompressed,
                    Storage::Deflated {
                        compressed_offset: data_start,
                        compressed_len: m.compressed,
                        inflated_len: m.uncompressed,
                        crc32: m.crc32,
                    },
                )
            }
            other => {
                return Err(format_err(format!(
                    "{what} uses ZIP compression method {other} ({}); only stored (0) and deflate (8) are supported",
                    method_name(other)
                )))
            }
        };
        tensors.push((m.local_offset, entry));
    }
    if tensors.is_empty() && !skipped.is_empty() {
        let shown: Vec<&str> = skipped.iter().take(5).map(String::as_str).collect();
        return Err(format_err(format!(
            "ZIP archive has {} members but no .npy member and no PyTorch data.pkl (first: {})",
            skipped.len(),
            shown.join(", ")
        )));
    }
    tensors.sort_by_key(|(offset, _)| *offset);
    Ok(TensorIndex {
        format: FileFormat::Npz,
        tensors: tensors.into_iter().map(|(_, e)| e).collect(),
        metadata: skipped
            .into_iter()
            .map(|n| ("skipped_member".to_string(), n))
            .collect(),
    })
}

fn method_name(m: u16) -> &'static str {
    match m {
        1..=7 => "a legacy method",
        9 => "deflate64",
        12 => "bzip2",
        14 => "LZMA",
        93 => "zstd",
        95 => "xz",
        99 => "AES encryption",
        _ => "unknown",
    }
}

/// Finds the EOCD (and the ZIP64 records when present) and returns where the central directory is.
fn find_directory(src: &dyn ByteSource) -> Result<Directory> {
    let total = src.len();
    if total < EOCD_LEN {
        return Err(format_err(format!(
            "ZIP archive is {total} bytes, shorter than the 22-byte end-of-central-directory record"
        )));
    }
    let tail_len = total.min(EOCD_LEN + MAX_COMMENT);
    let tail_start = total - tail_len;
    let tail = read_vec(src, tail_start, tail_len, "ZIP end records")?;
    let mut found = None;
    for p in (0..=tail.len() - EOCD_LEN as usize).rev() {
        if u32_at(&tail, p) == EOCD_SIG {
            let comment = u16_at(&tail, p + 20) as usize;
            if p + EOCD_LEN as usize + comment <= tail.len() {
                found = Some(p);
                break;
            }
        }
    }
    let p = found.ok_or_else(|| {
        format_err(format!(
            "no ZIP end-of-central-directory record (PK\\x05\\x06) in the last {tail_len} bytes: not a ZIP/.npz archive, or truncated"
        ))
    })?;
    let eocd_offset = tail_start + p as u64;
    let e = &tail[p..p + EOCD_LEN as usize];
    let (disk, cd_disk) = (u16_at(e, 4), u16_at(e, 6));
    let (n_disk, n_total) = (u16_at(e, 8), u16_at(e, 10));
    let (cd_size, cd_offset) = (u32_at(e, 12), u32_at(e, 16));

    let has_locator = eocd_offset >= 20 && {
        let mut sig = [0u8; 4];
        src.read_at(eocd_offset - 20, &mut sig)?;
        u32::from_le_bytes(sig) == ZIP64_LOCATOR_SIG
    };
    if has_locator {
        let loc = read_vec(
            src,
            eocd_offset - 20,
            20,
            "ZIP64 end-of-central-directory locator",
        )?;
        let record_offset = u64_at(&loc, 8);
        if u32_at(&loc, 4) != 0 || u32_at(&loc, 16) > 1 {
            return Err(format_err(
                "multi-disk ZIP archives are not supported (ZIP64 locator)",
            ));
        }
        if record_offset
            .checked_add(56)
            .is_none_or(|end| end > eocd_offset - 20)
        {
            return Err(format_err(format!(
                "ZIP64 end-of-central-directory record offset {record_offset} does not lie before its locator at offset {}",
                eocd_offset - 20
            )));
        }
        let r = read_vec(
            src,
            record_offset,
            56,
            "ZIP64 end-of-central-directory record",
        )?;
        if u32_at(&r, 0) != ZIP64_EOCD_SIG {
            return Err(format_err(format!(
                "no ZIP64 end-of-central-directory signature PK\\x06\\x06 at offset {record_offset} (named by the locator)"
            )));
        }
        if u32_at(&r, 16) != 0 || u32_at(&r, 20) != 0 || u64_at(&r, 24) != u64_at(&r, 32) {
            return Err(format_err(
                "multi-disk ZIP archives are not supported (ZIP64 record)",
            ));
        }
        return Ok(Directory {
            entries: u64_at(&r, 32),
            size: u64_at(&r, 40),
            offset: u64_at(&r, 48),
            end_records: record_offset,
        });
    }
    if cd_size == u32::MAX || cd_offset == u32::MAX || n_total == u16::MAX {
        return Err(format_err(format!(
            "the ZIP end-of-central-directory record at offset {eocd_offset} defers to ZIP64, but there is no ZIP64 locator before it"
        )));
    }
    if disk != 0 || cd_disk != 0 || n_disk != n_total {
        return Err(format_err("multi-disk ZIP archives are not supported"));
    }
    Ok(Directory {
        entries: u64::from(n_total),
        size: u64::from(cd_size),
        offset: u64::from(cd_offset),
        end_records: eocd_offset,
    })
}

/// Reads every central-directory record (bounded by the directory's byte size).
fn read_central_directory(src: &dyn ByteSource, dir: &Directory) -> Result<Vec<Member>> {
    if dir
        .offset
        .checked_add(dir.size)
        .is_none_or(|end| end > dir.end_records)
    {
        return Err(format_err(format!(
            "ZIP central directory ({} bytes at offset {}) does not end before the end records at offset {}",
            dir.size, dir.offset, dir.end_records
        )));
    }
    let mut r = SourceCursor::new(src, dir.offset, dir.offset + dir.size, BLOCK);
    let mut members = Vec::new();
    for i in 0..dir.entries {
        let at = r.position();
        if r.remaining() < 46 {
            return Err(format_err(format!(
                "ZIP central directory is truncated: record {} of {} at offset {at} needs 46 bytes, {} left",
                i + 1,
                dir.entries,
                r.remaining()
            )));
        }
        let mut h = [0u8; 46];
        r.read_exact(&mut h)?;
        if u32_at(&h, 0) != CENTRAL_SIG {
            return Err(format_err(format!(
                "ZIP central directory record {} of {}: no PK\\x01\\x02 signature at offset {at}",
                i + 1,
                dir.entries
            )));
        }
        let (name_len, extra_len, comment_len) = (u16_at(&h, 28), u16_at(&h, 30), u16_at(&h, 32));
        let var = u64::from(name_len) + u64::from(extra_len) + u64::from(comment_len);
        if var > r.remaining() {
            return Err(format_err(format!(
                "ZIP central directory record {} at offset {at}: its name/extra/comment ({var} bytes) run past the directory end",
                i + 1
            )));
        }
        let mut name = vec![0u8; name_len as usize];
        r.read_exact(&mut name)?;
        let mut extra = vec![0u8; extra_len as usize];
        r.read_exact(&mut extra)?;
        let mut comment = vec![0u8; comment_len as usize];
        r.read_exact(&mut comment)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let mut m = Member {
            flags: u16_at(&h, 8),
            method: u16_at(&h, 10),
            crc32: u32_at(&h, 16),
            compressed: u64::from(u32_at(&h, 20)),
            uncompressed: u64::from(u32_at(&h, 24)),
            local_offset: u64::from(u32_at(&h, 42)),
            name,
        };
        apply_zip64_extra(&mut m, &extra, u16_at(&h, 34))?;
        members.push(m);
    }
    Ok(members)
}

/// Replaces the 32-bit fields that are `0xFFFFFFFF` by the ZIP64 extra field's 64-bit values.
fn apply_zip64_extra(m: &mut Member, extra: &[u8], disk_start: u16) -> Result<()> {
    let need_u = m.uncompressed == u64::from(u32::MAX);
    let need_c = m.compressed == u64::from(u32::MAX);
    let need_o = m.local_offset == u64::from(u32::MAX);
    if disk_start != 0 && disk_start != u16::MAX {
        return Err(format_err(format!(
            "member `{}` starts on disk {disk_start}: multi-disk ZIP archives are not supported",
            m.name
        )));
    }
    if !(need_u || need_c || need_o) {
        return Ok(());
    }
    let mut at = 0usize;
    while at + 4 <= extra.len() {
        let (id, size) = (u16_at(extra, at), u16_at(extra, at + 2) as usize);
        let body = extra.get(at + 4..at + 4 + size).ok_or_else(|| {
            format_err(format!(
                "member `{}`: extra field {id:#06x} runs past its record",
                m.name
            ))
        })?;
        if id == 1 {
            let mut p = 0usize;
            let mut take = |want: bool, field: &str| -> Result<Option<u64>> {
                if !want {
                    return Ok(None);
                }
                if p + 8 > body.len() {
                    return Err(format_err(format!(
                        "member `{}`: ZIP64 extra field ({} bytes) lacks the 64-bit {field}",
                        m.name,
                        body.len()
                    )));
                }
                let v = u64_at(body, p);
                p += 8;
                Ok(Some(v))
            };
            let u = take(need_u, "uncompressed size")?;
            let c = take(need_c, "compressed size")?;
            let o = take(need_o, "local header offset")?;
            if let Some(u) = u {
                m.uncompressed = u;
            }
            if let Some(c) = c {
                m.compressed = c;
            }
            if let Some(o) = o {
                m.local_offset = o;
            }
            return Ok(());
        }
        at += 4 + size;
    }
    Err(format_err(format!(
        "member `{}` has 0xFFFFFFFF size/offset fields but no ZIP64 extra field",
        m.name
    )))
}

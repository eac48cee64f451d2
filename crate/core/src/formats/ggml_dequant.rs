//! ggml tensor types and their block-by-block dequantization to f32.
//!
//! A ggml tensor row of `ne0` elements is `ne0 / B` consecutive blocks of `S` bytes each
//! (`B` = [`GgmlType::block_size`], `S` = [`GgmlType::type_size`]); a block decodes to `B`
//! consecutive elements. Every multi-byte field is little-endian and decoded from the byte slice
//! explicitly (blocks are unaligned). `d`, `dmin`, `m` below are f16 unless stated; `lo(b)`/`hi(b)`
//! are the low/high nibble of byte `b`; element `e` of the block is `x[e]`.
//!
//! | type | B | S | decoding |
//! |---|---|---|---|
//! | Q4_0 | 32 | 18 | `d, qs[16]`: `x[j] = d·(lo(qs[j]) − 8)`, `x[j+16] = d·(hi(qs[j]) − 8)` |
//! | Q4_1 | 32 | 20 | `d, m, qs[16]`: as Q4_0 without −8, then `x = d·q + m` |
//! | Q5_0 | 32 | 22 | `d, qh: u32, qs[16]`: `q[j] = lo(qs[j]) | bit_j(qh)<<4`, `q[j+16] = hi(qs[j]) | bit_{j+16}(qh)<<4`, `x = d·(q − 16)` |
//! | Q5_1 | 32 | 24 | `d, m, qh, qs[16]`: as Q5_0 without −16, then `x = d·q + m` |
//! | Q8_0 | 32 | 34 | `d, qs: i8[32]`: `x = q·d` |
//! | Q2_K | 256 | 84 | `scales[16], qs[64], d, dmin`: `e = 128g + 32s + l`: `q = (qs[32g+l] >> 2s) & 3`, sub-block `e/16`: `x = (d·(sc&15))·q − dmin·(sc>>4)` |
//! | Q3_K | 256 | 110 | `hmask[32], qs[64], scales[12], d`: `q = ((qs[32g+l] >> 2s) & 3) − 4·(1 − bit_{4g+s}(hmask[l]))`, 16 six-bit scales `s_i` (low nibbles from bytes `i mod 8`, shifted by `4·(i div 8)`; 2 high bits from byte `8 + i mod 4`, shifted by `2·(i div 4)`), `x = (d·(s_{e/16} − 32))·q` |
//! | Q4_K | 256 | 144 | `d, dmin, scales[12], qs[128]`: 8 six-bit scales/mins (`j<4`: `sc = b[j]&63`, `mn = b[j+4]&63`; `j≥4`: `sc = (b[j+4]&15) | (b[j−4]>>6)<<4`, `mn = (b[j+4]>>4) | (b[j]>>6)<<4`), `e = 64c + 32h + l`: `q = (qs[32c+l] >> 4h) & 15`, `x = (d·sc_{e/32})·q − dmin·mn_{e/32}` |
//! | Q5_K | 256 | 176 | `d, dmin, scales[12], qh[32], qs[128]`: as Q4_K with `q |= bit_{e/32}(qh[e mod 32]) << 4` |
//! | Q6_K | 256 | 210 | `ql[128], qh[64], scales: i8[16], d`: `e = 128g + 64h + k` (k<64): low nibble `(ql[64g+k] >> 4h) & 15`; `e = 128g + 32s + l`: high bits `(qh[32g+l] >> 2s) & 3`; `x = (d·sc_{e/16})·(q − 32)` |
//! | Q8_K | 256 | 292 | `d: f32, qs: i8[256], bsums: i16[16]` (bsums unused): `x = d·q` |
//! | IQ4_NL | 32 | 18 | `d, qs[16]`: nibbles as Q4_0, `x = d·K[nibble]` |
//! | IQ4_XS | 256 | 136 | `d, scales_h: u16, scales_l[4], qs[128]`: 8 six-bit scales `s_i = (scales_l[i/2] >> 4(i mod 2)) & 15 | ((scales_h >> 2i) & 3) << 4`; `e = 32i + 16h + l`: `x = (d·(s_i − 32))·K[(qs[16i+l] >> 4h) & 15]` |
//!
//! `K` = (−127, −104, −83, −65, −49, −35, −22, −10, 1, 13, 25, 38, 53, 69, 89, 113).
//!
//! Every product is an f32 operation in the order written (no fused multiply-add), the order
//! gguf-py's `quants.py` uses, so the results match it bit for bit. Layouts: llama.cpp
//! `ggml-common.h`/`ggml-quants.c` and gguf-py `quants.py` 0.19.0 (code written anew here).

use std::fmt;

use half::{bf16, f16};

/// A ggml tensor type id as stored in a GGUF tensor info (`ggml_type` of `ggml.h`).
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q8_1,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    Q8_K,
    IQ2_XXS,
    IQ2_XS,
    IQ3_XXS,
    IQ1_S,
    IQ4_NL,
    IQ3_S,
    IQ2_S,
    IQ4_XS,
    I8,
    I16,
    I32,
    I64,
    F64,
    IQ1_M,
    BF16,
    TQ1_0,
    TQ2_0,
    MXFP4,
    /// An id this reader does not know: its block size is unknown, so its bytes cannot even be
    /// located; the tensor is listed but cannot be read.
    Unknown(u32),
}

/// (type, id, name, block size, block bytes) of every known type.
const TABLE: &[(GgmlType, u32, &str, u64, u64)] = &[
    (GgmlType::F32, 0, "F32", 1, 4),
    (GgmlType::F16, 1, "F16", 1, 2),
    (GgmlType::Q4_0, 2, "Q4_0", 32, 18),
    (GgmlType::Q4_1, 3, "Q4_1", 32, 20),
    (GgmlType::Q5_0, 6, "Q5_0", 32, 22),
    (GgmlType::Q5_1, 7, "Q5_1", 32, 24),
    (GgmlType::Q8_0, 8, "Q8_0", 32, 34),
    (GgmlType::Q8_1, 9, "Q8_1", 32, 36),
    (GgmlType::Q2_K, 10, "Q2_K", 256, 84),
    (GgmlType::Q3_K, 11, "Q3_K", 256, 110),
    (GgmlType::Q4_K, 12, "Q4_K", 256, 144),
    (GgmlType::Q5_K, 13, "Q5_K", 256, 176),
    (GgmlType::Q6_K, 14, "Q6_K", 256, 210),
    (GgmlType::Q8_K, 15, "Q8_K", 256, 292),
    (GgmlType::IQ2_XXS, 16, "IQ2_XXS", 256, 66),
    (GgmlType::IQ2_XS, 17, "IQ2_XS", 256, 74),
    (GgmlType::IQ3_XXS, 18, "IQ3_XXS", 256, 98),
    (GgmlType::IQ1_S, 19, "IQ1_S", 256, 50),
    (GgmlType::IQ4_NL, 20, "IQ4_NL", 32, 18),
    (GgmlType::IQ3_S, 21, "IQ3_S", 256, 110),
    (GgmlType::IQ2_S, 22, "IQ2_S", 256, 82),
    (GgmlType::IQ4_XS, 23, "IQ4_XS", 256, 136),
    (GgmlType::I8, 24, "I8", 1, 1),
    (GgmlType::I16, 25, "I16", 1, 2),
    (GgmlType::I32, 26, "I32", 1, 4),
    (GgmlType::I64, 27, "I64", 1, 8),
    (GgmlType::F64, 28, "F64", 1, 8),
    (GgmlType::IQ1_M, 29, "IQ1_M", 256, 56),
    (GgmlType::BF16, 30, "BF16", 1, 2),
    (GgmlType::TQ1_0, 34, "TQ1_0", 256, 54),
    (GgmlType::TQ2_0, 35, "TQ2_0", 256, 66),
    (GgmlType::MXFP4, 39, "MXFP4", 32, 17),
];

impl GgmlType {
    /// The type with ggml id `id` ([`GgmlType::Unknown`] if none).
    pub fn from_id(id: u32) -> GgmlType {
        TABLE
            .iter()
            .find(|row| row.1 == id)
            .map_or(GgmlType::Unknown(id), |row| row.0)
    }

    fn row(self) -> Option<&'static (GgmlType, u32, &'static str, u64, u64)> {
        TABLE.iter().find(|row| row.0 == self)
    }

    /// The ggml id.
    pub fn id(self) -> u32 {
        match self {
            GgmlType::Unknown(id) => id,
            t => t.row().map_or(u32::MAX, |r| r.1),
        }
    }

    /// ggml's name: `"Q4_K"`, `"F32"`, … (`"ggml type 99"` for an unknown id).
    pub fn name(self) -> &'static str {
        self.row().map_or("unknown ggml type", |r| r.2)
    }

    /// Elements per block (1 for plain types, 32 or 256 for quantized ones); `None` if unknown.
    pub fn block_size(self) -> Option<u64> {
        self.row().map(|r| r.3)
    }

    /// Bytes per block; `None` if unknown.
    pub fn type_size(self) -> Option<u64> {
        self.row().map(|r| r.4)
    }

    /// Whether [`dequantize`] decodes this type.
    pub fn can_dequantize(self) -> bool {
        use GgmlType::*;
        matches!(
            self,
            F32 | F16
                | BF16
                | Q4_0
                | Q4_1
                | Q5_0
                | Q5_1
                | Q8_0
                | Q2_K
                | Q3_K
                | Q4_K
                | Q5_K
                | Q6_K
                | Q8_K
                | IQ4_NL
                | IQ4_XS
        )
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GgmlType::Unknown(id) => write!(f, "ggml type {id}"),
            t => f.write_str(t.name()),
        }
    }
}

/// The IQ4_NL / IQ4_XS non-linear code book.
const K_NL: [i8; 16] = [
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
];

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[i], b[i + 1]])).to_f32()
}

/// Dequantizes whole blocks: `bytes.len()` must be `k · type_size` and `out.len()` `k ·
/// block_size` for the same `k` (the callers in [`super::gguf`] guarantee it). Returns `false`
/// (and leaves `out` untouched) for a type that [`GgmlType::can_dequantize`] rejects or for
/// lengths that do not match.
pub fn dequantize(ty: GgmlType, bytes: &[u8], out: &mut [f32]) -> bool {
    let (Some(bs), Some(ts)) = (ty.block_size(), ty.type_size()) else {
        return false;
    };
    let (bs, ts) = (bs as usize, ts as usize);
    if !ty.can_dequantize() || !bytes.len().is_multiple_of(ts) || out.len() != bytes.len() / ts * bs
    {
        return false;
    }
    let blocks = bytes.chunks_exact(ts).zip(out.chunks_exact_mut(bs));
    match ty {
        GgmlType::F32 => {
            for (b, x) in blocks {
                x[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
        GgmlType::F16 => {
            for (b, x) in blocks {
                x[0] = f16_at(b, 0);
            }
        }
        GgmlType::BF16 => {
            for (b, x) in blocks {
                x[0] = bf16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32();
            }
        }
        GgmlType::Q4_0 => blocks.for_each(|(b, x)| q4_0(b, x)),
        GgmlType::Q4_1 => blocks.for_each(|(b, x)| q4_1(b, x)),
        GgmlType::Q5_0 => blocks.for_each(|(b, x)| q5_0(b, x)),
        GgmlType::Q5_1 => blocks.for_each(|(b, x)| q5_1(b, x)),
        GgmlType::Q8_0 => blocks.for_each(|(b, x)| q8_0(b, x)),
        GgmlType::Q2_K => blocks.for_each(|(b, x)| q2_k(b, x)),
        GgmlType::Q3_K => blocks.for_each(|(b, x)| q3_k(b, x)),
        GgmlType::Q4_K => blocks.for_each(|(b, x)| q4_k(b, x, false)),
        GgmlType::Q5_K => blocks.for_each(|(b, x)| q4_k(b, x, true)),
        GgmlType::Q6_K => blocks.for_each(|(b, x)| q6_k(b, x)),
        GgmlType::Q8_K => blocks.for_each(|(b, x)| q8_k(b, x)),
        GgmlType::IQ4_NL => blocks.for_each(|(b, x)| iq4_nl(b, x)),
        GgmlType::IQ4_XS => blocks.for_each(|(b, x)| iq4_xs(b, x)),
        _ => return false,
    }
    true
}

fn q4_0(b: &[u8], x: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..16 {
        let q = b[2 + j];
        x[j] = d * ((q & 15) as i32 - 8) as f32;
        x[j + 16] = d * ((q >> 4) as i32 - 8) as f32;
    }
}

fn q4_1(b: &[u8], x: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    for j in 0..16 {
        let q = b[4 + j];
        x[j] = d * (q & 15) as f32 + m;
        x[j + 16] = d * (q >> 4) as f32 + m;
    }
}

fn q5_0(b: &[u8], x: &mut [f32]) {
    let d = f16_at(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    for j in 0..16 {
        let q = b[6 + j];
        let lo = (q & 15) as u32 | ((qh >> j) & 1) << 4;
        let hi = (q >> 4) as u32 | ((qh >> (j + 16)) & 1) << 4;
        x[j] = d * (lo as i32 - 16) as f32;
        x[j + 16] = d * (hi as i32 - 16) as f32;
    }
}

fn q5_1(b: &[u8], x: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    for j in 0..16 {
        let q = b[8 + j];
        let lo = (q & 15) as u32 | ((qh >> j) & 1) << 4;
        let hi = (q >> 4) as u32 | ((qh >> (j + 16)) & 1) << 4;
        x[j] = d * lo as f32 + m;
        x[j + 16] = d * hi as f32 + m;
    }
}

fn q8_0(b: &[u8], x: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..32 {
        x[j] = (b[2 + j] as i8) as f32 * d;
    }
}

fn q2_k(b: &[u8], x: &mut [f32]) {
    let (scales, qs) = (&b[0..16], &b[16..80]);
    let (d, dmin) = (f16_at(b, 80), f16_at(b, 82));
    for g in 0..2 {
        for s in 0..4 {
            for l in 0..32 {
                let e = 128 * g + 32 * s + l;
                let sc = scales[e / 16];
                let dl = d * (sc & 15) as f32;
                let ml = dmin * (sc >> 4) as f32;
                let q = (qs[32 * g + l] >> (2 * s)) & 3;
                x[e] = dl * q as f32 - ml;
            }
        }
    }
}

fn q3_k(b: &[u8], x: &mut [f32]) {
    let (hmask, qs, sc) = (&b[0..32], &b[32..96], &b[96..108]);
    let d = f16_at(b, 108);
    let mut dl = [0f32; 16];
    for (i, dl) in dl.iter_mut().enumerate() {
        let low = (sc[i % 8] >> (4 * (i / 8))) & 15;
        let high = (sc[8 + i % 4] >> (2 * (i / 4))) & 3;
        let s = (low | high << 4) as i32 - 32;
        *dl = d * s as f32;
    }
    for g in 0..2 {
        for s in 0..4 {
            for l in 0..32 {
                let e = 128 * g + 32 * s + l;
                let low = ((qs[32 * g + l] >> (2 * s)) & 3) as i32;
                let hbit = ((hmask[l] >> (4 * g + s)) & 1) as i32;
                let q = low - 4 * (1 - hbit);
                x[e] = dl[e / 16] * q as f32;
            }
        }
    }
}

/// The 8 six-bit scales and mins of a Q4_K/Q5_K block.
fn k_scale_min(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    let (mut sc, mut mn) = ([0u8; 8], [0u8; 8]);
    for j in 0..4 {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (s[j + 8] & 15) | ((s[j] >> 2) & 0x30);
        mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 2) & 0x30);
    }
    (sc, mn)
}

/// Q4_K, or Q5_K when `five` (then 32 `qh` bytes sit between the scales and `qs`).
fn q4_k(b: &[u8], x: &mut [f32], five: bool) {
    let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
    let (sc, mn) = k_scale_min(&b[4..16]);
    let (qh, qs) = if five {
        (&b[16..48], &b[48..176])
    } else {
        (&b[0..0], &b[16..144])
    };
    for c in 0..4 {
        for h in 0..2 {
            let sub = 2 * c + h;
            let dl = d * sc[sub] as f32;
            let ml = dmin * mn[sub] as f32;
            for l in 0..32 {
                let e = 64 * c + 32 * h + l;
                let mut q = (qs[32 * c + l] >> (4 * h)) & 15;
                if five {
                    q |= ((qh[l] >> sub) & 1) << 4;
                }
                x[e] = dl * q as f32 - ml;
            }
        }
    }
}

fn q6_k(b: &[u8], x: &mut [f32]) {
    let (ql, qh, sc) = (&b[0..128], &b[128..192], &b[192..208]);
    let d = f16_at(b, 208);
    for g in 0..2 {
        for s in 0..4 {
            for l in 0..32 {
                let e = 128 * g + 32 * s + l;
                let k = e % 64;
                let h = (e / 64) % 2;
                let low = (ql[64 * g + k] >> (4 * h)) & 15;
                let high = (qh[32 * g + l] >> (2 * s)) & 3;
                let q = (low | high << 4) as i32 - 32;
                let dl = d * (sc[e / 16] as i8) as f32;
                x[e] = dl * q as f32;
            }
        }
    }
}

fn q8_k(b: &[u8], x: &mut [f32]) {
    let d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    for j in 0..256 {
        x[j] = d * (b[4 + j] as i8) as f32;
    }
}

fn iq4_nl(b: &[u8], x: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..16 {
        let q = b[2 + j];
        x[j] = d * K_NL[(q & 15) as usize] as f32;
        x[j + 16] = d * K_NL[(q >> 4) as usize] as f32;
    }
}

fn iq4_xs(b: &[u8], x: &mut [f32]) {
    let d = f16_at(b, 0);
    let scales_h = u16::from_le_bytes([b[2], b[3]]);
    let (scales_l, qs) = (&b[4..8], &b[8..136]);
    for i in 0..8 {
        let low = (scales_l[i / 2] >> (4 * (i % 2))) & 15;
        let high = ((scales_h >> (2 * i)) & 3) as u8;
        let dl = d * ((low | high << 4) as i32 - 32) as f32;
        for h in 0..2 {
            for l in 0..16 {
                let q = (qs[16 * i + l] >> (4 * h)) & 15;
                x[32 * i + 16 * h + l] = dl * K_NL[q as usize] as f32;
            }
        }
    }
}

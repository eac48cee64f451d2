//! llama.cpp's weight quantizers (GGUF tensor types) as compression methods: each layer is
//! quantized and dequantized with the reference (`quantize_row_*_ref`, no importance matrix)
//! algorithm of ggml-quants.c, restated here in our words, in f32 as llama.cpp computes it.
//!
//! Block layouts (bytes per block / weights per block → bits per weight):
//!
//! | type | block | bytes | bpw | layout |
//! |---|---|---|---|---|
//! | `Q8_0` | 32 | 34 | 8.5 | f16 `d`, 32 × i8 |
//! | `Q6_K` | 256 | 210 | 6.5625 | 128 B low nibbles, 64 B high 2 bits, 16 × i8 scales, f16 `d` |
//! | `Q5_K` | 256 | 176 | 5.5 | f16 `d`, f16 `dmin`, 12 B 6-bit scales/mins, 32 B high bits, 128 B nibbles |
//! | `Q5_1` | 32 | 24 | 6.0 | f16 `d`, f16 `m`, u32 high bits, 16 B nibbles |
//! | `Q5_0` | 32 | 22 | 5.5 | f16 `d`, u32 high bits, 16 B nibbles |
//! | `Q4_1` | 32 | 20 | 5.0 | f16 `d`, f16 `m`, 16 B nibbles |
//! | `Q4_K` | 256 | 144 | 4.5 | f16 `d`, f16 `dmin`, 12 B 6-bit scales/mins, 128 B nibbles |
//! | `Q4_0` | 32 | 18 | 4.5 | f16 `d`, 16 B nibbles |
//! | `IQ4_NL` | 32 | 18 | 4.5 | f16 `d`, 16 B nibbles indexing a fixed non-linear table |
//!
//! Rows are quantized separately (a row of `M` entries must be a multiple of the block size;
//! otherwise llama-quantize falls back to another type, [`GgmlType::fallback`]). Algorithms
//! (`nearest_int` rounds half to even, like ggml's float trick; f16 rounding is to nearest even):
//! - **Q8_0**: `amax = max|x|`, `d = amax/127`, `q = round(x/d)` (half away from zero, `roundf`),
//!   `d` stored as f16; `x̂ = q·d`.
//! - **Q4_0 / Q5_0**: `max` = the entry of largest magnitude *with its sign*, `d = max/−8`
//!   (`/−16`), `q = min(15, trunc(x/d + 8.5))` (`31`, `16.5`); `x̂ = (q − 8)·d` (`q − 16`).
//! - **Q4_1 / Q5_1**: `d = (max − min)/15` (`/31`), `q = min(15, trunc((x − min)/d + 0.5))`
//!   (`31`), `x̂ = q·d + min` (`d`, `min` stored as f16).
//! - **Q4_K / Q5_K**: 8 sub-blocks of 32; each gets a scale and a min by `make_qkx2_quants`
//!   (weights `w_i = √(mean x²) + |x_i|`; `nmax` = 15 / 31; a grid of 21 / 16 trial inverse
//!   scales `(rmin + 0.1·is + nmax)/(max − min)` with `rmin = −1` / `−0.5`, each followed by the
//!   weighted least-squares scale and min, `min ≤ 0`, keeping the lowest weighted squared
//!   error). The 8 scales and 8 mins are quantized to 6 bits against the super-block's
//!   `d = max scale/63` and `dmin = max min/63` (f16); then every weight is re-quantized with
//!   its dequantized scale: `q = clamp(nearest_int((x + dmin·m)/(d·sc)), 0, nmax)`;
//!   `x̂ = d·sc·q − dmin·m`.
//! - **Q6_K**: 16 sub-blocks of 16; each scale by `make_qx_quants(nmax = 32, rmse_type = 1)`
//!   (signed, `q ∈ [−32, 31]`, weights `x²`, trial inverse scales `−(32 + 0.1·is)/max` for
//!   `is = −9..=9`, least-squares scale); the scales are quantized to i8 with
//!   `iscale = −128/max_scale` (`max_scale` = the scale of largest magnitude), `d = 1/iscale`
//!   (f16); weights re-quantized: `q = clamp(nearest_int(x/(d·sc)), −32, 31)`;
//!   `x̂ = d·sc·q`.
//! - **IQ4_NL**: blocks of 32 indexing `[−127, −104, −83, −65, −49, −35, −22, −10, 1, 13, 25,
//!   38, 53, 69, 89, 113]`: start from `d = max/−(−127)`, pick each nearest table value, set the
//!   weighted (`w = x²`) least-squares `d`; try the inverse scales `(t − 127)/max` for
//!   `t = −7..=7` and keep the best; codes are recomputed with the final f32 `d`, stored as f16;
//!   `x̂ = d·table[q]`.
//!
//! Goldens: `tests/goldens/compress/ggml_*.json` from gguf-py (`gguf.quants`, pinned in
//! `requirements.txt`): its quantizers for Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (bytes and values), and its
//! dequantizers for Q4_K, Q5_K, Q6_K, IQ4_NL (random valid blocks decoded both ways).

use super::{check_matrix, rel_error, TradeoffPoint};
use crate::{Error, Result};
use half::f16;
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// A GGUF tensor type with a reference quantizer here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum GgmlType {
    #[serde(rename = "Q4_0")]
    Q4_0,
    #[serde(rename = "IQ4_NL")]
    Iq4Nl,
    #[serde(rename = "Q4_K")]
    Q4K,
    #[serde(rename = "Q4_1")]
    Q4_1,
    #[serde(rename = "Q5_0")]
    Q5_0,
    #[serde(rename = "Q5_K")]
    Q5K,
    #[serde(rename = "Q5_1")]
    Q5_1,
    #[serde(rename = "Q6_K")]
    Q6K,
    #[serde(rename = "Q8_0")]
    Q8_0,
}

impl GgmlType {
    /// Every type, smallest first.
    pub const ALL: [GgmlType; 9] = [
        GgmlType::Q4_0,
        GgmlType::Iq4Nl,
        GgmlType::Q4K,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5K,
        GgmlType::Q5_1,
        GgmlType::Q6K,
        GgmlType::Q8_0,
    ];

    /// GGUF's name (`Q4_K`, `IQ4_NL`, …).
    pub fn name(self) -> &'static str {
        match self {
            GgmlType::Q4_0 => "Q4_0",
            GgmlType::Iq4Nl => "IQ4_NL",
            GgmlType::Q4K => "Q4_K",
            GgmlType::Q4_1 => "Q4_1",
            GgmlType::Q5_0 => "Q5_0",
            GgmlType::Q5K => "Q5_K",
            GgmlType::Q5_1 => "Q5_1",
            GgmlType::Q6K => "Q6_K",
            GgmlType::Q8_0 => "Q8_0",
        }
    }

    /// Parses [`GgmlType::name`] (case-insensitive).
    pub fn parse(s: &str) -> Option<GgmlType> {
        GgmlType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
    }

    /// Weights per block.
    pub fn block_size(self) -> usize {
        match self {
            GgmlType::Q4K | GgmlType::Q5K | GgmlType::Q6K => 256,
            _ => 32,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            GgmlType::Q4_0 | GgmlType::Iq4Nl => 18,
            GgmlType::Q4_1 => 20,
            GgmlType::Q5_0 => 22,
            GgmlType::Q5_1 => 24,
            GgmlType::Q8_0 => 34,
            GgmlType::Q4K => 144,
            GgmlType::Q5K => 176,
            GgmlType::Q6K => 210,
        }
    }

    /// `8·block_bytes/block_size`.
    pub fn bits_per_weight(self) -> f64 {
        8.0 * self.block_bytes() as f64 / self.block_size() as f64
    }

    /// The type llama-quantize uses when a row is not a multiple of the block size
    /// (`Q4_K → Q5_0`, `Q5_K → Q5_1`, `Q6_K → Q8_0`); 32-blocks have none.
    pub fn fallback(self) -> Option<GgmlType> {
        match self {
            GgmlType::Q4K => Some(GgmlType::Q5_0),
            GgmlType::Q5K => Some(GgmlType::Q5_1),
            GgmlType::Q6K => Some(GgmlType::Q8_0),
            _ => None,
        }
    }

    /// `self`, or its fallback when rows of `cols` entries do not fit its blocks.
    pub fn effective(self, cols: usize) -> Option<GgmlType> {
        if cols.is_multiple_of(self.block_size()) {
            Some(self)
        } else {
            self.fallback()
                .filter(|f| cols.is_multiple_of(f.block_size()))
        }
    }
}

const GROUP_MAX_EPS: f32 = 1e-15;

/// IQ4_NL's table.
pub const IQ4NL_VALUES: [i8; 16] = [
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
];

/// ggml's `nearest_int`: round half to even (|x| < 2²²).
fn nearest_int(x: f32) -> i32 {
    x.round_ties_even() as i32
}

fn h(x: f32) -> [u8; 2] {
    f16::from_f32(x).to_le_bytes()
}

fn hf(b: &[u8]) -> f32 {
    f16::from_le_bytes([b[0], b[1]]).to_f32()
}

fn quantize_q8_0(x: &[f32], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend(h(d));
    out.extend(x.iter().map(|&v| (v * id).round() as i8 as u8));
}

/// The entry of largest magnitude, with its sign (the first one on ties).
fn signed_max(x: &[f32]) -> f32 {
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    max
}

fn quantize_q4_0(x: &[f32], out: &mut Vec<u8>) {
    let d = signed_max(x) / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend(h(d));
    let q = |v: f32| ((v * id + 8.5) as i8).min(15) as u8;
    out.extend((0..16).map(|j| q(x[j]) | (q(x[j + 16]) << 4)));
}

fn quantize_q5_0(x: &[f32], out: &mut Vec<u8>) {
    let d = signed_max(x) / -16.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let q: Vec<u8> = x
        .iter()
        .map(|&v| ((v * id + 16.5) as i8).min(31) as u8)
        .collect();
    out.extend(h(d));
    let qh: u32 = (0..32).fold(0, |acc, j| acc | (((q[j] >> 4) as u32 & 1) << j));
    out.extend(qh.to_le_bytes());
    out.extend((0..16).map(|j| (q[j] & 15) | ((q[j + 16] & 15) << 4)));
}

fn quantize_q4_1(x: &[f32], out: &mut Vec<u8>) {
    let min = x.iter().copied().fold(f32::INFINITY, f32::min);
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let d = (max - min) / 15.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let q = |v: f32| (((v - min) * id + 0.5) as i8).min(15) as u8;
    out.extend(h(d));
    out.extend(h(min));
    out.extend((0..16).map(|j| q(x[j]) | (q(x[j + 16]) << 4)));
}

fn quantize_q5_1(x: &[f32], out: &mut Vec<u8>) {
    let min = x.iter().copied().fold(f32::INFINITY, f32::min);
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let d = (max - min) / 31.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let q: Vec<u8> = x
        .iter()
        .map(|&v| (((v - min) * id + 0.5) as i8).min(31) as u8)
        .collect();
    out.extend(h(d));
    out.extend(h(min));
    let qh: u32 = (0..32).fold(0, |acc, j| acc | (((q[j] >> 4) as u32 & 1) << j));
    out.extend(qh.to_le_bytes());
    out.extend((0..16).map(|j| (q[j] & 15) | ((q[j + 16] & 15) << 4)));
}

/// `make_qkx2_quants`: scale and (positive) `-min` of one sub-block, codes in `l`.
#[allow(clippy::too_many_arguments)]
fn make_qkx2_quants(
    nmax: i32,
    x: &[f32],
    w: &[f32],
    l: &mut [u8],
    rmin: f32,
    rdelta: f32,
    nstep: i32,
) -> (f32, f32) {
    let mut min = x[0];
    let mut max = x[0];
    let (mut sum_w, mut sum_x) = (w[0], w[0] * x[0]);
    for i in 1..x.len() {
        min = min.min(x[i]);
        max = max.max(x[i]);
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if min > 0.0 {
        min = 0.0;
    }
    if max == min {
        l.iter_mut().for_each(|v| *v = 0);
        return (0.0, -min);
    }
    let mut iscale = nmax as f32 / (max - min);
    let mut scale = 1.0 / iscale;
    let mut best_error = 0.0f32;
    for i in 0..x.len() {
        let q = nearest_int(iscale * (x[i] - min)).clamp(0, nmax);
        l[i] = q as u8;
        let diff = scale * q as f32 + min - x[i];
        best_error += w[i] * diff * diff;
    }
    let mut laux = vec![0u8; x.len()];
    for is in 0..=nstep {
        iscale = (rmin + rdelta * is as f32 + nmax as f32) / (max - min);
        let (mut sum_l, mut sum_l2, mut sum_xl) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..x.len() {
            let q = nearest_int(iscale * (x[i] - min)).clamp(0, nmax);
            laux[i] = q as u8;
            let qf = q as f32;
            sum_l += w[i] * qf;
            sum_l2 += w[i] * qf * qf;
            sum_xl += w[i] * qf * x[i];
        }
        let dd = sum_w * sum_l2 - sum_l * sum_l;
        if dd > 0.0 {
            let mut this_scale = (sum_w * sum_xl - sum_x * sum_l) / dd;
            let mut this_min = (sum_l2 * sum_x - sum_l * sum_xl) / dd;
            if this_min > 0.0 {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            let mut cur = 0.0f32;
            for i in 0..x.len() {
                let diff = this_scale * laux[i] as f32 + this_min - x[i];
                cur += w[i] * diff * diff;
            }
            if cur < best_error {
                l.copy_from_slice(&laux);
                best_error = cur;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    (scale, -min)
}

/// Packs 8 six-bit scales and mins into 12 bytes (`get_scale_min_k4`'s inverse).
fn pack_scales_k4(ls: &[u8; 8], lm: &[u8; 8]) -> [u8; 12] {
    let mut s = [0u8; 12];
    for j in 0..8 {
        if j < 4 {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (ls[j] & 0xF) | ((lm[j] & 0xF) << 4);
            s[j - 4] |= (ls[j] >> 4) << 6;
            s[j] |= (lm[j] >> 4) << 6;
        }
    }
    s
}

fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// Q4_K (`nmax = 15`) or Q5_K (`nmax = 31`) of one 256-block.
fn quantize_qk(x: &[f32], nmax: i32, out: &mut Vec<u8>) {
    let mut l = [0u8; 256];
    let mut scales = [0f32; 8];
    let mut mins = [0f32; 8];
    let (mut max_scale, mut max_min) = (0.0f32, 0.0f32);
    let (rmin, nstep) = if nmax == 15 { (-1.0, 20) } else { (-0.5, 15) };
    for j in 0..8 {
        let xs = &x[32 * j..32 * j + 32];
        let sum_x2: f32 = xs.iter().map(|v| v * v).sum();
        let av_x = (sum_x2 / 32.0).sqrt();
        let w: Vec<f32> = xs.iter().map(|v| av_x + v.abs()).collect();
        let (sc, mn) =
            make_qkx2_quants(nmax, xs, &w, &mut l[32 * j..32 * j + 32], rmin, 0.1, nstep);
        scales[j] = sc;
        mins[j] = mn;
        max_scale = max_scale.max(sc);
        max_min = max_min.max(mn);
    }
    let inv_scale = if max_scale > 0.0 {
        63.0 / max_scale
    } else {
        0.0
    };
    let inv_min = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    let mut ls = [0u8; 8];
    let mut lm = [0u8; 8];
    for j in 0..8 {
        ls[j] = nearest_int(inv_scale * scales[j]).min(63) as u8;
        lm[j] = nearest_int(inv_min * mins[j]).min(63) as u8;
    }
    let packed = pack_scales_k4(&ls, &lm);
    let dh = h(max_scale / 63.0);
    let mh = h(max_min / 63.0);
    let (d0, m0) = (hf(&dh), hf(&mh));
    for j in 0..8 {
        let (sc, m) = scale_min_k4(j, &packed);
        let d = d0 * sc as f32;
        if d == 0.0 {
            continue;
        }
        let dm = m0 * m as f32;
        for ii in 0..32 {
            l[32 * j + ii] = nearest_int((x[32 * j + ii] + dm) / d).clamp(0, nmax) as u8;
        }
    }
    out.extend(dh);
    out.extend(mh);
    out.extend(packed);
    if nmax == 31 {
        let mut qh = [0u8; 32];
        let mut ql = [0u8; 128];
        for (c, n) in (0..256).step_by(64).enumerate() {
            let (m1, m2) = (1u8 << (2 * c), 2u8 << (2 * c));
            for j in 0..32 {
                let mut l1 = l[n + j];
                if l1 > 15 {
                    l1 -= 16;
                    qh[j] |= m1;
                }
                let mut l2 = l[n + j + 32];
                if l2 > 15 {
                    l2 -= 16;
                    qh[j] |= m2;
                }
                ql[c * 32 + j] = l1 | (l2 << 4);
            }
        }
        out.extend(qh);
        out.extend(ql);
    } else {
        for n in (0..256).step_by(64) {
            out.extend((0..32).map(|j| l[n + j] | (l[n + j + 32] << 4)));
        }
    }
}

/// `make_qx_quants(n, nmax, x, L, rmse_type = 1, no weights)`: signed codes `L ∈ [0, 2·nmax)`.
fn make_qx_quants(nmax: i32, x: &[f32], l: &mut [u8]) -> f32 {
    let (mut max, mut amax) = (0.0f32, 0.0f32);
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    if amax < GROUP_MAX_EPS {
        l.iter_mut().for_each(|v| *v = 0);
        return 0.0;
    }
    let pass = |iscale: f32| {
        let (mut sumlx, mut suml2) = (0.0f32, 0.0f32);
        for &v in x {
            let q = nearest_int(iscale * v).clamp(-nmax, nmax - 1) as f32;
            let w = v * v;
            sumlx += w * v * q;
            suml2 += w * q * q;
        }
        (sumlx, suml2)
    };
    let fill = |iscale: f32, l: &mut [u8]| {
        for (i, &v) in x.iter().enumerate() {
            l[i] = (nearest_int(iscale * v).clamp(-nmax, nmax - 1) + nmax) as u8;
        }
    };
    let iscale = -(nmax as f32) / max;
    let (sumlx, suml2) = pass(iscale);
    fill(iscale, l);
    let mut scale = if suml2 != 0.0 { sumlx / suml2 } else { 0.0 };
    let mut best = scale * sumlx;
    for is in -9..=9 {
        if is == 0 {
            continue;
        }
        let iscale = -(nmax as f32 + 0.1 * is as f32) / max;
        let (sumlx, suml2) = pass(iscale);
        if suml2 > 0.0 && sumlx * sumlx > best * suml2 {
            fill(iscale, l);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    scale
}

fn quantize_q6_k(x: &[f32], out: &mut Vec<u8>) {
    let mut l = [0u8; 256];
    let mut scales = [0f32; 16];
    let (mut max_scale, mut max_abs) = (0.0f32, 0.0f32);
    for ib in 0..16 {
        let s = make_qx_quants(32, &x[16 * ib..16 * ib + 16], &mut l[16 * ib..16 * ib + 16]);
        scales[ib] = s;
        if s.abs() > max_abs {
            max_abs = s.abs();
            max_scale = s;
        }
    }
    if max_abs < GROUP_MAX_EPS {
        out.extend(std::iter::repeat_n(0u8, 210));
        return;
    }
    let iscale = -128.0 / max_scale;
    let dh = h(1.0 / iscale);
    let d0 = hf(&dh);
    let mut sc = [0i8; 16];
    for ib in 0..16 {
        sc[ib] = nearest_int(iscale * scales[ib]).min(127) as i8;
    }
    for j in 0..16 {
        let d = d0 * sc[j] as f32;
        if d == 0.0 {
            continue;
        }
        for ii in 0..16 {
            l[16 * j + ii] = (nearest_int(x[16 * j + ii] / d).clamp(-32, 31) + 32) as u8;
        }
    }
    let mut ql = [0u8; 128];
    let mut qh = [0u8; 64];
    for (c, j) in (0..256).step_by(128).enumerate() {
        for i in 0..32 {
            let q1 = l[j + i] & 0xF;
            let q2 = l[j + i + 32] & 0xF;
            let q3 = l[j + i + 64] & 0xF;
            let q4 = l[j + i + 96] & 0xF;
            ql[64 * c + i] = q1 | (q3 << 4);
            ql[64 * c + i + 32] = q2 | (q4 << 4);
            qh[32 * c + i] = (l[j + i] >> 4)
                | ((l[j + i + 32] >> 4) << 2)
                | ((l[j + i + 64] >> 4) << 4)
                | ((l[j + i + 96] >> 4) << 6);
        }
    }
    out.extend(ql);
    out.extend(qh);
    out.extend(sc.iter().map(|&v| v as u8));
    out.extend(dh);
}

/// `best_index_int8`: the index of the table value nearest `x` (ties to the upper one).
fn best_index_int8(val: &[i8; 16], x: f32) -> usize {
    if x <= val[0] as f32 {
        return 0;
    }
    if x >= val[15] as f32 {
        return 15;
    }
    let (mut ml, mut mu) = (0usize, 15usize);
    while mu - ml > 1 {
        let mav = (ml + mu) / 2;
        if x < val[mav] as f32 {
            mu = mav;
        } else {
            ml = mav;
        }
    }
    if x - (val[mu - 1] as f32) < (val[mu] as f32) - x {
        mu - 1
    } else {
        mu
    }
}

fn quantize_iq4_nl(x: &[f32], out: &mut Vec<u8>) {
    let v = &IQ4NL_VALUES;
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &t in x {
        if t.abs() > amax {
            amax = t.abs();
            max = t;
        }
    }
    if amax < GROUP_MAX_EPS {
        out.extend(std::iter::repeat_n(0u8, 18));
        return;
    }
    let pass = |id: f32| {
        let (mut sumqx, mut sumq2) = (0.0f32, 0.0f32);
        for &t in x {
            let q = v[best_index_int8(v, id * t)] as f32;
            let w = t * t;
            sumqx += w * q * t;
            sumq2 += w * q * q;
        }
        (sumqx, sumq2)
    };
    let d0 = -max / v[0] as f32;
    let (sumqx, sumq2) = pass(1.0 / d0);
    let mut d = sumqx / sumq2;
    let mut best = d * sumqx;
    for itry in -7..=7 {
        let id = (itry as f32 + v[0] as f32) / max;
        let (sumqx, sumq2) = pass(id);
        if sumq2 > 0.0 && sumqx * sumqx > best * sumq2 {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let l: Vec<u8> = x
        .iter()
        .map(|&t| best_index_int8(v, id * t) as u8)
        .collect();
    out.extend(h(d));
    out.extend((0..16).map(|j| l[j] | (l[j + 16] << 4)));
}

/// Quantizes `x` (a multiple of the block size) to GGUF bytes.
pub fn quantize_row(t: GgmlType, x: &[f32]) -> Result<Vec<u8>> {
    let bs = t.block_size();
    if !x.len().is_multiple_of(bs) {
        return Err(Error::Shape {
            expected: format!("a multiple of {bs} entries per row for {}", t.name()),
            found: format!("{}", x.len()),
        });
    }
    let mut out = Vec::with_capacity(x.len() / bs * t.block_bytes());
    for b in x.chunks(bs) {
        match t {
            GgmlType::Q8_0 => quantize_q8_0(b, &mut out),
            GgmlType::Q4_0 => quantize_q4_0(b, &mut out),
            GgmlType::Q5_0 => quantize_q5_0(b, &mut out),
            GgmlType::Q4_1 => quantize_q4_1(b, &mut out),
            GgmlType::Q5_1 => quantize_q5_1(b, &mut out),
            GgmlType::Q4K => quantize_qk(b, 15, &mut out),
            GgmlType::Q5K => quantize_qk(b, 31, &mut out),
            GgmlType::Q6K => quantize_q6_k(b, &mut out),
            GgmlType::Iq4Nl => quantize_iq4_nl(b, &mut out),
        }
    }
    Ok(out)
}

/// Decodes GGUF bytes of type `t` (whole blocks) to f32.
pub fn dequantize_row(t: GgmlType, bytes: &[u8]) -> Result<Vec<f32>> {
    let bb = t.block_bytes();
    if !bytes.len().is_multiple_of(bb) {
        return Err(Error::Shape {
            expected: format!("a multiple of {bb} bytes for {}", t.name()),
            found: format!("{}", bytes.len()),
        });
    }
    let mut y = Vec::with_capacity(bytes.len() / bb * t.block_size());
    for b in bytes.chunks(bb) {
        match t {
            GgmlType::Q8_0 => {
                let d = hf(&b[0..2]);
                y.extend(b[2..34].iter().map(|&q| q as i8 as f32 * d));
            }
            GgmlType::Q4_0 | GgmlType::Iq4Nl => {
                let d = hf(&b[0..2]);
                let val = |q: u8| {
                    if t == GgmlType::Q4_0 {
                        (q as i32 - 8) as f32 * d
                    } else {
                        IQ4NL_VALUES[q as usize] as f32 * d
                    }
                };
                y.extend(b[2..18].iter().map(|&q| val(q & 15)));
                y.extend(b[2..18].iter().map(|&q| val(q >> 4)));
            }
            GgmlType::Q4_1 => {
                let (d, m) = (hf(&b[0..2]), hf(&b[2..4]));
                y.extend(b[4..20].iter().map(|&q| (q & 15) as f32 * d + m));
                y.extend(b[4..20].iter().map(|&q| (q >> 4) as f32 * d + m));
            }
            GgmlType::Q5_0 | GgmlType::Q5_1 => {
                let d = hf(&b[0..2]);
                let (m, o) = if t == GgmlType::Q5_1 {
                    (hf(&b[2..4]), 4)
                } else {
                    (0.0, 2)
                };
                let qh = u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                let qs = &b[o + 4..o + 20];
                let code = |j: usize| {
                    let lo = if j < 16 { qs[j] & 15 } else { qs[j - 16] >> 4 };
                    (lo as u32 | (((qh >> j) & 1) << 4)) as i32
                };
                for j in 0..32 {
                    y.push(if t == GgmlType::Q5_0 {
                        (code(j) - 16) as f32 * d
                    } else {
                        code(j) as f32 * d + m
                    });
                }
            }
            GgmlType::Q4K | GgmlType::Q5K => {
                let d = hf(&b[0..2]);
                let dmin = hf(&b[2..4]);
                let sc = &b[4..16];
                let (qh, ql) = if t == GgmlType::Q5K {
                    (Some(&b[16..48]), &b[48..176])
                } else {
                    (None, &b[16..144])
                };
                for c in 0..4 {
                    for half_ in 0..2 {
                        let (s, m) = scale_min_k4(2 * c + half_, sc);
                        let (d1, m1) = (d * s as f32, dmin * m as f32);
                        for l in 0..32 {
                            let byte = ql[32 * c + l];
                            let mut q = if half_ == 0 { byte & 15 } else { byte >> 4 } as u32;
                            if let Some(qh) = qh {
                                q |= ((qh[l] >> (2 * c + half_)) as u32 & 1) << 4;
                            }
                            y.push(d1 * q as f32 - m1);
                        }
                    }
                }
            }
            GgmlType::Q6K => {
                let (ql, qh) = (&b[0..128], &b[128..192]);
                let sc: Vec<i8> = b[192..208].iter().map(|&v| v as i8).collect();
                let d = hf(&b[208..210]);
                let mut blk = [0f32; 256];
                for c in 0..2 {
                    for l in 0..32 {
                        let is = l / 16;
                        let (a, bq, h_) = (ql[64 * c + l], ql[64 * c + l + 32], qh[32 * c + l]);
                        let q1 = ((a & 15) | ((h_ & 3) << 4)) as i32 - 32;
                        let q2 = ((bq & 15) | (((h_ >> 2) & 3) << 4)) as i32 - 32;
                        let q3 = ((a >> 4) | (((h_ >> 4) & 3) << 4)) as i32 - 32;
                        let q4 = ((bq >> 4) | (((h_ >> 6) & 3) << 4)) as i32 - 32;
                        let s = &sc[8 * c..];
                        blk[128 * c + l] = d * s[is] as f32 * q1 as f32;
                        blk[128 * c + l + 32] = d * s[is + 2] as f32 * q2 as f32;
                        blk[128 * c + l + 64] = d * s[is + 4] as f32 * q3 as f32;
                        blk[128 * c + l + 96] = d * s[is + 6] as f32 * q4 as f32;
                    }
                }
                y.extend(blk);
            }
        }
    }
    Ok(y)
}

/// One layer quantized with a GGUF type.
#[derive(Debug, Clone, Serialize)]
pub struct GgmlQuantReport {
    /// The type asked for.
    pub requested: GgmlType,
    /// The type used (its fallback when the rows do not fit the requested blocks).
    pub used: GgmlType,
    pub bytes: u64,
    /// `‖W − Ŵ‖_F / ‖W‖_F` (the input cast to f32 first, as llama.cpp reads it).
    pub rel_fro_error: f64,
    /// `‖W − Ŵ‖_F²`.
    pub sq_error: f64,
    /// `Ŵ` (not serialized).
    #[serde(skip)]
    pub dequantized: Array2<f64>,
}

/// Quantize → dequantize `w` (rows of `M` entries, row-major) with `t` (or its fallback).
/// Errors: [`Error::Shape`] when neither `t` nor its fallback fits `M`.
pub fn quantize_matrix(w: ArrayView2<'_, f64>, t: GgmlType) -> Result<GgmlQuantReport> {
    check_matrix(w)?;
    let (n, m) = w.dim();
    let used = t.effective(m).ok_or_else(|| Error::Shape {
        expected: format!("rows of a multiple of {} for {}", t.block_size(), t.name()),
        found: format!("{n} × {m}"),
    })?;
    let mut deq = Vec::with_capacity(n * m);
    let mut bytes = 0u64;
    for row in w.rows() {
        let x: Vec<f32> = row.iter().map(|&v| v as f32).collect();
        let q = quantize_row(used, &x)?;
        bytes += q.len() as u64;
        deq.extend(dequantize_row(used, &q)?.into_iter().map(f64::from));
    }
    let dequantized = Array2::from_shape_vec((n, m), deq).expect("same element count");
    let sq_error = w
        .iter()
        .zip(dequantized.iter())
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    Ok(GgmlQuantReport {
        requested: t,
        used,
        bytes,
        rel_fro_error: rel_error(w, dequantized.view()),
        sq_error,
        dequantized,
    })
}

/// One point per GGUF type that fits `w`'s rows (method `"gguf-{type}"`, `param` = bits per
/// weight of the type actually used).
pub fn ggml_quant_curve(w: ArrayView2<'_, f64>, types: &[GgmlType]) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    let mut out = Vec::new();
    for &t in types {
        if t.effective(w.ncols()).is_none() {
            continue;
        }
        let r = quantize_matrix(w, t)?;
        out.push(TradeoffPoint {
            method: format!("gguf-{}", t.name().to_ascii_lowercase()),
            param: r.used.bits_per_weight(),
            bytes: r.bytes,
            rel_fro_error: r.rel_fro_error,
        });
    }
    Ok(out)
}

//! Blockwise symmetric absmax quantization (round to nearest), alone or after a random Hadamard
//! rotation (QuIP#-style incoherence processing). Data-free: no GPTQ, plain RTN.
//!
//! - **Quantizer**: the matrix is flattened row-major and cut into groups of `group_size`
//!   consecutive entries (the last group may be shorter; groups may straddle rows). Per group
//!   `scale = max|x| / q_max` with `q_max = 2^{b−1} − 1`, stored as f32; codes
//!   `q = clamp(round(x/scale), −q_max, q_max)`; the dequantized value is `q·scale`. The range is
//!   symmetric (the code `−2^{b−1}` is unused), so `|x − q·scale| ≤ scale/2` for every entry.
//! - **Bytes**: `⌈count·b/8⌉ + 4·⌈count/group_size⌉` (codes + f32 scales).
//! - **Rotation**: `W̃ = H_N D_N W D_M H_M` with `H_k` the orthonormal Sylvester–Hadamard matrix
//!   (`H/√k`, symmetric) and `D` seeded random ±1 diagonals. Sizes that are not powers of two
//!   are zero-padded to the next power of two (the padded matrix is quantized and its bytes are
//!   counted; the error is measured on the original `N × M` block after the inverse rotation).
//!   The signs cost a seed (8 bytes). The transform is a private in-place FWHT (`O(k log k)`).
//! - **NormalFloat** ([`QuantFormat::NormalFloat`], QLoRA / LQ-LoRA's NF-k): a 2^k-value
//!   codebook in `[−1, 1]` ([`nf_codebook`]): with `offset = 0.9677083`, the quantiles
//!   `linspace(1−offset, 0.5, 2^{k−1})` without its last point, then
//!   `linspace(0.5, offset, 2^{k−1}+1)`, mapped through `Φ⁻¹(q)/Φ⁻¹(offset)`: zero exactly and
//!   one more positive level than negative. NF4 is bitsandbytes' table (QLoRA), NF3 the same
//!   formula (values from scipy, `tests/goldens/compress/make_goldens.py`).
//!   Per block of `group_size` (default 64) consecutive entries, `absmax` is the scale; each
//!   `x/absmax` goes to the nearest code value, a value exactly on a midpoint to the *lower*
//!   code (`bucketize(right=False)`); the dequantized value is `code·absmax`. A zero block
//!   decodes to zeros.
//!   *Double quantization* (LQ-LoRA's `b0 = 8`, `B1 = 256`, fp32): `s1` = block absmax,
//!   `off = min s1` over the tensor, `s2 = s1 − off`, per group of 256 blocks
//!   `s3 = max s2` (f32), `q = round_half_even(s2·255/s3)` clamped to `[0, 255]`, and the
//!   weights are quantized with the *dequantized* scale `s1' = q·s3/255 + off`. Unlike the anchor
//!   (whose `view` fails), a last block or group may be shorter.
//!   Bytes: `⌈count·k/8⌉` codes + per block a 4-byte f32 absmax (4.5 bits per weight for NF4),
//!   or with double quantization 1 byte per block + 4 bytes per group of 256 blocks + 4 bytes
//!   of offset (NF4: `4 + 8/64 + 32/16384 ≈ 4.127` bits per weight).

use super::{check_matrix, fro2, rel_error, TradeoffPoint};
use crate::random::SeededRng;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// The quantizer's number format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantFormat {
    /// Symmetric uniform integers, absmax scale per group (int`b`).
    Absmax,
    /// NormalFloat (NF3/NF4) with absmax per block, optionally double-quantized scales.
    NormalFloat { double_quant: bool },
}

/// Options of [`quantize_absmax`] / [`quantize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuantParams {
    /// Bits per code, 2..=8 (default 4); NormalFloat: 3 or 4.
    pub bits: u32,
    /// Entries per scale (default 64).
    pub group_size: usize,
    /// Number format (default [`QuantFormat::Absmax`]).
    pub format: QuantFormat,
}

impl Default for QuantParams {
    fn default() -> Self {
        QuantParams {
            bits: 4,
            group_size: super::QUANT_GROUP,
            format: QuantFormat::Absmax,
        }
    }
}

/// Blocks per second-level group of the double quantization (LQ-LoRA's `B1`).
pub const DQ_GROUP: usize = 256;

impl QuantParams {
    /// NF`bits` in blocks of 64, optionally double-quantized.
    pub fn nf(bits: u32, double_quant: bool) -> Self {
        QuantParams {
            bits,
            group_size: super::QUANT_GROUP,
            format: QuantFormat::NormalFloat { double_quant },
        }
    }

    fn validate(&self) -> Result<()> {
        let ok = match self.format {
            QuantFormat::Absmax => (2..=8).contains(&self.bits),
            QuantFormat::NormalFloat { .. } => (3..=4).contains(&self.bits),
        };
        if !ok {
            return Err(Error::InvalidParameter {
                name: "bits",
                reason: format!("{} is not supported by {}", self.bits, self.name()),
            });
        }
        if self.group_size == 0 {
            return Err(Error::InvalidParameter {
                name: "group_size",
                reason: "must be ≥ 1".into(),
            });
        }
        Ok(())
    }

    /// Short name used in method strings: `int{bits}`, `nf{bits}` or `nf{bits}dq`.
    pub fn name(&self) -> String {
        match self.format {
            QuantFormat::Absmax => format!("int{}", self.bits),
            QuantFormat::NormalFloat {
                double_quant: false,
            } => format!("nf{}", self.bits),
            QuantFormat::NormalFloat { double_quant: true } => format!("nf{}dq", self.bits),
        }
    }

    /// Bytes of `count` quantized numbers: codes plus the scales (see the module doc).
    pub fn bytes(&self, count: u64) -> u64 {
        let codes = (count * self.bits as u64).div_ceil(8);
        let blocks = count.div_ceil(self.group_size as u64);
        match self.format {
            QuantFormat::Absmax
            | QuantFormat::NormalFloat {
                double_quant: false,
            } => codes + 4 * blocks,
            QuantFormat::NormalFloat { double_quant: true } => {
                codes + blocks + 4 * blocks.div_ceil(DQ_GROUP as u64) + 4
            }
        }
    }
}

/// bitsandbytes' NF4 table (QLoRA), as stored (float32 values).
pub const NF4_CODEBOOK: [f64; 16] = [
    -1.0,
    -0.6961928009986877,
    -0.5250730514526367,
    -0.39491748809814453,
    -0.28444138169288635,
    -0.18477343022823334,
    -0.09105003625154495,
    0.0,
    0.07958029955625534,
    0.16093020141124725,
    0.24611230194568634,
    0.33791524171829224,
    0.44070982933044434,
    0.5626170039176941,
    0.7229568362236023,
    1.0,
];

/// NF3 from the same definition (scipy's `norm.ppf`, f64).
pub const NF3_CODEBOOK: [f64; 8] = [
    -1.0,
    -0.4786291601159111,
    -0.21714181782574407,
    0.0,
    0.16093017270493618,
    0.33791519352165506,
    0.562616970075237,
    1.0,
];

/// The NF-`bits` codebook (ascending), `bits` ∈ {3, 4}.
pub fn nf_codebook(bits: u32) -> Option<&'static [f64]> {
    match bits {
        3 => Some(&NF3_CODEBOOK),
        4 => Some(&NF4_CODEBOOK),
        _ => None,
    }
}

/// A quantized matrix, dequantized back to f64.
#[derive(Debug, Clone, Serialize)]
pub struct QuantizedMatrix {
    /// `q·scale`, same shape as the input (not serialized).
    #[serde(skip)]
    pub dequantized: Array2<f64>,
    /// One scale per group (f32-rounded), row-major group order.
    pub scales: Vec<f64>,
    /// Integer codes in `[−q_max, q_max]`, row-major.
    pub codes: Vec<i8>,
    /// Storage bytes ([`QuantParams::bytes`]).
    pub bytes: u64,
}

/// Blockwise symmetric absmax quantization of `w` (see the module doc). An empty matrix gives
/// empty outputs; non-finite entries are [`Error::NonFinite`].
pub fn quantize_absmax(w: ArrayView2<'_, f64>, params: &QuantParams) -> Result<QuantizedMatrix> {
    params.validate()?;
    crate::linalg::check_finite(w)?;
    let qmax = ((1i32 << (params.bits - 1)) - 1) as f64;
    let flat: Vec<f64> = w.iter().copied().collect();
    let mut out = Vec::with_capacity(flat.len());
    let mut codes = Vec::with_capacity(flat.len());
    let mut scales = Vec::with_capacity(flat.len().div_ceil(params.group_size));
    for g in flat.chunks(params.group_size) {
        let amax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = (amax / qmax) as f32 as f64;
        scales.push(scale);
        for &x in g {
            let q = if scale > 0.0 {
                (x / scale).round().clamp(-qmax, qmax)
            } else {
                0.0
            };
            codes.push(q as i8);
            out.push(q * scale);
        }
    }
    Ok(QuantizedMatrix {
        dequantized: Array2::from_shape_vec(w.raw_dim(), out).expect("same element count"),
        scales,
        codes,
        bytes: params.bytes(w.len() as u64),
    })
}

/// Quantizes `w` with `params.format` (absmax integers or NormalFloat; see the module doc).
pub fn quantize(w: ArrayView2<'_, f64>, params: &QuantParams) -> Result<QuantizedMatrix> {
    match params.format {
        QuantFormat::Absmax => quantize_absmax(w, params),
        QuantFormat::NormalFloat { double_quant } => quantize_nf(w, params, double_quant),
    }
}

/// NormalFloat quantization (see the module doc). `codes` are codebook indices.
fn quantize_nf(
    w: ArrayView2<'_, f64>,
    params: &QuantParams,
    double_quant: bool,
) -> Result<QuantizedMatrix> {
    params.validate()?;
    crate::linalg::check_finite(w)?;
    let book = nf_codebook(params.bits).expect("validated");
    let mids: Vec<f64> = book.windows(2).map(|p| 0.5 * (p[0] + p[1])).collect();
    let flat: Vec<f64> = w.iter().copied().collect();
    let mut scales: Vec<f64> = flat
        .chunks(params.group_size)
        .map(|g| g.iter().fold(0.0f64, |m, v| m.max(v.abs())))
        .collect();
    if double_quant && !scales.is_empty() {
        let off = scales.iter().copied().fold(f64::INFINITY, f64::min);
        for grp in scales.chunks_mut(DQ_GROUP) {
            let s3 = grp.iter().fold(0.0f64, |m, &s| m.max(s - off)) as f32 as f64;
            for s in grp.iter_mut() {
                let q = if s3 > 0.0 {
                    ((*s - off) * 255.0 / s3)
                        .round_ties_even()
                        .clamp(0.0, 255.0)
                } else {
                    0.0
                };
                *s = q * s3 / 255.0 + off;
            }
        }
    }
    let mut out = Vec::with_capacity(flat.len());
    let mut codes = Vec::with_capacity(flat.len());
    for (g, &scale) in flat.chunks(params.group_size).zip(&scales) {
        for &x in g {
            // Number of midpoints strictly below x/scale: ties go to the lower code.
            let c = if scale > 0.0 {
                let y = x / scale;
                mids.partition_point(|&m| m < y)
            } else {
                book.iter()
                    .position(|&v| v == 0.0)
                    .expect("NF has an exact zero")
            };
            codes.push(c as i8);
            out.push(book[c] * scale);
        }
    }
    Ok(QuantizedMatrix {
        dequantized: Array2::from_shape_vec(w.raw_dim(), out).expect("same element count"),
        scales,
        codes,
        bytes: params.bytes(w.len() as u64),
    })
}

/// Incoherence `μ(W) = max|W_ij|·√(NM)/‖W‖_F` (1 for a flat matrix, `√(NM)` for a single spike;
/// 0 for a zero matrix).
pub fn incoherence(w: ArrayView2<'_, f64>) -> f64 {
    let f = fro2(w).sqrt();
    if f == 0.0 {
        return 0.0;
    }
    let amax = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    amax * (w.len() as f64).sqrt() / f
}

/// In-place orthonormal fast Walsh–Hadamard transform (`len` a power of two): `x ← H x / √len`.
/// Private stand-in for the shared transform module (same result as a dense Sylvester matrix).
fn fwht(x: &mut [f64]) {
    let n = x.len();
    debug_assert!(n.is_power_of_two());
    let mut h = 1;
    while h < n {
        for start in (0..n).step_by(2 * h) {
            for i in start..start + h {
                let (a, b) = (x[i], x[i + h]);
                x[i] = a + b;
                x[i + h] = a - b;
            }
        }
        h *= 2;
    }
    let s = 1.0 / (n as f64).sqrt();
    x.iter_mut().for_each(|v| *v *= s);
}

/// Applies the orthonormal Hadamard transform to every row and then every column of `a`.
fn hadamard_both(a: &mut Array2<f64>) {
    for mut row in a.rows_mut() {
        let mut v = row.to_vec();
        fwht(&mut v);
        row.iter_mut().zip(v).for_each(|(d, s)| *d = s);
    }
    for mut col in a.columns_mut() {
        let mut v = col.to_vec();
        fwht(&mut v);
        col.iter_mut().zip(v).for_each(|(d, s)| *d = s);
    }
}

/// The random signs of [`hadamard_rotate`] for padded sizes `(pn, pm)`.
fn signs(seed: u64, pn: usize, pm: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = SeededRng::new(seed);
    let mut draw = |n: usize| {
        (0..n)
            .map(|_| if rng.uniform() < 0.5 { -1.0 } else { 1.0 })
            .collect::<Vec<f64>>()
    };
    let r = draw(pn);
    let c = draw(pm);
    (r, c)
}

/// Two-sided random Hadamard rotation `H D_r W D_c H` of `w`, zero-padded to powers of two.
/// Orthogonal: preserves the Frobenius norm; [`hadamard_unrotate`] inverts it.
pub fn hadamard_rotate(w: ArrayView2<'_, f64>, seed: u64) -> Result<Array2<f64>> {
    check_matrix(w)?;
    let (n, m) = w.dim();
    let (pn, pm) = (n.next_power_of_two(), m.next_power_of_two());
    let (rs, cs) = signs(seed, pn, pm);
    let mut a = Array2::zeros((pn, pm));
    for i in 0..n {
        for j in 0..m {
            a[[i, j]] = rs[i] * w[[i, j]] * cs[j];
        }
    }
    hadamard_both(&mut a);
    Ok(a)
}

/// Inverse of [`hadamard_rotate`]: `D_r H W̃ H D_c`, cropped to `rows × cols`.
pub fn hadamard_unrotate(
    rotated: ArrayView2<'_, f64>,
    rows: usize,
    cols: usize,
    seed: u64,
) -> Result<Array2<f64>> {
    let (pn, pm) = rotated.dim();
    if pn != rows.next_power_of_two() || pm != cols.next_power_of_two() || rows == 0 || cols == 0 {
        return Err(Error::Shape {
            expected: format!(
                "{} × {} (powers of two ≥ {rows} × {cols})",
                rows.next_power_of_two(),
                cols.next_power_of_two()
            ),
            found: format!("{pn} × {pm}"),
        });
    }
    let (rs, cs) = signs(seed, pn, pm);
    let mut a = rotated.to_owned();
    hadamard_both(&mut a);
    Ok(Array2::from_shape_fn((rows, cols), |(i, j)| {
        rs[i] * a[[i, j]] * cs[j]
    }))
}

/// Result of [`quantize_rotated`].
#[derive(Debug, Clone, Serialize)]
pub struct RotatedQuantization {
    /// The reconstruction in the original basis (`N × M`; not serialized).
    #[serde(skip)]
    pub reconstruction: Array2<f64>,
    pub rel_fro_error: f64,
    /// Quantized bytes of the padded rotated matrix + 8 bytes of seed.
    pub bytes: u64,
    pub incoherence_before: f64,
    pub incoherence_after: f64,
}

/// Random Hadamard rotation, absmax quantization, inverse rotation.
pub fn quantize_rotated(
    w: ArrayView2<'_, f64>,
    params: &QuantParams,
    seed: u64,
) -> Result<RotatedQuantization> {
    params.validate()?;
    let rot = hadamard_rotate(w, seed)?;
    let q = quantize_absmax(rot.view(), params)?;
    let rec = hadamard_unrotate(q.dequantized.view(), w.nrows(), w.ncols(), seed)?;
    Ok(RotatedQuantization {
        rel_fro_error: rel_error(w, rec.view()),
        reconstruction: rec,
        bytes: q.bytes + 8,
        incoherence_before: incoherence(w),
        incoherence_after: incoherence(rot.view()),
    })
}

/// Options of [`quantization_curve`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuantCurveParams {
    /// Bit widths to try (default 2, 3, 4, 8).
    pub bits: Vec<u32>,
    pub group_size: usize,
    /// Seed of the rotation's signs; `None` skips the rotated curve.
    pub rotation_seed: Option<u64>,
    /// NormalFloat bit widths (default 3, 4), each plain and double-quantized (`nf{b}`,
    /// `nf{b}dq`; blocks of 64).
    pub nf_bits: Vec<u32>,
}

impl Default for QuantCurveParams {
    fn default() -> Self {
        QuantCurveParams {
            bits: vec![2, 3, 4, 8],
            group_size: super::QUANT_GROUP,
            rotation_seed: Some(0),
            nf_bits: vec![3, 4],
        }
    }
}

/// Quantization alone (`method = "absmax"`) and after the random Hadamard rotation
/// (`"rht+absmax"`), `param` = bits; and NormalFloat (`"nf"` and `"nf-dq"`, `param` = bits).
pub fn quantization_curve(
    w: ArrayView2<'_, f64>,
    params: &QuantCurveParams,
) -> Result<Vec<TradeoffPoint>> {
    check_matrix(w)?;
    let mut out = Vec::new();
    for &bits in &params.bits {
        let qp = QuantParams {
            bits,
            group_size: params.group_size,
            format: QuantFormat::Absmax,
        };
        let q = quantize_absmax(w, &qp)?;
        out.push(TradeoffPoint {
            method: "absmax".into(),
            param: bits as f64,
            bytes: q.bytes,
            rel_fro_error: rel_error(w, q.dequantized.view()),
        });
        if let Some(seed) = params.rotation_seed {
            let r = quantize_rotated(w, &qp, seed)?;
            out.push(TradeoffPoint {
                method: "rht+absmax".into(),
                param: bits as f64,
                bytes: r.bytes,
                rel_fro_error: r.rel_fro_error,
            });
        }
    }
    for &bits in &params.nf_bits {
        for dq in [false, true] {
            let q = quantize(w, &QuantParams::nf(bits, dq))?;
            out.push(TradeoffPoint {
                method: if dq { "nf-dq" } else { "nf" }.into(),
                param: bits as f64,
                bytes: q.bytes,
                rel_fro_error: rel_error(w, q.dequantized.view()),
            });
        }
    }
    Ok(out)
}

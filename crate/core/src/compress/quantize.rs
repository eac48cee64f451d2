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

use super::{check_matrix, fro2, rel_error, TradeoffPoint};
use crate::random::SeededRng;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// Options of [`quantize_absmax`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuantParams {
    /// Bits per code, 2..=8 (default 4).
    pub bits: u32,
    /// Entries per scale (default 64).
    pub group_size: usize,
}

impl Default for QuantParams {
    fn default() -> Self {
        QuantParams {
            bits: 4,
            group_size: super::QUANT_GROUP,
        }
    }
}

impl QuantParams {
    fn validate(&self) -> Result<()> {
        if !(2..=8).contains(&self.bits) {
            return Err(Error::InvalidParameter {
                name: "bits",
                reason: format!("{} is not in 2..=8", self.bits),
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

    /// Short name used in method strings: `int{bits}`.
    pub fn name(&self) -> String {
        format!("int{}", self.bits)
    }

    /// Bytes of `count` quantized numbers: codes plus one f32 scale per group.
    pub fn bytes(&self, count: u64) -> u64 {
        (count * self.bits as u64).div_ceil(8) + 4 * count.div_ceil(self.group_size as u64)
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
}

impl Default for QuantCurveParams {
    fn default() -> Self {
        QuantCurveParams {
            bits: vec![2, 3, 4, 8],
            group_size: super::QUANT_GROUP,
            rotation_seed: Some(0),
        }
    }
}

/// Quantization alone (`method = "absmax"`) and after the random Hadamard rotation
/// (`"rht+absmax"`); `param` = bits.
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
    Ok(out)
}

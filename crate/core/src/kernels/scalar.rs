//! Scalar reference kernels (see [`super`] for the contracts). Written with fixed-size
//! accumulators so native compilers vectorise them; on wasm without `+simd128` they stay scalar.

use super::{check_tile_lengths, GRAM_MR, GRAM_NR};

/// Scalar twin of the Gram tile kernel (see [`super::gram_tile_f32`]).
pub fn gram_tile_f32(a: &[f32], b: &[f32], kc: usize, out: &mut [f64], out_stride: usize) {
    check_tile_lengths(a, b, kc, out, out_stride);
    let mut acc = [[0f32; GRAM_NR]; GRAM_MR];
    for r in 0..kc {
        let br: &[f32; GRAM_NR] = b[r * GRAM_NR..(r + 1) * GRAM_NR].try_into().unwrap();
        for (t, row) in acc.iter_mut().enumerate() {
            let at = a[r * GRAM_NR + t];
            for c in 0..GRAM_NR {
                row[c] += at * br[c];
            }
        }
    }
    for (t, row) in acc.iter().enumerate() {
        let o = &mut out[t * out_stride..t * out_stride + GRAM_NR];
        for c in 0..GRAM_NR {
            o[c] += row[c] as f64;
        }
    }
}

/// Scalar twin of [`super::dot_f32`]: 8 independent f32 partial sums, combined in f64.
pub fn dot_f32(x: &[f32], y: &[f32]) -> f64 {
    assert_eq!(x.len(), y.len(), "dot: lengths differ");
    let mut acc = [0f32; 8];
    let chunks = x.len() / 8;
    for k in 0..chunks {
        for l in 0..8 {
            acc[l] += x[k * 8 + l] * y[k * 8 + l];
        }
    }
    let mut s: f64 = acc.iter().map(|&v| v as f64).sum();
    for i in chunks * 8..x.len() {
        s += (x[i] * y[i]) as f64;
    }
    s
}

/// Scalar twin of [`super::gram_tile8_f64`] (plain `+=` of exact products: same bits as FMA).
pub fn gram_tile8_f64(a: &[f64], b: &[f64], kc: usize, out: &mut [f64], out_stride: usize) {
    super::check_tile8_f64(a, b, kc, out, out_stride);
    let mut acc = [[0f64; GRAM_NR]; GRAM_NR];
    for r in 0..kc {
        let ar: &[f64; GRAM_NR] = a[r * GRAM_NR..(r + 1) * GRAM_NR].try_into().unwrap();
        let br: &[f64; GRAM_NR] = b[r * GRAM_NR..(r + 1) * GRAM_NR].try_into().unwrap();
        for (row, &at) in acc.iter_mut().zip(ar) {
            for c in 0..GRAM_NR {
                row[c] += at * br[c];
            }
        }
    }
    for (t, row) in acc.iter().enumerate() {
        let o = &mut out[t * out_stride..t * out_stride + GRAM_NR];
        for c in 0..GRAM_NR {
            o[c] += row[c];
        }
    }
}

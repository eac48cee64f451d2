//! SIMD128 kernels (wasm32 with `+simd128`), same contracts as [`super::scalar`].
//! Each kernel checks slice bounds once up front, then uses unchecked `v128` loads.

use super::{check_tile_lengths, GRAM_MR, GRAM_NR};
use core::arch::wasm32::*;

/// SIMD128 Gram tile: 8 `f32x4` accumulators (4 rows × 2 vectors), `v128.load32_splat` for the
/// row values, two loads for the panel row; flushed to f64 with `f64x2.promote_low_f32x4`.
pub fn gram_tile_f32(a: &[f32], b: &[f32], kc: usize, out: &mut [f64], out_stride: usize) {
    check_tile_lengths(a, b, kc, out, out_stride);
    // SAFETY: lengths checked above; wasm loads/stores are unaligned-safe.
    unsafe { gram_tile_f32_inner(a.as_ptr(), b.as_ptr(), kc, out, out_stride) }
}

#[target_feature(enable = "simd128")]
unsafe fn gram_tile_f32_inner(
    a: *const f32,
    b: *const f32,
    kc: usize,
    out: &mut [f64],
    out_stride: usize,
) {
    let z = f32x4_splat(0.0);
    let mut acc = [[z; 2]; GRAM_MR];
    for r in 0..kc {
        let bp = b.add(r * GRAM_NR);
        let b0 = v128_load(bp as *const v128);
        let b1 = v128_load(bp.add(4) as *const v128);
        let ap = a.add(r * GRAM_NR);
        for (t, row) in acc.iter_mut().enumerate() {
            let at = v128_load32_splat(ap.add(t) as *const u32);
            row[0] = f32x4_add(row[0], f32x4_mul(at, b0));
            row[1] = f32x4_add(row[1], f32x4_mul(at, b1));
        }
    }
    for (t, row) in acc.iter().enumerate() {
        let o = out.as_mut_ptr().add(t * out_stride);
        for (h, v) in row.iter().enumerate() {
            let lo = f64x2_promote_low_f32x4(*v);
            let hi = f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 0, 1>(*v, *v));
            let p = o.add(h * 4) as *mut v128;
            v128_store(p, f64x2_add(v128_load(p), lo));
            let p2 = o.add(h * 4 + 2) as *mut v128;
            v128_store(p2, f64x2_add(v128_load(p2), hi));
        }
    }
}

/// SIMD128 exact Gram tile ([`super::gram_tile8_f64`]): four passes of 2 rows × 8 columns, each
/// with 8 `f64x2` accumulators (`f64x2.mul` + `f64x2.add`: the products are exact, so this equals
/// the fused form bit for bit).
pub fn gram_tile8_f64(a: &[f64], b: &[f64], kc: usize, out: &mut [f64], out_stride: usize) {
    super::check_tile8_f64(a, b, kc, out, out_stride);
    // SAFETY: lengths checked above; wasm loads/stores are unaligned-safe.
    unsafe { gram_tile8_f64_inner(a.as_ptr(), b.as_ptr(), kc, out, out_stride) }
}

#[target_feature(enable = "simd128")]
unsafe fn gram_tile8_f64_inner(
    a: *const f64,
    b: *const f64,
    kc: usize,
    out: &mut [f64],
    out_stride: usize,
) {
    let z = f64x2_splat(0.0);
    for pass in 0..GRAM_NR / 2 {
        let mut acc = [[z; 4]; 2];
        for r in 0..kc {
            let bp = b.add(r * GRAM_NR);
            let bv = [
                v128_load(bp as *const v128),
                v128_load(bp.add(2) as *const v128),
                v128_load(bp.add(4) as *const v128),
                v128_load(bp.add(6) as *const v128),
            ];
            let ap = a.add(r * GRAM_NR + 2 * pass);
            for (t, row) in acc.iter_mut().enumerate() {
                let at = v128_load64_splat(ap.add(t) as *const u64);
                for (h, x) in row.iter_mut().enumerate() {
                    *x = f64x2_add(*x, f64x2_mul(at, bv[h]));
                }
            }
        }
        for (t, row) in acc.iter().enumerate() {
            let o = out.as_mut_ptr().add((2 * pass + t) * out_stride);
            for (h, v) in row.iter().enumerate() {
                let p = o.add(2 * h) as *mut v128;
                v128_store(p, f64x2_add(v128_load(p), *v));
            }
        }
    }
}

/// SIMD128 dot product: two `f32x4` accumulators (8 lanes, same grouping as the scalar twin).
pub fn dot_f32(x: &[f32], y: &[f32]) -> f64 {
    assert_eq!(x.len(), y.len(), "dot: lengths differ");
    // SAFETY: equal lengths checked; loads stay within `chunks * 8 ≤ len`.
    unsafe { dot_f32_inner(x, y) }
}

#[target_feature(enable = "simd128")]
unsafe fn dot_f32_inner(x: &[f32], y: &[f32]) -> f64 {
    let chunks = x.len() / 8;
    let (xp, yp) = (x.as_ptr(), y.as_ptr());
    let mut a0 = f32x4_splat(0.0);
    let mut a1 = f32x4_splat(0.0);
    for k in 0..chunks {
        let o = k * 8;
        a0 = f32x4_add(
            a0,
            f32x4_mul(
                v128_load(xp.add(o) as *const v128),
                v128_load(yp.add(o) as *const v128),
            ),
        );
        a1 = f32x4_add(
            a1,
            f32x4_mul(
                v128_load(xp.add(o + 4) as *const v128),
                v128_load(yp.add(o + 4) as *const v128),
            ),
        );
    }
    let lanes = [
        f32x4_extract_lane::<0>(a0),
        f32x4_extract_lane::<1>(a0),
        f32x4_extract_lane::<2>(a0),
        f32x4_extract_lane::<3>(a0),
        f32x4_extract_lane::<0>(a1),
        f32x4_extract_lane::<1>(a1),
        f32x4_extract_lane::<2>(a1),
        f32x4_extract_lane::<3>(a1),
    ];
    let mut s: f64 = lanes.iter().map(|&v| v as f64).sum();
    for i in chunks * 8..x.len() {
        s += (x[i] * y[i]) as f64;
    }
    s
}

//! SIMD128 fast Walsh–Hadamard kernels (wasm32 `+simd128`), same contract and schedule as
//! [`super::wht_scalar`]:
//! - first 4 stages (strides 1, 2, 4, 8) on 16 values in registers: f32 does strides 1 and 2
//!   inside each `f32x4` with `i32x4_shuffle` + sign flip, then a radix-4 across the 4 vectors;
//!   f64 does stride 1 inside each `f64x2`, then a radix-8 across 8 vectors;
//! - radix-8/4/2 passes with `f32x4`/`f64x2` butterflies for all larger strides, blocked so that
//!   strides below [`super::WHT_BLOCK_BYTES`] run while the block sits in L1.

use core::arch::wasm32::*;

trait Lanes: Copy {
    /// Values per `v128`.
    const L: usize;
    fn add(a: v128, b: v128) -> v128;
    fn sub(a: v128, b: v128) -> v128;
    fn splat(v: Self) -> v128;
    /// Stages 1, 2, 4, 8 of the 16 values at `p` (scaled by `scale` first).
    unsafe fn first4(p: *mut Self, scale: v128);
}

#[inline(always)]
unsafe fn ld<T>(p: *const T) -> v128 {
    v128_load(p as *const v128)
}

#[inline(always)]
unsafe fn st<T>(p: *mut T, v: v128) {
    v128_store(p as *mut v128, v)
}

impl Lanes for f32 {
    const L: usize = 4;
    #[inline(always)]
    fn add(a: v128, b: v128) -> v128 {
        f32x4_add(a, b)
    }
    #[inline(always)]
    fn sub(a: v128, b: v128) -> v128 {
        f32x4_sub(a, b)
    }
    #[inline(always)]
    fn splat(v: f32) -> v128 {
        f32x4_splat(v)
    }
    #[inline(always)]
    unsafe fn first4(p: *mut f32, scale: v128) {
        // Sign masks: flip lanes 1, 3 (stride 1) and lanes 2, 3 (stride 2).
        let m1 = u32x4(0, 0x8000_0000, 0, 0x8000_0000);
        let m2 = u32x4(0, 0, 0x8000_0000, 0x8000_0000);
        let mut v = [ld(p), ld(p.add(4)), ld(p.add(8)), ld(p.add(12))];
        for x in v.iter_mut() {
            let a = f32x4_mul(*x, scale);
            // [a0+a1, a0−a1, a2+a3, a2−a3] = swap-pairs(a) + (a with lanes 1, 3 negated).
            let t = i32x4_shuffle::<1, 0, 3, 2>(a, a);
            let b = f32x4_add(t, v128_xor(a, m1));
            let t = i32x4_shuffle::<2, 3, 0, 1>(b, b);
            *x = f32x4_add(t, v128_xor(b, m2));
        }
        let (a0, a1) = (f32x4_add(v[0], v[1]), f32x4_sub(v[0], v[1]));
        let (a2, a3) = (f32x4_add(v[2], v[3]), f32x4_sub(v[2], v[3]));
        st(p, f32x4_add(a0, a2));
        st(p.add(4), f32x4_add(a1, a3));
        st(p.add(8), f32x4_sub(a0, a2));
        st(p.add(12), f32x4_sub(a1, a3));
    }
}

impl Lanes for f64 {
    const L: usize = 2;
    #[inline(always)]
    fn add(a: v128, b: v128) -> v128 {
        f64x2_add(a, b)
    }
    #[inline(always)]
    fn sub(a: v128, b: v128) -> v128 {
        f64x2_sub(a, b)
    }
    #[inline(always)]
    fn splat(v: f64) -> v128 {
        f64x2_splat(v)
    }
    #[inline(always)]
    unsafe fn first4(p: *mut f64, scale: v128) {
        let m = u64x2(0, 0x8000_0000_0000_0000);
        let mut v = [f64x2_splat(0.0); 8];
        for (i, x) in v.iter_mut().enumerate() {
            let a = f64x2_mul(ld(p.add(2 * i)), scale);
            let t = i64x2_shuffle::<1, 0>(a, a);
            *x = f64x2_add(t, v128_xor(a, m));
        }
        bfly8::<f64>(&mut v);
        for (i, x) in v.iter().enumerate() {
            st(p.add(2 * i), *x);
        }
    }
}

#[inline(always)]
fn bf<E: Lanes>(a: &mut v128, b: &mut v128) {
    let (x, y) = (E::add(*a, *b), E::sub(*a, *b));
    *a = x;
    *b = y;
}

/// Three radix-2 levels across 8 vectors (vector strides 1, 2, 4).
#[inline(always)]
fn bfly8<E: Lanes>(v: &mut [v128; 8]) {
    for h in [1usize, 2, 4] {
        for base in (0..8).step_by(2 * h) {
            for k in base..base + h {
                let (lo, hi) = v.split_at_mut(k + h);
                bf::<E>(&mut lo[k], &mut hi[0]);
            }
        }
    }
}

unsafe fn radix2<E: Lanes>(p: *mut E, n: usize, s: usize) {
    let mut base = 0;
    while base < n {
        let mut j = base;
        while j < base + s {
            let (mut a, mut b) = (ld(p.add(j)), ld(p.add(j + s)));
            bf::<E>(&mut a, &mut b);
            st(p.add(j), a);
            st(p.add(j + s), b);
            j += E::L;
        }
        base += 2 * s;
    }
}

unsafe fn radix4<E: Lanes>(p: *mut E, n: usize, s: usize) {
    let mut base = 0;
    while base < n {
        let mut j = base;
        while j < base + s {
            let q = p.add(j);
            let mut v = [ld(q), ld(q.add(s)), ld(q.add(2 * s)), ld(q.add(3 * s))];
            let [a, b, c, d] = &mut v;
            bf::<E>(a, b);
            bf::<E>(c, d);
            bf::<E>(a, c);
            bf::<E>(b, d);
            for (m, x) in v.iter().enumerate() {
                st(q.add(m * s), *x);
            }
            j += E::L;
        }
        base += 4 * s;
    }
}

unsafe fn radix8<E: Lanes>(p: *mut E, n: usize, s: usize) {
    let mut base = 0;
    while base < n {
        let mut j = base;
        while j < base + s {
            let q = p.add(j);
            let mut v = [
                ld(q),
                ld(q.add(s)),
                ld(q.add(2 * s)),
                ld(q.add(3 * s)),
                ld(q.add(4 * s)),
                ld(q.add(5 * s)),
                ld(q.add(6 * s)),
                ld(q.add(7 * s)),
            ];
            bfly8::<E>(&mut v);
            for (m, x) in v.iter().enumerate() {
                st(q.add(m * s), *x);
            }
            j += E::L;
        }
        base += 8 * s;
    }
}

/// Strides `s0 … n/2` of the `n` values at `p`, three stages per pass.
unsafe fn passes<E: Lanes>(p: *mut E, n: usize, s0: usize) {
    let mut s = s0;
    while s < n {
        let left = (n / s).trailing_zeros();
        match left {
            1 => radix2(p, n, s),
            2 => radix4(p, n, s),
            _ => radix8(p, n, s),
        }
        s <<= left.min(3);
    }
}

#[target_feature(enable = "simd128")]
unsafe fn wht_inner<E: Lanes>(p: *mut E, n: usize, scale: E) {
    let block = n.min(super::WHT_BLOCK_BYTES / core::mem::size_of::<E>());
    let sv = E::splat(scale);
    let mut b = 0;
    while b < n {
        let q = p.add(b);
        let mut g = 0;
        while g < block {
            E::first4(q.add(g), sv);
            g += 16;
        }
        passes(q, block, 16);
        b += block;
    }
    passes(p, n, block);
}

/// SIMD128 twin of [`super::wht_scalar::wht_f32`].
pub fn wht_f32(x: &mut [f32], scale: f32) {
    super::check_wht_len(x.len());
    if x.len() < 16 {
        return super::wht_scalar::wht_f32(x, scale);
    }
    // SAFETY: length is a power of two ≥ 16; every access stays below it (strides and blocks
    // divide n, vector steps divide the strides); wasm loads/stores are unaligned-safe.
    unsafe { wht_inner(x.as_mut_ptr(), x.len(), scale) }
}

/// SIMD128 twin of [`super::wht_scalar::wht_f64`].
pub fn wht_f64(x: &mut [f64], scale: f64) {
    super::check_wht_len(x.len());
    if x.len() < 16 {
        return super::wht_scalar::wht_f64(x, scale);
    }
    // SAFETY: as in `wht_f32`.
    unsafe { wht_inner(x.as_mut_ptr(), x.len(), scale) }
}

//! Scalar reference of the fast Walsh–Hadamard kernels (see [`super::wht_f32`] for the
//! contract). Same blocked schedule as the SIMD128 twin so the two builds are compared like for
//! like: blocks of [`super::WHT_BLOCK_BYTES`] get all their small-stride stages while in L1
//! (first 4 stages on 16 values in registers, then radix-8/4/2 passes), then the strides ≥ block
//! run as radix-8 passes over the whole array (3 stages per memory sweep).

use core::ops::{Add, Mul, Sub};

/// The element types of the WHT kernels.
pub trait WhtElem: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> {}
impl WhtElem for f32 {}
impl WhtElem for f64 {}

/// Unnormalised natural-order WHT of `x` (length a power of two, or 0), every output times `scale`.
pub fn wht<T: WhtElem>(x: &mut [T], scale: T) {
    let n = x.len();
    super::check_wht_len(n);
    if n < 16 {
        small(x, scale);
        return;
    }
    let block = n.min(super::WHT_BLOCK_BYTES / core::mem::size_of::<T>());
    for b in x.chunks_exact_mut(block) {
        for g in b.chunks_exact_mut(16) {
            first4(g.try_into().unwrap(), scale);
        }
        passes(b, 16);
    }
    passes(x, block);
}

/// f32 entry point (scalar twin of the SIMD128 kernel).
pub fn wht_f32(x: &mut [f32], scale: f32) {
    wht(x, scale)
}

/// f64 entry point (scalar twin of the SIMD128 kernel).
pub fn wht_f64(x: &mut [f64], scale: f64) {
    wht(x, scale)
}

fn small<T: WhtElem>(x: &mut [T], scale: T) {
    let n = x.len();
    for v in x.iter_mut() {
        *v = *v * scale;
    }
    let mut h = 1;
    while h < n {
        for base in (0..n).step_by(2 * h) {
            for j in base..base + h {
                let (a, b) = (x[j], x[j + h]);
                x[j] = a + b;
                x[j + h] = a - b;
            }
        }
        h *= 2;
    }
}

/// Stages with strides 1, 2, 4, 8 on 16 values.
#[inline(always)]
fn first4<T: WhtElem>(g: &mut [T; 16], scale: T) {
    let mut v = [g[0]; 16];
    for i in 0..16 {
        v[i] = g[i] * scale;
    }
    let mut h = 1;
    while h < 16 {
        for base in (0..16).step_by(2 * h) {
            for j in base..base + h {
                let (a, b) = (v[j], v[j + h]);
                v[j] = a + b;
                v[j + h] = a - b;
            }
        }
        h *= 2;
    }
    *g = v;
}

/// All stages with strides `s0, 2·s0, …, x.len()/2`, three at a time.
fn passes<T: WhtElem>(x: &mut [T], s0: usize) {
    let n = x.len();
    let mut s = s0;
    while s < n {
        let left = (n / s).trailing_zeros();
        match left {
            1 => radix2(x, s),
            2 => radix4(x, s),
            _ => radix8(x, s),
        }
        s <<= left.min(3);
    }
}

#[inline(always)]
fn bf<T: WhtElem>(a: T, b: T) -> (T, T) {
    (a + b, a - b)
}

fn radix2<T: WhtElem>(x: &mut [T], s: usize) {
    for g in x.chunks_exact_mut(2 * s) {
        let (lo, hi) = g.split_at_mut(s);
        for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
            (*a, *b) = bf(*a, *b);
        }
    }
}

fn radix4<T: WhtElem>(x: &mut [T], s: usize) {
    for g in x.chunks_exact_mut(4 * s) {
        let (p01, p23) = g.split_at_mut(2 * s);
        let (p0, p1) = p01.split_at_mut(s);
        let (p2, p3) = p23.split_at_mut(s);
        // Equal-length slices: no bounds checks in the loop, so it vectorises natively.
        let (p1, p2, p3) = (
            &mut p1[..p0.len()],
            &mut p2[..p0.len()],
            &mut p3[..p0.len()],
        );
        for j in 0..p0.len() {
            let (a0, a1) = bf(p0[j], p1[j]);
            let (a2, a3) = bf(p2[j], p3[j]);
            (p0[j], p2[j]) = bf(a0, a2);
            (p1[j], p3[j]) = bf(a1, a3);
        }
    }
}

fn radix8<T: WhtElem>(x: &mut [T], s: usize) {
    for g in x.chunks_exact_mut(8 * s) {
        let (lo, hi) = g.split_at_mut(4 * s);
        let (p01, p23) = lo.split_at_mut(2 * s);
        let (p45, p67) = hi.split_at_mut(2 * s);
        let (p0, p1) = p01.split_at_mut(s);
        let (p2, p3) = p23.split_at_mut(s);
        let (p4, p5) = p45.split_at_mut(s);
        let (p6, p7) = p67.split_at_mut(s);
        let m = p0.len();
        let (p1, p2, p3) = (&mut p1[..m], &mut p2[..m], &mut p3[..m]);
        let (p4, p5, p6, p7) = (&mut p4[..m], &mut p5[..m], &mut p6[..m], &mut p7[..m]);
        for j in 0..m {
            // Same butterfly order as the SIMD128 twin: strides 1, 2, 4 across the 8 values.
            let (a0, a1) = bf(p0[j], p1[j]);
            let (a2, a3) = bf(p2[j], p3[j]);
            let (a4, a5) = bf(p4[j], p5[j]);
            let (a6, a7) = bf(p6[j], p7[j]);
            let (b0, b2) = bf(a0, a2);
            let (b1, b3) = bf(a1, a3);
            let (b4, b6) = bf(a4, a6);
            let (b5, b7) = bf(a5, a7);
            (p0[j], p4[j]) = bf(b0, b4);
            (p1[j], p5[j]) = bf(b1, b5);
            (p2[j], p6[j]) = bf(b2, b6);
            (p3[j], p7[j]) = bf(b3, b7);
        }
    }
}

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
        for j in 0..s {
            let (a0, a1) = bf(g[j], g[j + s]);
            let (a2, a3) = bf(g[j + 2 * s], g[j + 3 * s]);
            (g[j], g[j + 2 * s]) = bf(a0, a2);
            (g[j + s], g[j + 3 * s]) = bf(a1, a3);
        }
    }
}

fn radix8<T: WhtElem>(x: &mut [T], s: usize) {
    for g in x.chunks_exact_mut(8 * s) {
        for j in 0..s {
            let mut v = [g[j]; 8];
            for (m, vm) in v.iter_mut().enumerate() {
                *vm = g[j + m * s];
            }
            let mut h = 1;
            while h < 8 {
                for base in (0..8).step_by(2 * h) {
                    for k in base..base + h {
                        (v[k], v[k + h]) = bf(v[k], v[k + h]);
                    }
                }
                h *= 2;
            }
            for (m, vm) in v.iter().enumerate() {
                g[j + m * s] = *vm;
            }
        }
    }
}

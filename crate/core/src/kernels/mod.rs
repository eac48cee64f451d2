//! Hot loops, the only place with `core::arch`.
//!
//! [`scalar`] is the reference; [`simd128`] (wasm32 with `+simd128` only) has the same functions
//! with explicit `v128` code. The dispatching functions here pick SIMD128 when the build has it.
//!
//! ## Gram tile kernel
//! A block of `kc` rows of a matrix `A` (`kc ≤` [`GRAM_KC`]) is packed into column panels of width
//! [`GRAM_NR`] = 8: panel `p` holds `A[r, 8p + c]` at `panel[r·8 + c]` (zero-padded past the last
//! column). For a tile of 4 rows `i..i+4` of `G = AᵀA` and the 8 columns of panel `q`, the kernel
//! computes, **in f32**, `acc[t][c] = Σ_{r<kc} a[r·8 + t] · b[r·8 + c]` (`a` = panel `i/8` offset by
//! `i mod 8`, `b` = panel `q`) and then adds `acc` to the f64 output tile. Short f32 sums (≤ 128
//! terms) followed by f64 accumulation keep the Gram accurate to ≈ 1e-6 relative per entry
//! while running at f32 SIMD speed.

pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;
pub mod wht_scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod wht_simd128;
#[cfg(target_arch = "x86_64")]
pub mod x86;

/// Rows per packed block: the length of the f32 partial sums.
pub const GRAM_KC: usize = 128;
/// Panel width (columns of `G` per tile).
pub const GRAM_NR: usize = 8;
/// Tile height (rows of `G` per tile).
pub const GRAM_MR: usize = 4;

/// Which implementation [`gram_tile8_f32`] uses in this build on this CPU.
pub fn gram_kernel_name() -> &'static str {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        "simd128"
    }
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx2_fma() {
            return "avx2+fma";
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        "scalar"
    }
}

/// A full 8×8 tile (rows `0..8` of panel `a`, all 8 columns of panel `b`): the contract of
/// [`gram_tile_f32`] for `t < 8`. On x86-64 with AVX2 + FMA (detected at run time) one fused
/// kernel ([`x86::gram_tile8_f32_avx2`]); elsewhere two 4-row tiles.
#[inline]
pub fn gram_tile8_f32(a: &[f32], b: &[f32], kc: usize, out: &mut [f64], out_stride: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe { x86::gram_tile8_f32_avx2(a, b, kc, out, out_stride) };
            return;
        }
    }
    if kc == 0 {
        return;
    }
    gram_tile_f32(a, b, kc, out, out_stride);
    gram_tile_f32(
        &a[GRAM_MR..],
        b,
        kc,
        &mut out[GRAM_MR * out_stride..],
        out_stride,
    );
}

/// Which implementation [`gram_tile8_f64`] (the exact Gram's kernel) uses in this build on this CPU.
pub fn gram_exact_kernel_name() -> &'static str {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        "simd128 f64x2"
    }
    #[cfg(target_arch = "x86_64")]
    {
        match x86::exact_level() {
            x86::ExactLevel::Avx512 => return "avx512f",
            x86::ExactLevel::Avx2Fma => return "avx2+fma",
            x86::ExactLevel::Scalar => {}
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        "scalar"
    }
}

/// Exact Gram tile: `out[t·out_stride + c] += Σ_{r<kc} a[r·8 + t]·b[r·8 + c]` for `t, c < 8`, over
/// panels of **f64** values that are widened f32 (the packing widens). Each product of two f32 is
/// exact in f64 (24 + 24 bits ≤ 53), so fused and unfused multiply-adds round identically: the
/// sum is formed in f64 in row order (`acc = 0; acc += a·b` for `r = 0..kc`, then `out += acc`)
/// by every implementation, and all of them (scalar, AVX2+FMA, AVX-512F, SIMD128) give the same
/// bits. Panics (a programming error) if the slices are too short.
#[inline]
pub fn gram_tile8_f64(a: &[f64], b: &[f64], kc: usize, out: &mut [f64], out_stride: usize) {
    check_tile8_f64(a, b, kc, out, out_stride);
    if kc == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        match x86::exact_level() {
            // SAFETY: the CPU has the features (checked by exact_level); lengths checked above.
            x86::ExactLevel::Avx512 => {
                return unsafe { x86::gram_tile8_f64_avx512(a, b, kc, out, out_stride) }
            }
            x86::ExactLevel::Avx2Fma => {
                return unsafe { x86::gram_tile8_f64_avx2(a, b, kc, out, out_stride) }
            }
            x86::ExactLevel::Scalar => {}
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd128::gram_tile8_f64(a, b, kc, out, out_stride)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        scalar::gram_tile8_f64(a, b, kc, out, out_stride)
    }
}

pub(crate) fn check_tile8_f64(a: &[f64], b: &[f64], kc: usize, out: &[f64], out_stride: usize) {
    assert!(a.len() >= kc * GRAM_NR, "gram tile f64: a too short");
    assert!(b.len() >= kc * GRAM_NR, "gram tile f64: b too short");
    assert!(
        out_stride >= GRAM_NR && out.len() >= (GRAM_NR - 1) * out_stride + GRAM_NR,
        "gram tile f64: out too short"
    );
}

/// `out[t·out_stride + c] += Σ_{r<kc} a[r·8 + t]·b[r·8 + c]` for `t < 4`, `c < 8`, summed in f32.
///
/// Panics (a programming error, never user input) if the slices are too short.
#[inline]
pub fn gram_tile_f32(a: &[f32], b: &[f32], kc: usize, out: &mut [f64], out_stride: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd128::gram_tile_f32(a, b, kc, out, out_stride)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        scalar::gram_tile_f32(a, b, kc, out, out_stride)
    }
}

/// `Σ x[i]·y[i]` in f32 with independent partial sums (8 lanes), f64 result.
#[inline]
pub fn dot_f32(x: &[f32], y: &[f32]) -> f64 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd128::dot_f32(x, y)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        scalar::dot_f32(x, y)
    }
}

pub(crate) fn check_tile_lengths(a: &[f32], b: &[f32], kc: usize, out: &[f64], out_stride: usize) {
    assert!(
        kc == 0 || a.len() >= (kc - 1) * GRAM_NR + GRAM_MR,
        "gram tile: a too short"
    );
    assert!(b.len() >= kc * GRAM_NR, "gram tile: b too short");
    assert!(
        out.len() >= (GRAM_MR - 1) * out_stride + GRAM_NR,
        "gram tile: out too short"
    );
}

/// In-cache block of the Walsh–Hadamard kernels (bytes): all strides below it run per block.
pub const WHT_BLOCK_BYTES: usize = 16 * 1024;

pub(crate) fn check_wht_len(n: usize) {
    assert!(
        n == 0 || n.is_power_of_two(),
        "WHT length {n} is not a power of two"
    );
}

/// Unnormalised natural-order fast Walsh–Hadamard transform in place, times `scale`:
/// `x_i ← scale · Σ_j (−1)^{popcount(i & j)} x_j`. Length a power of two (or 0); panics otherwise
/// (callers validate). SIMD128 (`f32x4` butterflies) when the build has it, else [`wht_scalar`].
#[inline]
pub fn wht_f32(x: &mut [f32], scale: f32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        wht_simd128::wht_f32(x, scale)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        wht_scalar::wht_f32(x, scale)
    }
}

/// f64 version of [`wht_f32`] (`f64x2` butterflies under SIMD128).
#[inline]
pub fn wht_f64(x: &mut [f64], scale: f64) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        wht_simd128::wht_f64(x, scale)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        wht_scalar::wht_f64(x, scale)
    }
}

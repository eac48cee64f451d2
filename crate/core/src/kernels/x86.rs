//! x86-64 AVX2 + FMA Gram tile kernel, chosen at run time (`is_x86_feature_detected!`) by
//! [`super::gram_tile8_f32`]; the scalar twin is used when the CPU lacks either feature.
//!
//! Same contract as the scalar kernel, for a full 8×8 tile: `out[t·out_stride + c] +=
//! Σ_{r<kc} a[r·8 + t]·b[r·8 + c]` for `t, c < 8`, summed in f32 over the (≤ 128) rows of the
//! block and added to the f64 output. Differences from the scalar twin: each product is fused
//! into the sum (FMA, one rounding instead of two), so the two agree to the f32 rounding of a
//! `kc`-term sum (≈ kc·2⁻²⁴·Σ|a·b| per entry), not bit for bit.
//!
//! AVX-512 is not used: an 8-column panel is exactly one 256-bit register, and a 16-wide
//! kernel would need 16-column panels (a different packing) for the same per-row work.

use super::{check_tile_lengths, GRAM_MR, GRAM_NR};
use core::arch::x86_64::*;

/// Whether [`super::gram_tile8_f32`] uses [`gram_tile8_f32_avx2`]: the CPU has AVX2 and FMA and
/// the environment variable `SPECTRALAB_GRAM_SCALAR` is not set (a switch for benchmarks that
/// compare the two kernels in one binary). Decided once per process.
#[inline]
pub fn has_avx2_fma() -> bool {
    static USE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *USE.get_or_init(|| {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && std::env::var_os("SPECTRALAB_GRAM_SCALAR").is_none()
    })
}

/// 8×8 tile with 8 `__m256` accumulators. Caller must have checked [`has_avx2_fma`].
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gram_tile8_f32_avx2(
    a: &[f32],
    b: &[f32],
    kc: usize,
    out: &mut [f64],
    out_stride: usize,
) {
    // Bounds for the full 8×8 tile: rows 0..4 and 4..8 each satisfy the 4-row contract.
    check_tile_lengths(a, b, kc, out, out_stride);
    if kc == 0 {
        return; // adds nothing
    }
    check_tile_lengths(
        &a[GRAM_MR..],
        b,
        kc,
        &out[GRAM_MR * out_stride..],
        out_stride,
    );
    let (ap, bp) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); GRAM_NR];
    for r in 0..kc {
        // SAFETY: r·8 + 7 < kc·8 ≤ len(b) and r·8 + 7 ≤ (kc−1)·8 + 4 + 3 < len(a) (checked).
        let bv = _mm256_loadu_ps(bp.add(r * GRAM_NR));
        let arow = ap.add(r * GRAM_NR);
        for (t, acc_t) in acc.iter_mut().enumerate() {
            let at = _mm256_broadcast_ss(&*arow.add(t));
            *acc_t = _mm256_fmadd_ps(at, bv, *acc_t);
        }
    }
    for (t, acc_t) in acc.iter().enumerate() {
        let o = out.as_mut_ptr().add(t * out_stride);
        let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(*acc_t));
        let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(*acc_t));
        _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), lo));
        _mm256_storeu_pd(o.add(4), _mm256_add_pd(_mm256_loadu_pd(o.add(4)), hi));
    }
}

/// Which exact (f64) Gram kernel this CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactLevel {
    Avx512,
    Avx2Fma,
    Scalar,
}

/// The best exact-Gram kernel for this CPU (AVX-512F, else AVX2+FMA, else scalar), decided once
/// per process. `SPECTRALAB_GRAM_SCALAR` forces scalar; `SPECTRALAB_NO_AVX512` skips AVX-512
/// (switches for benchmarks that compare the kernels in one binary).
#[inline]
pub fn exact_level() -> ExactLevel {
    static LEVEL: std::sync::OnceLock<ExactLevel> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        if std::env::var_os("SPECTRALAB_GRAM_SCALAR").is_some() {
            ExactLevel::Scalar
        } else if is_x86_feature_detected!("avx512f")
            && std::env::var_os("SPECTRALAB_NO_AVX512").is_none()
        {
            ExactLevel::Avx512
        } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            ExactLevel::Avx2Fma
        } else {
            ExactLevel::Scalar
        }
    })
}

/// Exact 8×8 tile ([`super::gram_tile8_f64`]) with 8 `__m512d` accumulators: one panel row is
/// one register, each `a` value a broadcast.
///
/// # Safety
/// The CPU must support AVX-512F, and the slices must satisfy `check_tile8_f64`.
#[target_feature(enable = "avx512f")]
pub unsafe fn gram_tile8_f64_avx512(
    a: &[f64],
    b: &[f64],
    kc: usize,
    out: &mut [f64],
    out_stride: usize,
) {
    let (ap, bp) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_pd(); GRAM_NR];
    for r in 0..kc {
        let bv = _mm512_loadu_pd(bp.add(r * GRAM_NR));
        let arow = ap.add(r * GRAM_NR);
        for (t, acc_t) in acc.iter_mut().enumerate() {
            *acc_t = _mm512_fmadd_pd(_mm512_set1_pd(*arow.add(t)), bv, *acc_t);
        }
    }
    for (t, acc_t) in acc.iter().enumerate() {
        let o = out.as_mut_ptr().add(t * out_stride);
        _mm512_storeu_pd(o, _mm512_add_pd(_mm512_loadu_pd(o), *acc_t));
    }
}

/// Exact 8×8 tile with AVX2+FMA: two passes of 4 rows × 8 columns (8 `__m256d` accumulators).
///
/// # Safety
/// The CPU must support AVX2 and FMA, and the slices must satisfy `check_tile8_f64`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gram_tile8_f64_avx2(
    a: &[f64],
    b: &[f64],
    kc: usize,
    out: &mut [f64],
    out_stride: usize,
) {
    let (ap, bp) = (a.as_ptr(), b.as_ptr());
    for half in 0..2 {
        let mut acc = [[_mm256_setzero_pd(); 2]; GRAM_MR];
        for r in 0..kc {
            let b0 = _mm256_loadu_pd(bp.add(r * GRAM_NR));
            let b1 = _mm256_loadu_pd(bp.add(r * GRAM_NR + 4));
            let arow = ap.add(r * GRAM_NR + half * GRAM_MR);
            for (t, acc_t) in acc.iter_mut().enumerate() {
                let at = _mm256_broadcast_sd(&*arow.add(t));
                acc_t[0] = _mm256_fmadd_pd(at, b0, acc_t[0]);
                acc_t[1] = _mm256_fmadd_pd(at, b1, acc_t[1]);
            }
        }
        for (t, acc_t) in acc.iter().enumerate() {
            let o = out.as_mut_ptr().add((half * GRAM_MR + t) * out_stride);
            _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), acc_t[0]));
            _mm256_storeu_pd(o.add(4), _mm256_add_pd(_mm256_loadu_pd(o.add(4)), acc_t[1]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avx2_tile_matches_scalar_within_f32_sum_rounding() {
        if !has_avx2_fma() {
            eprintln!("no AVX2+FMA on this CPU: kernel not exercised");
            return;
        }
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        };
        for &kc in &[0usize, 1, 3, 8, 77, 128] {
            let a: Vec<f32> = (0..kc * GRAM_NR).map(|_| next()).collect();
            let b: Vec<f32> = (0..kc * GRAM_NR).map(|_| next()).collect();
            let stride = 11; // a ragged output stride
            let init: Vec<f64> = (0..GRAM_NR * stride).map(|i| i as f64 * 0.25).collect();
            let mut got = init.clone();
            let mut want = init.clone();
            // SAFETY: features checked above.
            unsafe { gram_tile8_f32_avx2(&a, &b, kc, &mut got, stride) };
            if kc > 0 {
                super::super::scalar::gram_tile_f32(&a, &b, kc, &mut want, stride);
                super::super::scalar::gram_tile_f32(
                    &a[GRAM_MR..],
                    &b,
                    kc,
                    &mut want[GRAM_MR * stride..],
                    stride,
                );
            }
            for t in 0..GRAM_NR {
                for c in 0..stride {
                    let i = t * stride + c;
                    if c >= GRAM_NR {
                        assert_eq!(got[i], init[i], "wrote outside the tile");
                        continue;
                    }
                    let abs: f64 = (0..kc)
                        .map(|r| (a[r * 8 + t] as f64 * b[r * 8 + c] as f64).abs())
                        .sum();
                    let exact: f64 = (0..kc)
                        .map(|r| a[r * 8 + t] as f64 * b[r * 8 + c] as f64)
                        .sum::<f64>()
                        + init[i];
                    let bound = kc as f64 * f32::EPSILON as f64 * abs + 1e-12;
                    assert!((got[i] - exact).abs() <= bound, "avx2 kc={kc} ({t},{c})");
                    assert!((got[i] - want[i]).abs() <= 2.0 * bound, "vs scalar kc={kc}");
                }
            }
        }
    }

    #[test]
    fn exact_kernels_give_the_scalar_bits() {
        let mut seed = 0x2545f4914f6cdd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // f32 values of many magnitudes, widened: products are exact in f64.
            let m = (seed >> 40) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
            (m * 2f32.powi((seed % 40) as i32 - 20)) as f64
        };
        for &kc in &[0usize, 1, 5, 128] {
            let a: Vec<f64> = (0..kc * GRAM_NR).map(|_| next()).collect();
            let b: Vec<f64> = (0..kc * GRAM_NR).map(|_| next()).collect();
            let stride = 13;
            let init: Vec<f64> = (0..GRAM_NR * stride).map(|i| i as f64 * 0.5).collect();
            let mut want = init.clone();
            super::super::scalar::gram_tile8_f64(&a, &b, kc, &mut want, stride);
            for t in 0..GRAM_NR {
                for c in 0..GRAM_NR {
                    let mut s = 0.0;
                    for r in 0..kc {
                        s += a[r * 8 + t] * b[r * 8 + c];
                    }
                    assert_eq!(want[t * stride + c], init[t * stride + c] + s, "scalar");
                }
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                let mut got = init.clone();
                // SAFETY: features checked; lengths as the contract asks.
                unsafe { gram_tile8_f64_avx2(&a, &b, kc, &mut got, stride) };
                assert_eq!(got, want, "avx2 kc={kc}");
            }
            if is_x86_feature_detected!("avx512f") {
                let mut got = init.clone();
                // SAFETY: as above.
                unsafe { gram_tile8_f64_avx512(&a, &b, kc, &mut got, stride) };
                assert_eq!(got, want, "avx512 kc={kc}");
            } else {
                eprintln!("no AVX-512F on this CPU: kernel not exercised");
            }
        }
    }
}

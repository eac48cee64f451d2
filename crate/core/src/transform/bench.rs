//! Timing of the transform kernels for benchmark scripts (cargo feature `bench`; the shipped
//! wasm builds leave it out). The clock is the caller's (`performance.now()` in wasm,
//! `Instant` natively), so the kernels are timed where they run, without copies across a
//! language boundary.

use super::{fwht, Complex, DctKind, DctPlan, FftDirection, FftPlan, RealFftPlan, WhtParams};
use crate::{Error, Result};

/// A kernel [`bench_kernel`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchKernel {
    /// Complex f32 FFT of length `n`, in place, planned once.
    Fft,
    /// Real f32 FFT of length `n`.
    Rfft,
    /// Unnormalised natural-order f32 WHT of length `n` (a power of two).
    Wht,
    /// Orthonormal DCT-II along `rows` rows of length `n`.
    Dct,
}

impl std::str::FromStr for BenchKernel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fft" => Ok(BenchKernel::Fft),
            "rfft" => Ok(BenchKernel::Rfft),
            "wht" => Ok(BenchKernel::Wht),
            "dct" => Ok(BenchKernel::Dct),
            k => Err(Error::Input {
                what: format!("benchTransform: unknown kind `{k}` (fft | rfft | wht | dct)"),
            }),
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// Deterministic f32 data in [−½, ½).
fn data(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i as f32) * 0.618_034).fract() - 0.5)
        .collect()
}

/// Median of `reps` (clamped to 1..=1000) timed runs of `kernel` after one warm-up, in the
/// units of `now` (milliseconds from `performance.now()`). `rows` (default 4096) is for the DCT.
pub fn bench_kernel(
    kernel: BenchKernel,
    n: usize,
    reps: usize,
    rows: Option<usize>,
    now: &mut dyn FnMut() -> f64,
) -> Result<f64> {
    if n == 0 || n > 1 << 24 {
        return Err(Error::Input {
            what: format!("benchTransform: length must be 1..={}, got {n}", 1 << 24),
        });
    }
    let reps = reps.clamp(1, 1000);
    let mut times = Vec::with_capacity(reps);
    let mut time = |r: usize, f: &mut dyn FnMut() -> Result<()>| -> Result<()> {
        let t0 = now();
        f()?;
        let dt = now() - t0;
        if r > 0 {
            times.push(dt);
        }
        Ok(())
    };
    match kernel {
        BenchKernel::Fft => {
            let plan = FftPlan::<f32>::new(n, FftDirection::Forward);
            let src: Vec<Complex<f32>> = data(2 * n)
                .chunks_exact(2)
                .map(|p| Complex::new(p[0], p[1]))
                .collect();
            let mut buf = src.clone();
            let mut scratch = vec![Complex::new(0.0f32, 0.0); plan.scratch_len()];
            for r in 0..=reps {
                buf.copy_from_slice(&src);
                time(r, &mut || {
                    plan.process_with_scratch(&mut buf, &mut scratch);
                    Ok(())
                })?;
            }
        }
        BenchKernel::Rfft => {
            let plan = RealFftPlan::<f32>::new(n);
            let src = data(n);
            for r in 0..=reps {
                time(r, &mut || {
                    std::hint::black_box(plan.forward(&src));
                    Ok(())
                })?;
            }
        }
        BenchKernel::Wht => {
            if !n.is_power_of_two() {
                return Err(Error::Input {
                    what: format!("benchTransform: WHT length must be a power of two, got {n}"),
                });
            }
            let src = data(n);
            let mut buf = src.clone();
            let params = WhtParams::default();
            for r in 0..=reps {
                buf.copy_from_slice(&src);
                time(r, &mut || fwht(&mut buf, &params))?;
            }
        }
        BenchKernel::Dct => {
            let total = rows
                .unwrap_or(4096)
                .max(1)
                .checked_mul(n)
                .filter(|&t| t <= 1 << 26)
                .ok_or_else(|| Error::Input {
                    what: "benchTransform: rows × n too large".into(),
                })?;
            let src = data(total);
            let mut buf = src.clone();
            let plan = DctPlan::<f32>::new(DctKind::Dct2, n);
            let mut scratch = plan.make_scratch();
            for r in 0..=reps {
                buf.copy_from_slice(&src);
                time(r, &mut || plan.process_with_scratch(&mut buf, &mut scratch))?;
            }
        }
    }
    Ok(median(times))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_a_counting_clock() {
        // A clock that advances 1 per call: every timed run measures exactly 1.
        let mut t = 0.0;
        let mut clock = || {
            t += 1.0;
            t
        };
        for k in ["fft", "rfft", "wht", "dct"] {
            let k: BenchKernel = k.parse().unwrap();
            assert_eq!(bench_kernel(k, 64, 3, Some(4), &mut clock).unwrap(), 1.0);
        }
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), 2.5);
        let e = bench_kernel(BenchKernel::Wht, 6, 1, None, &mut clock).unwrap_err();
        assert!(e.to_string().contains("power of two"));
        assert!("fht".parse::<BenchKernel>().is_err());
    }
}

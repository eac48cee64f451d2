//! The transform explorer as the bindings serve it: test signals, the magnitude spectrum of a
//! signal or vector under the FFT, DCT-II, Walsh–Hadamard or randomized Hadamard transform, and
//! energy compaction curves.
//!
//! [`TransformKind`]: `fft` (magnitudes of the `⌊n/2⌋ + 1` non-negative frequencies of the real
//! input, unnormalised), `dct` (|orthonormal DCT-II|), `wht` (|orthonormal WHT|, input
//! zero-padded to a power of two; `order` natural or sequency, default sequency), `rht`
//! (|randomized Hadamard `(1/√n) H D x`| with `seed`, natural order, zero-padded).

use ndarray::ArrayView2;
use serde::Serialize;

use super::options::{SignalKind, SpectrumOptions, TransformKind, VectorOptions, WhtOrderOption};
use crate::transform::{
    energy_compaction_matrix, energy_compaction_signal, fwht, rfft, test_signal, DctKind, DctPlan,
    RandomizedHadamard, TestSignal, WhtOrder, WhtParams,
};
use crate::{Error, Result};

/// Largest length the explorer accepts (2^24 values).
pub const MAX_LEN: usize = 1 << 24;

fn input(what: String) -> Error {
    Error::Input { what }
}

/// `n` must be `1..=MAX_LEN`; `what` names the caller in the error.
pub fn check_len(what: &str, n: usize) -> Result<()> {
    if n == 0 || n > MAX_LEN {
        return Err(input(format!(
            "{what}: length must be 1..={MAX_LEN}, got {n}"
        )));
    }
    Ok(())
}

fn seed_of(seed: Option<f64>) -> u64 {
    seed.unwrap_or(0.0).clamp(0.0, 2f64.powi(53)) as u64
}

/// `(index, magnitude)` of `x` under `kind` (see the module docs).
pub fn magnitude_spectrum(
    x: &[f64],
    kind: TransformKind,
    order: Option<WhtOrderOption>,
    seed: Option<f64>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(input(format!("value {i} is {}, not a finite number", x[i])));
    }
    let n = x.len();
    let mag: Vec<f64> = match kind {
        TransformKind::Fft => rfft(x).iter().map(|c| c.norm()).collect(),
        TransformKind::Dct => {
            let mut d = x.to_vec();
            DctPlan::<f64>::new(DctKind::Dct2, n).process(&mut d)?;
            d.iter().map(|v| v.abs()).collect()
        }
        TransformKind::Wht | TransformKind::Rht => {
            let mut w = x.to_vec();
            w.resize(n.next_power_of_two(), 0.0);
            if kind == TransformKind::Wht {
                let order = match order.unwrap_or(WhtOrderOption::Sequency) {
                    WhtOrderOption::Sequency => WhtOrder::Sequency,
                    WhtOrderOption::Natural => WhtOrder::Natural,
                };
                fwht(
                    &mut w,
                    &WhtParams {
                        order,
                        orthonormal: true,
                    },
                )?;
            } else {
                RandomizedHadamard::new(w.len(), seed_of(seed))?.apply(&mut w)?;
            }
            w.iter().map(|v| v.abs()).collect()
        }
    };
    let index = (0..mag.len()).map(|i| i as f64).collect();
    Ok((index, mag))
}

/// `n` samples of a test signal spanning one second at sample rate `n` (frequencies in cycles
/// per signal): `chirp` 0 → n/4, `square` (n/128 cycles, duty 1/2), `noise` (seeded), `tones`
/// (three sines).
pub fn signal(kind: SignalKind, n: usize, seed: Option<f64>) -> Result<Vec<f64>> {
    check_len("testSignal", n)?;
    let nf = n as f64;
    let s = match kind {
        SignalKind::Chirp => TestSignal::Chirp {
            f0: 0.0,
            f1: nf / 4.0,
        },
        SignalKind::Square => TestSignal::Square {
            freq: (nf / 128.0).max(1.0),
            duty: 0.5,
        },
        SignalKind::Noise => TestSignal::Noise {
            seed: seed_of(seed),
        },
        SignalKind::Tones => TestSignal::Tones {
            freqs: vec![nf * 0.02, nf * 0.07, nf * 0.18],
            amps: vec![1.0, 0.5, 0.25],
            phases: vec![0.0, 0.5, 1.0],
        },
    };
    test_signal(&s, n, nf)
}

/// A magnitude spectrum (`signal`: the input, empty for a caller's vector).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransformSpectrum {
    pub index: Vec<f64>,
    pub magnitude: Vec<f64>,
    pub signal: Vec<f64>,
}

/// The test signal of `options` and its magnitude spectrum.
pub fn transform_spectrum(options: &SpectrumOptions) -> Result<TransformSpectrum> {
    let n = options.n.unwrap_or(1024.0);
    if !(n.fract() == 0.0 && (1.0..=MAX_LEN as f64).contains(&n)) {
        return Err(input(format!(
            "transformSpectrum: n must be an integer from 1 to {MAX_LEN}, got {n}"
        )));
    }
    let kind = options.signal.unwrap_or(SignalKind::Chirp);
    let signal = self::signal(kind, n as usize, options.seed)?;
    let (index, magnitude) = magnitude_spectrum(
        &signal,
        options.kind.unwrap_or(TransformKind::Fft),
        options.order,
        options.seed,
    )?;
    Ok(TransformSpectrum {
        index,
        magnitude,
        signal,
    })
}

/// The magnitude spectrum of a caller's vector.
pub fn transform_vector(
    data: &[f64],
    kind: TransformKind,
    options: &VectorOptions,
) -> Result<TransformSpectrum> {
    check_len("transformVector", data.len())?;
    let (index, magnitude) = magnitude_spectrum(data, kind, options.order, options.seed)?;
    Ok(TransformSpectrum {
        index,
        magnitude,
        signal: Vec::new(),
    })
}

/// Energy compaction curves (`curve[k−1]` = energy fraction in the `k` largest coefficients),
/// with the number of coefficients each basis needs for 90 % and 99 % of the energy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompactionCurves {
    pub fft: Vec<f64>,
    pub dct: Vec<f64>,
    pub wht: Vec<f64>,
    /// Empty for a signal.
    pub svd: Vec<f64>,
    pub k90: CoefficientCounts,
    pub k99: CoefficientCounts,
}

/// Per basis: the smallest `k` whose curve value reaches a fraction (None: no curve).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CoefficientCounts {
    pub fft: Option<usize>,
    pub dct: Option<usize>,
    pub wht: Option<usize>,
    pub svd: Option<usize>,
}

/// The smallest `k` with `curve[k−1] ≥ f` (curves are non-decreasing; 1e-12 slack for the
/// rounding of a curve that ends at exactly 1); the curve's length if none does; None if empty.
pub fn coefficients_for(curve: &[f64], f: f64) -> Option<usize> {
    if curve.is_empty() {
        return None;
    }
    Some(
        curve
            .iter()
            .position(|&v| v >= f - 1e-12)
            .map_or(curve.len(), |i| i + 1),
    )
}

fn counts(fft: &[f64], dct: &[f64], wht: &[f64], svd: &[f64], f: f64) -> CoefficientCounts {
    CoefficientCounts {
        fft: coefficients_for(fft, f),
        dct: coefficients_for(dct, f),
        wht: coefficients_for(wht, f),
        svd: coefficients_for(svd, f),
    }
}

/// The transform explorer's view of a `rows × cols` matrix (row-major): `magnitude` = the RMS
/// over rows of each row's magnitude spectrum, `signal` = the row norms, and the compaction
/// curves of the whole matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixSpectrum {
    pub index: Vec<f64>,
    pub magnitude: Vec<f64>,
    pub signal: Vec<f64>,
    pub curves: CompactionCurves,
}

/// Row spectra of a matrix under `kind`, their RMS over rows, the row norms and the compaction
/// curves (see [`MatrixSpectrum`]).
pub fn transform_matrix(
    data: &[f64],
    rows: usize,
    cols: usize,
    kind: TransformKind,
    options: &VectorOptions,
) -> Result<MatrixSpectrum> {
    super::embeddings::matrix_view(data, rows, cols)?;
    check_len("transformMatrix", data.len())?;
    let mut index = Vec::new();
    let mut acc: Vec<f64> = Vec::new();
    let mut signal = Vec::with_capacity(rows);
    for row in data.chunks_exact(cols) {
        let (i, m) = magnitude_spectrum(row, kind, options.order, options.seed)?;
        if acc.is_empty() {
            index = i;
            acc = vec![0.0; m.len()];
        }
        for (a, v) in acc.iter_mut().zip(&m) {
            *a += v * v;
        }
        signal.push(row.iter().map(|v| v * v).sum::<f64>().sqrt());
    }
    let magnitude = acc.iter().map(|a| (a / rows as f64).sqrt()).collect();
    Ok(MatrixSpectrum {
        index,
        magnitude,
        signal,
        curves: energy_compaction(data, rows, cols)?,
    })
}

/// Energy compaction of a `rows × cols` matrix (2-D transforms + SVD) or, when a dimension is
/// 1, of a signal (no SVD).
pub fn energy_compaction(data: &[f64], rows: usize, cols: usize) -> Result<CompactionCurves> {
    let a: ArrayView2<f64> = super::embeddings::matrix_view(data, rows, cols)?;
    check_len("energyCompaction", data.len())?;
    let c = if rows == 1 || cols == 1 {
        energy_compaction_signal(data)
    } else {
        energy_compaction_matrix(a)
    }?;
    Ok(CompactionCurves {
        k90: counts(&c.fft, &c.dct, &c.wht, &c.svd, 0.9),
        k99: counts(&c.fft, &c.dct, &c.wht, &c.svd, 0.99),
        fft: c.fft,
        dct: c.dct,
        wht: c.wht,
        svd: c.svd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficient_counts_from_curves() {
        let c = [0.5, 0.85, 0.95, 0.999, 1.0];
        assert_eq!(coefficients_for(&c, 0.9), Some(3));
        assert_eq!(coefficients_for(&c, 0.99), Some(4));
        assert_eq!(coefficients_for(&c, 0.5), Some(1));
        // Rounding slack: a curve ending at 1 − 1e-15 reaches 1.
        assert_eq!(coefficients_for(&[0.2, 1.0 - 1e-15], 1.0), Some(2));
        assert_eq!(coefficients_for(&[0.2, 0.3], 0.9), Some(2));
        assert_eq!(coefficients_for(&[], 0.9), None);
    }

    #[test]
    fn matrix_spectrum_is_the_rms_of_row_spectra() {
        // Rows: a constant (all DCT energy in coefficient 0) and an alternating ±1 row.
        let (rows, cols) = (2, 4);
        let data = [1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 1.0, -1.0];
        let o = VectorOptions::default();
        let m = transform_matrix(&data, rows, cols, TransformKind::Dct, &o).unwrap();
        let (_, a) = magnitude_spectrum(&data[..4], TransformKind::Dct, None, None).unwrap();
        let (_, b) = magnitude_spectrum(&data[4..], TransformKind::Dct, None, None).unwrap();
        for j in 0..cols {
            let want = ((a[j] * a[j] + b[j] * b[j]) / 2.0).sqrt();
            assert!((m.magnitude[j] - want).abs() < 1e-12, "{j}");
        }
        assert_eq!(m.signal, [2.0, 2.0]);
        assert_eq!(m.curves, energy_compaction(&data, rows, cols).unwrap());
        assert!(transform_matrix(&data, 3, 4, TransformKind::Dct, &o).is_err());
    }

    #[test]
    fn spectra_of_known_inputs() {
        // A constant: all energy at frequency 0 (FFT: n·c), in the first DCT/WHT coefficient.
        let x = vec![2.0; 8];
        let (i, m) = magnitude_spectrum(&x, TransformKind::Fft, None, None).unwrap();
        assert_eq!(i, [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert!((m[0] - 16.0).abs() < 1e-12 && m[1..].iter().all(|v| v.abs() < 1e-12));
        for k in [TransformKind::Dct, TransformKind::Wht] {
            let (_, m) = magnitude_spectrum(&x, k, None, None).unwrap();
            assert!((m[0] - 2.0 * 8f64.sqrt()).abs() < 1e-12, "{k:?}");
            assert!(m[1..].iter().all(|v| v.abs() < 1e-12), "{k:?}");
        }
        // Zero-padding to a power of two; RHT keeps the norm (orthonormal).
        let x = [1.0, -2.0, 3.0];
        let (_, m) = magnitude_spectrum(&x, TransformKind::Rht, None, Some(5.0)).unwrap();
        assert_eq!(m.len(), 4);
        let e: f64 = m.iter().map(|v| v * v).sum();
        assert!((e - 14.0).abs() < 1e-12);
        let e = magnitude_spectrum(&[1.0, f64::NAN], TransformKind::Fft, None, None).unwrap_err();
        assert_eq!(e.to_string(), "value 1 is NaN, not a finite number");
    }

    #[test]
    fn explorer_entry_points() {
        let s = transform_spectrum(&SpectrumOptions::default()).unwrap();
        assert_eq!((s.signal.len(), s.magnitude.len()), (1024, 513));
        let o = SpectrumOptions {
            n: Some(1.5),
            ..Default::default()
        };
        assert!(transform_spectrum(&o)
            .unwrap_err()
            .to_string()
            .contains("integer"));
        assert!(signal(SignalKind::Noise, 0, None).is_err());
        let v = transform_vector(
            &[1.0, 0.0, 0.0, 0.0],
            TransformKind::Wht,
            &Default::default(),
        );
        let v = v.unwrap();
        assert!(v.signal.is_empty() && v.magnitude.iter().all(|m| (m - 0.5).abs() < 1e-12));
        let c = energy_compaction(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3).unwrap();
        assert_eq!(c.svd.len(), 2);
        assert!((c.svd[1] - 1.0).abs() < 1e-12);
        let c = energy_compaction(&[1.0, 2.0, 3.0], 1, 3).unwrap();
        assert!((c.fft.last().unwrap() - 1.0).abs() < 1e-12);
    }
}

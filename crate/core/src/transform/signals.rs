//! Deterministic test signals for the transforms explorer. Sample `j` sits at `t_j = j / fs`
//! (`fs` = sample rate in Hz, frequencies in Hz); the duration is `T = n / fs`.

use crate::random::SeededRng;
use crate::{Error, Result};
use std::f64::consts::PI;

/// A test signal (see [`test_signal`]).
#[derive(Debug, Clone, PartialEq)]
pub enum TestSignal {
    /// Linear chirp `sin(2π (f0 t + (f1 − f0) t² / 2T))`: frequency `f0` at `t = 0`, `f1` at `T`.
    Chirp { f0: f64, f1: f64 },
    /// Square wave of frequency `freq`: `+1` for the first `duty` fraction of each period, else `−1`.
    Square { freq: f64, duty: f64 },
    /// i.i.d. standard normal samples from [`SeededRng`]`(seed)`.
    Noise { seed: u64 },
    /// `Σ_i amps[i] · sin(2π freqs[i] t + phases[i])` (missing phases are 0).
    Tones {
        freqs: Vec<f64>,
        amps: Vec<f64>,
        phases: Vec<f64>,
    },
}

fn bad(name: &'static str, reason: String) -> Error {
    Error::InvalidParameter { name, reason }
}

/// `n` samples of `signal` at sample rate `fs > 0`. Errors on non-finite parameters, `fs ≤ 0`,
/// `duty ∉ [0, 1]` or `freqs`/`amps` of different lengths.
pub fn test_signal(signal: &TestSignal, n: usize, fs: f64) -> Result<Vec<f64>> {
    if !(fs.is_finite() && fs > 0.0) {
        return Err(bad(
            "sample_rate",
            format!("must be positive and finite, got {fs}"),
        ));
    }
    let t = |j: usize| j as f64 / fs;
    let finite = |name: &'static str, v: &[f64]| {
        if v.iter().all(|x| x.is_finite()) {
            Ok(())
        } else {
            Err(bad(name, "must be finite".into()))
        }
    };
    Ok(match signal {
        TestSignal::Chirp { f0, f1 } => {
            finite("frequency", &[*f0, *f1])?;
            let dur = n as f64 / fs;
            (0..n)
                .map(|j| {
                    let tj = t(j);
                    (2.0 * PI * (f0 * tj + (f1 - f0) * tj * tj / (2.0 * dur))).sin()
                })
                .collect()
        }
        TestSignal::Square { freq, duty } => {
            finite("frequency", &[*freq])?;
            if !(0.0..=1.0).contains(duty) {
                return Err(bad("duty", format!("must be in [0, 1], got {duty}")));
            }
            (0..n)
                .map(|j| {
                    // Phase as an exact fraction of the period where possible.
                    let ph = (freq * t(j)).rem_euclid(1.0);
                    if ph < *duty {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect()
        }
        TestSignal::Noise { seed } => {
            let mut rng = SeededRng::new(*seed);
            (0..n).map(|_| rng.normal()).collect()
        }
        TestSignal::Tones {
            freqs,
            amps,
            phases,
        } => {
            if freqs.len() != amps.len() || phases.len() > freqs.len() {
                return Err(Error::Shape {
                    expected: format!("{} amplitudes and at most that many phases", freqs.len()),
                    found: format!("{} amplitudes, {} phases", amps.len(), phases.len()),
                });
            }
            finite("frequency", freqs)?;
            finite("amplitude", amps)?;
            finite("phase", phases)?;
            (0..n)
                .map(|j| {
                    let tj = t(j);
                    freqs
                        .iter()
                        .zip(amps)
                        .enumerate()
                        .map(|(i, (f, a))| {
                            a * (2.0 * PI * f * tj + phases.get(i).copied().unwrap_or(0.0)).sin()
                        })
                        .sum()
                })
                .collect()
        }
    })
}

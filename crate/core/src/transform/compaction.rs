//! Energy compaction curves: how much of a signal's (or matrix's) energy the `k` largest
//! coefficients hold in the FFT, DCT-II, Walsh–Hadamard and SVD bases.
//!
//! `curve[k − 1] = (Σ of the k largest |c_i|²) / Σ_i |c_i|²` for `k = 1 … len`, with the
//! orthonormal version of each transform so every basis sees the same total energy `‖x‖²`
//! (Parseval). Curves are non-decreasing and end at 1; an all-zero input gives all ones.

use super::dct::{DctKind, DctPlan};
use super::fft::{fft2_inplace, FftPlan};
use super::hadamard::{fwht_rows, WhtParams};
use super::{Complex, FftDirection};
use crate::linalg;
use crate::Result;
use ndarray::{Array2, ArrayView2};

/// Compaction curves per basis (each its own length: the WHT works on the input zero-padded to
/// powers of two; the SVD has `min(rows, cols)` coefficients and is empty for a 1-D signal).
#[derive(Debug, Clone, PartialEq)]
pub struct CompactionCurves {
    pub fft: Vec<f64>,
    pub dct: Vec<f64>,
    pub wht: Vec<f64>,
    pub svd: Vec<f64>,
}

/// Sorts energies descending and returns the cumulative fractions.
pub fn compaction_curve(mut energies: Vec<f64>) -> Vec<f64> {
    energies.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = energies.iter().sum();
    let mut acc = 0.0;
    energies
        .iter()
        .map(|&e| {
            acc += e;
            if total > 0.0 {
                (acc / total).min(1.0)
            } else {
                1.0
            }
        })
        .collect()
}

fn check(x: ArrayView2<'_, f64>) -> Result<()> {
    linalg::check_finite(x)
}

/// Curves of a 1-D signal (FFT, DCT-II, WHT; `svd` empty). Error on NaN/Inf.
pub fn energy_compaction_signal(x: &[f64]) -> Result<CompactionCurves> {
    check(ArrayView2::from_shape((1, x.len()), x).expect("1 × n"))?;
    let n = x.len();
    let mut z: Vec<Complex<f64>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
    FftPlan::new(n, FftDirection::Forward).process(&mut z);
    let fft = z.iter().map(|c| c.norm_sqr() / n as f64).collect();
    let mut d = x.to_vec();
    DctPlan::new(DctKind::Dct2, n).process(&mut d)?;
    let np = n.next_power_of_two();
    let mut w = x.to_vec();
    w.resize(if n == 0 { 0 } else { np }, 0.0);
    fwht_rows(&mut w, np, &ortho())?;
    Ok(CompactionCurves {
        fft: compaction_curve(fft),
        dct: compaction_curve(d.iter().map(|v| v * v).collect()),
        wht: compaction_curve(w.iter().map(|v| v * v).collect()),
        svd: Vec::new(),
    })
}

fn ortho() -> WhtParams {
    WhtParams {
        orthonormal: true,
        ..Default::default()
    }
}

/// Curves of a matrix with 2-D transforms (rows then columns) and its singular values
/// (energies `σ_i²`). Error on NaN/Inf.
pub fn energy_compaction_matrix(a: ArrayView2<'_, f64>) -> Result<CompactionCurves> {
    check(a)?;
    let (m, n) = a.dim();
    let owned = a.as_standard_layout().to_owned();
    let flat = owned.as_slice().expect("standard layout");
    // 2-D FFT, orthonormal energies |X|²/(mn).
    let mut z: Vec<Complex<f64>> = flat.iter().map(|&v| Complex::new(v, 0.0)).collect();
    fft2_inplace(&mut z, m, n, FftDirection::Forward);
    let mn = (m * n).max(1) as f64;
    let fft = z.iter().map(|c| c.norm_sqr() / mn).collect();
    // 2-D DCT-II: rows, then columns (on the transpose).
    let mut d = flat.to_vec();
    DctPlan::new(DctKind::Dct2, n).process(&mut d)?;
    let mut dt = Array2::from_shape_vec((m, n), d)
        .expect("m × n")
        .t()
        .as_standard_layout()
        .to_owned();
    DctPlan::new(DctKind::Dct2, m).process(dt.as_slice_mut().expect("standard"))?;
    // 2-D WHT on the zero-padded (2^a × 2^b) matrix.
    let (pm, pn) = (m.next_power_of_two(), n.next_power_of_two());
    let wht = if m * n == 0 {
        Vec::new()
    } else {
        let mut w = Array2::<f64>::zeros((pm, pn));
        w.slice_mut(ndarray::s![..m, ..n]).assign(&a);
        fwht_rows(w.as_slice_mut().expect("standard"), pn, &ortho())?;
        let mut wt = w.t().as_standard_layout().to_owned();
        fwht_rows(wt.as_slice_mut().expect("standard"), pm, &ortho())?;
        wt.iter().map(|v| v * v).collect()
    };
    let svd = if m * n == 0 {
        Vec::new()
    } else {
        linalg::singular_values(a)?.iter().map(|s| s * s).collect()
    };
    Ok(CompactionCurves {
        fft: compaction_curve(fft),
        dct: compaction_curve(dt.iter().map(|v| v * v).collect()),
        wht: compaction_curve(wht),
        svd: compaction_curve(svd),
    })
}

//! A synthetic "model" whose layers have known spectra, for the lab's demo and for tests: what
//! healthy and unhealthy ESDs look like next to a real checkpoint.
//!
//! Layers (all f32, seeded, stored `out × in` like PyTorch; names say what they are):
//! - `synthetic.gaussian_mp.weight` — i.i.d. N(0, 1/N) entries, 1000 × 400: its ESD follows the
//!   Marchenko–Pastur law (no heavy tail; a power-law fit is meaningless there, α large);
//! - `synthetic.heavy_tailed_alpha{2,3,4}.weight` — 800 × 400, `W = U diag(√λ) Vᵀ` with `U`, `V`
//!   Haar-like orthonormal (QR of Gaussian matrices) and the eigenvalues `λ` of `WᵀW` drawn from a
//!   Pareto law of density `∝ λ^{−α}` on `λ ≥ 1` (`λ = u^{−1/(α−1)}`, `u ~ U(0, 1]`): the ESD
//!   is a power law with exactly that α;
//! - `synthetic.low_rank8_plus_noise.weight` — 600 × 300: a rank-8 signal (singular values
//!   30…100 on the noise scale) plus the Gaussian of the first layer: an MP bulk with 8 spikes;
//! - `synthetic.conv3x3.weight` — a 128 × 64 × 3 × 3 Gaussian conv kernel: 9 MP slices pooled.
//!
//! [`synthetic_model_safetensors`] writes them as a `.safetensors` file (F32, file order as
//! above), so every reader path of the lab handles it like a dropped file.

use crate::linalg::householder_qr;
use crate::random::SeededRng;
use crate::Result;
use ndarray::{Array2, ArrayD, IxDyn};

/// One synthetic tensor: name, what it shows, and its values.
pub struct SyntheticLayer {
    pub name: String,
    pub description: String,
    /// The α its ESD was built with (heavy-tailed layers only).
    pub alpha: Option<f64>,
    pub tensor: ArrayD<f32>,
}

fn orthonormal_columns(rng: &mut SeededRng, rows: usize, cols: usize) -> Result<Array2<f64>> {
    Ok(householder_qr(rng.gaussian_matrix(rows, cols).view())?.q)
}

fn heavy_tailed(rng: &mut SeededRng, n: usize, m: usize, alpha: f64) -> Result<Array2<f64>> {
    let u = orthonormal_columns(rng, n, m)?;
    let v = orthonormal_columns(rng, m, m)?;
    let sv: Vec<f64> = (0..m)
        .map(|_| {
            let x = 1.0 - rng.uniform(); // (0, 1]
            x.powf(-1.0 / (alpha - 1.0)).sqrt()
        })
        .collect();
    let mut us = u;
    for (mut col, s) in us.columns_mut().into_iter().zip(&sv) {
        col.mapv_inplace(|x| x * s);
    }
    Ok(us.dot(&v.t()))
}

/// The layers of the synthetic model (see the module doc), from `seed`.
pub fn synthetic_model(seed: u64) -> Result<Vec<SyntheticLayer>> {
    let mut rng = SeededRng::new(seed);
    let mut out = Vec::new();
    let gaussian = |rng: &mut SeededRng, n: usize, m: usize| {
        let s = 1.0 / (n as f64).sqrt();
        rng.gaussian_matrix(n, m).mapv(|v| v * s)
    };
    let to_dyn = |a: Array2<f64>| a.mapv(|v| v as f32).into_dyn();
    out.push(SyntheticLayer {
        name: "synthetic.gaussian_mp.weight".into(),
        description: "i.i.d. Gaussian 1000×400: Marchenko–Pastur bulk, no heavy tail".into(),
        alpha: None,
        tensor: to_dyn(gaussian(&mut rng, 1000, 400)),
    });
    for alpha in [2.0, 3.0, 4.0] {
        out.push(SyntheticLayer {
            name: format!("synthetic.heavy_tailed_alpha{alpha}.weight"),
            description: format!("800×400 with a Pareto ESD of exponent α = {alpha}"),
            alpha: Some(alpha),
            tensor: to_dyn(heavy_tailed(&mut rng, 800, 400, alpha)?),
        });
    }
    let mut lr = gaussian(&mut rng, 600, 300);
    let u = orthonormal_columns(&mut rng, 600, 8)?;
    let v = orthonormal_columns(&mut rng, 300, 8)?;
    for k in 0..8 {
        // Noise singular values are ~1 (MP edge 1 + √(300/600)); spikes 30…100.
        let s = 30.0 + 10.0 * k as f64;
        for i in 0..600 {
            for j in 0..300 {
                lr[[i, j]] += s * u[[i, k]] * v[[j, k]];
            }
        }
    }
    out.push(SyntheticLayer {
        name: "synthetic.low_rank8_plus_noise.weight".into(),
        description: "600×300 rank-8 signal + Gaussian noise: MP bulk with 8 spikes".into(),
        alpha: None,
        tensor: to_dyn(lr),
    });
    let conv: Vec<f32> = (0..128 * 64 * 9)
        .map(|_| (rng.normal() / (128.0f64 * 9.0).sqrt()) as f32)
        .collect();
    out.push(SyntheticLayer {
        name: "synthetic.conv3x3.weight".into(),
        description: "128×64×3×3 Gaussian conv kernel: 9 MP slices pooled".into(),
        alpha: None,
        tensor: ArrayD::from_shape_vec(IxDyn(&[128, 64, 3, 3]), conv)
            .expect("shape matches the data"),
    });
    Ok(out)
}

/// The synthetic model as `.safetensors` bytes (F32 little-endian, `__metadata__` describes each
/// layer).
pub fn synthetic_model_safetensors(seed: u64) -> Result<Vec<u8>> {
    let layers = synthetic_model(seed)?;
    let mut header = serde_json::Map::new();
    let mut meta = serde_json::Map::new();
    meta.insert(
        "generator".into(),
        format!("spectralab synthetic_model(seed={seed})").into(),
    );
    let mut offset = 0usize;
    for l in &layers {
        let bytes = l.tensor.len() * 4;
        header.insert(
            l.name.clone(),
            serde_json::json!({
                "dtype": "F32",
                "shape": l.tensor.shape(),
                "data_offsets": [offset, offset + bytes],
            }),
        );
        meta.insert(l.name.clone(), l.description.clone().into());
        offset += bytes;
    }
    header.insert("__metadata__".into(), serde_json::Value::Object(meta));
    let mut json = serde_json::to_vec(&serde_json::Value::Object(header)).map_err(|e| {
        crate::Error::Format {
            what: format!("synthetic header: {e}"),
        }
    })?;
    while json.len() % 8 != 0 {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for l in &layers {
        for v in l.tensor.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(out)
}

/// A deterministic `rows × cols` matrix of N(0, σ²) entries (f32, row-major) from `seed`: the
/// standard normal draws of [`SeededRng::gaussian_matrix_f32`] times `σ` (in f32). At most 2^28
/// entries.
pub fn gaussian_matrix_scaled(rows: usize, cols: usize, sigma: f64, seed: u64) -> Result<Vec<f32>> {
    rows.checked_mul(cols)
        .filter(|&n| n <= 1 << 28)
        .ok_or_else(|| crate::Error::Input {
            what: "matrix too large (more than 2^28 entries)".into(),
        })?;
    let m = SeededRng::new(seed).gaussian_matrix_f32(rows, cols);
    let s = sigma as f32;
    Ok(m.into_raw_vec_and_offset()
        .0
        .into_iter()
        .map(|v| v * s)
        .collect())
}

/// The random-matrix demo: the ESD of a Gaussian matrix with its histogram and the
/// Marchenko–Pastur density it should follow (camelCase on the wire).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoSpectrum {
    pub rows: usize,
    pub cols: usize,
    /// Eigenvalues (ascending) of the smaller Gram matrix.
    pub eigenvalues: Vec<f64>,
    pub bin_edges: Vec<f64>,
    pub counts: Vec<u64>,
    /// 401 points from the lower to the upper MP edge, and the density there.
    pub mp_x: Vec<f64>,
    pub mp_density: Vec<f64>,
    pub mp_lower: f64,
    pub mp_upper: f64,
}

/// [`DemoSpectrum`] of a `rows × cols` matrix of N(0, 1/rows) entries (at most 2^24 entries),
/// `bins` linear histogram bins; `parallel` uses the thread pool for the Gram matrix.
pub fn demo_spectrum(
    rows: usize,
    cols: usize,
    bins: usize,
    seed: u64,
    parallel: bool,
) -> Result<DemoSpectrum> {
    use crate::linalg::{gram_eigenvalues, GramParams};
    use crate::spectrum::{histogram, marchenko_pastur_bounds, marchenko_pastur_density};
    if rows == 0 || cols == 0 || rows.saturating_mul(cols) > 1 << 24 {
        return Err(crate::Error::Input {
            what: "demo size must be non-empty and at most 2^24 entries".into(),
        });
    }
    let sigma2 = 1.0 / rows as f64;
    let w = gaussian_matrix_scaled(rows, cols, sigma2.sqrt(), seed)?;
    let w = ndarray::ArrayView2::from_shape((rows, cols), &w).expect("rows × cols values");
    let eigenvalues = gram_eigenvalues(w, &GramParams { parallel })?.to_vec();
    let h = histogram(&eigenvalues, bins, false)?;
    let (lo, hi) = marchenko_pastur_bounds(rows, cols, sigma2);
    let mp_x: Vec<f64> = (0..=400)
        .map(|i| lo + (hi - lo) * i as f64 / 400.0)
        .collect();
    let mp_density = marchenko_pastur_density(&mp_x, rows, cols, sigma2);
    Ok(DemoSpectrum {
        rows,
        cols,
        eigenvalues,
        bin_edges: h.edges,
        counts: h.counts,
        mp_x,
        mp_density,
        mp_lower: lo,
        mp_upper: hi,
    })
}

#[cfg(test)]
mod demo_tests {
    use super::*;

    #[test]
    fn gaussian_matrix_is_the_seeded_draws_scaled() {
        let a = gaussian_matrix_scaled(3, 5, 2.0, 7).unwrap();
        let b = SeededRng::new(7).gaussian_matrix_f32(3, 5);
        assert_eq!(a.len(), 15);
        for (x, y) in a.iter().zip(b.iter()) {
            assert_eq!(*x, y * 2.0);
        }
        assert!(gaussian_matrix_scaled(1 << 15, 1 << 14, 1.0, 0).is_err());
    }

    #[test]
    fn demo_spectrum_follows_marchenko_pastur() {
        let d = demo_spectrum(400, 100, 20, 1, false).unwrap();
        assert_eq!(d.eigenvalues.len(), 100);
        assert_eq!(d.counts.iter().sum::<u64>(), 100);
        assert_eq!((d.mp_x.len(), d.mp_density.len()), (401, 401));
        // σ² = 1/N: MP edges (1 ± √(M/N))² = 0.25, 2.25; the extreme eigenvalues lie near them.
        assert!((d.mp_lower - 0.25).abs() < 1e-12 && (d.mp_upper - 2.25).abs() < 1e-12);
        let (min, max) = (d.eigenvalues[0], d.eigenvalues[99]);
        assert!(
            min > 0.15 && min < 0.4 && max > 1.9 && max < 2.6,
            "{min} {max}"
        );
        let e = demo_spectrum(0, 3, 10, 0, false).unwrap_err().to_string();
        assert!(e.contains("non-empty"));
    }
}

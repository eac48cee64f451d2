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

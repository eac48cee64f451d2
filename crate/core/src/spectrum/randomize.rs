//! Randomisation (WeightWatcher `randomize=True`): the ESD of `W` with its entries shuffled, which
//! destroys correlations and keeps the element distribution and ‖W‖_F.
//!
//! - `rand_evals`: ESD of the shuffled layer (each slice shuffled separately, conv ×½ as in the
//!   real ESD), pooled over 5 replicas when the layer has fewer than 100 eigenvalues, else 1;
//! - `max_rand_eval = max rand_evals`, `ww_softrank = max rand_evals / λ_max`,
//!   `ww_maxdist = λ_max − max rand_evals`;
//! - `rand_distance`: Jensen–Shannon distance (natural log) between the rank-aligned normalised
//!   spectra `p = λ/Σλ` and `q = λʳ/Σλʳ` of the layer and of a *second* single shuffle:
//!   `√(½KL(p‖m) + ½KL(q‖m))`, `m = (p + q)/2`, in `[0, √ln 2]`;
//! - an MP fit of `rand_evals` gives `rand_num_spikes` (= `num_traps`, correlation traps) etc.
//!
//! Unlike WW (unseeded `np.random.shuffle`), the shuffles come from a seeded xoshiro stream
//! ([`crate::random::SeededRng`], Fisher–Yates), so runs are reproducible.

use super::layers::{layer_slices, LayerKind};
use super::marchenko_pastur::{fit_marchenko_pastur, MpFit};
use crate::linalg::{gram_eigenvalues_mode, GramInput, GramParams};
use crate::random::SeededRng;
use crate::Result;
use ndarray::{Array2, ArrayViewD};
use serde::Serialize;

/// Randomisation columns of a layer.
#[derive(Debug, Clone, Serialize)]
pub struct RandomizeReport {
    pub max_rand_eval: f64,
    pub rand_distance: f64,
    pub ww_softrank: f64,
    pub ww_maxdist: f64,
    /// MP fit of the randomised ESD (`rand_*` columns; `num_traps = rand.num_spikes`).
    pub rand_mp: Option<MpFit>,
}

fn shuffled_esd<T: GramInput>(
    t: &ArrayViewD<'_, T>,
    kind: LayerKind,
    rng: &mut SeededRng,
    gram: &GramParams,
    exact: bool,
) -> Result<Vec<f64>> {
    let scale = if kind == LayerKind::Conv2d { 0.5 } else { 1.0 };
    let mut out = Vec::new();
    for s in layer_slices(t, kind)? {
        let mut v: Vec<T> = s.iter().copied().collect();
        for i in (1..v.len()).rev() {
            let j = (rng.uniform() * (i + 1) as f64) as usize;
            v.swap(i, j.min(i));
        }
        let w = Array2::from_shape_vec(s.dim(), v).expect("same size");
        out.extend(
            gram_eigenvalues_mode(w.view(), gram, exact)?
                .iter()
                .map(|l| (l * scale).max(0.0)),
        );
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// Jensen–Shannon distance of two non-negative vectors of equal length (normalised here).
pub fn jensen_shannon_distance(a: &[f64], b: &[f64]) -> f64 {
    let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    let kl = |p: &[f64], sp: f64| -> f64 {
        p.iter()
            .zip(a.iter().zip(b))
            .map(|(&x, (&u, &v))| {
                let px = x / sp;
                let m = 0.5 * (u / sa + v / sb);
                if px > 0.0 {
                    px * (px / m).ln()
                } else {
                    0.0
                }
            })
            .sum()
    };
    (0.5 * kl(a, sa) + 0.5 * kl(b, sb)).max(0.0).sqrt()
}

/// Randomisation analysis of a layer whose (real) ESD is `evals` (`exact`: f32 shuffles get the
/// exact Gram).
#[allow(clippy::too_many_arguments)]
pub fn randomize_layer<T: GramInput>(
    t: ArrayViewD<'_, T>,
    kind: LayerKind,
    evals: &[f64],
    n_big: usize,
    m_small: usize,
    seed: u64,
    gram: &GramParams,
    exact: bool,
) -> Result<RandomizeReport> {
    let mut rng = SeededRng::new(seed);
    let replicas = if evals.len() < 100 { 5 } else { 1 };
    let mut rand_evals = Vec::new();
    for _ in 0..replicas {
        rand_evals.extend(shuffled_esd(&t, kind, &mut rng, gram, exact)?);
    }
    rand_evals.sort_by(f64::total_cmp);
    let second = shuffled_esd(&t, kind, &mut rng, gram, exact)?;
    let lmax = evals.iter().copied().fold(0.0f64, f64::max);
    let rmax = rand_evals.iter().copied().fold(0.0f64, f64::max);
    Ok(RandomizeReport {
        max_rand_eval: rmax,
        rand_distance: jensen_shannon_distance(evals, &second),
        ww_softrank: rmax / lmax,
        ww_maxdist: lmax - rmax,
        rand_mp: fit_marchenko_pastur(&rand_evals, n_big, m_small).ok(),
    })
}

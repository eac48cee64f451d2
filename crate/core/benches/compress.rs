//! Re-planning a 200-layer model's rank budget ([`BudgetPlan::allocate`]) after its spectra are
//! known: the planner must answer a slider move in well under 50 ms natively.
//!
//! ```sh
//! cargo bench -p spectralab-core --bench compress
//! ```
//!
//! The model: 200 layers alternating 4096 × 4096 (attention) and 11008 × 4096 (MLP), i.e.
//! 4096 singular values each, with power-law spectra `σᵢ = c·i^(−a)` of per-layer exponent
//! `a ∈ [0.2, 1.0]` (seeded). `BudgetPlan::new` (sorting and tail sums) is measured separately.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use spectralab_core::compress::budget::{
    AllocationMethod, BudgetParams, BudgetPlan, BudgetTarget, LayerSpectrum,
};
use spectralab_core::compress::truncation::Spectrum;
use spectralab_core::random::SeededRng;
use std::hint::black_box;
use std::time::Duration;

/// Names, shapes and singular values of the layers.
type Model = (Vec<String>, Vec<(usize, usize)>, Vec<Vec<f64>>);

fn model() -> Model {
    let mut rng = SeededRng::new(42);
    let mut names = vec![];
    let mut shapes = vec![];
    let mut spectra = vec![];
    for i in 0..200 {
        let shape = if i % 2 == 0 {
            (4096, 4096)
        } else {
            (11008, 4096)
        };
        let a = 0.2 + 0.8 * rng.uniform();
        let c = 0.5 + rng.uniform();
        names.push(format!("model.layers.{}.w{}.weight", i / 2, i % 2));
        shapes.push(shape);
        spectra.push((1..=4096).map(|j| c * (j as f64).powf(-a)).collect());
    }
    (names, shapes, spectra)
}

fn bench(c: &mut Criterion) {
    let (names, shapes, spectra) = model();
    let layers: Vec<LayerSpectrum> = (0..names.len())
        .map(|i| LayerSpectrum {
            name: &names[i],
            rows: shapes[i].0,
            cols: shapes[i].1,
            spectrum: Spectrum::SingularValues(&spectra[i]),
        })
        .collect();
    let mut g = c.benchmark_group("budget_200_layers");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("plan_new", |b| {
        b.iter(|| BudgetPlan::new(black_box(&layers)).unwrap())
    });
    let plan = BudgetPlan::new(&layers).unwrap();
    let cases = [
        (
            "greedy_30pct",
            AllocationMethod::Greedy,
            BudgetTarget::ParamFraction(0.3),
        ),
        (
            "greedy_60pct",
            AllocationMethod::Greedy,
            BudgetTarget::ParamFraction(0.6),
        ),
        (
            "greedy_err0.2",
            AllocationMethod::Greedy,
            BudgetTarget::ErrorCeiling(0.2),
        ),
        (
            "uniform_30pct",
            AllocationMethod::Uniform,
            BudgetTarget::ParamFraction(0.3),
        ),
        (
            "energy_30pct",
            AllocationMethod::Energy,
            BudgetTarget::ParamFraction(0.3),
        ),
        (
            "welore_30pct",
            AllocationMethod::WeLore,
            BudgetTarget::ParamFraction(0.3),
        ),
    ];
    for (id, method, target) in cases {
        let p = BudgetParams {
            method,
            ..Default::default()
        };
        g.bench_function(id, |b| {
            b.iter(|| plan.allocate(black_box(target), &p).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

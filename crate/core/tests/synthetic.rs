//! The synthetic demo model: readable like any file, and its spectra are what it claims.

use spectralab_core::spectrum::analyze::{analyze_source, AnalyzeParams};
use spectralab_core::spectrum::synthetic::{synthetic_model, synthetic_model_safetensors};

#[test]
fn synthetic_model_has_the_spectra_it_claims() {
    let bytes = synthetic_model_safetensors(7).unwrap();
    let p = AnalyzeParams {
        mp_fit: true,
        ..Default::default()
    };
    let r = analyze_source(&bytes, "synthetic.safetensors", &p, |_, _, _| true).unwrap();
    let layers = synthetic_model(7).unwrap();
    assert_eq!(
        r.layers.len(),
        layers.len(),
        "every layer analysed: {:?}",
        r.skipped
    );
    for (row, l) in r.layers.iter().zip(&layers) {
        assert_eq!(row.name, l.name);
        assert_eq!(row.status, "success", "{}: {:?}", l.name, row.reason);
        if let Some(alpha) = l.alpha {
            // 400 Pareto eigenvalues: the KS-scan α lands near the exponent it was built with.
            let got = row.alpha.unwrap();
            assert!(
                (got - alpha).abs() < 0.35,
                "{}: α = {got}, built with {alpha}",
                l.name
            );
        }
    }
    let spikes = |name: &str| {
        let row = r.layers.iter().find(|l| l.name.contains(name)).unwrap();
        row.mp.as_ref().unwrap().num_spikes
    };
    // The rank-8 signal stands out of the MP bulk; pure Gaussian layers have (almost) none.
    assert!(
        (8..=10).contains(&spikes("low_rank8")),
        "{}",
        spikes("low_rank8")
    );
    assert!(spikes("gaussian_mp") <= 2, "{}", spikes("gaussian_mp"));
    // Seeded: the same bytes every time.
    assert_eq!(bytes, synthetic_model_safetensors(7).unwrap());
}

//! The comparison charts: the ESD overlay and the |⟨u_j, u_i⟩| heatmap.

use spectralab_plot::{
    esd_overlay_chart, heatmap_chart, ChartOptions, EsdOverlaySpec, HeatmapSpec,
};

fn opts() -> ChartOptions {
    ChartOptions::default()
}

#[test]
fn esd_overlay_draws_both_models_and_counts_zeros() {
    let base: Vec<f64> = (1..=200).map(|i| (i as f64).powf(1.5)).collect();
    let mut other: Vec<f64> = base.iter().map(|v| v * 1.1).collect();
    other.extend([0.0, 0.0]);
    let c = esd_overlay_chart(
        &EsdOverlaySpec {
            name: "layer.0".into(),
            base,
            other,
            base_label: Some("F32".into()),
            other_label: Some("F16".into()),
        },
        &opts(),
    )
    .unwrap();
    assert!(c.svg.contains("layer.0 — ESD, base vs other"), "title");
    assert!(c.svg.contains("F32 (200 λ)"), "base legend");
    assert!(
        c.svg.contains("F16 (200 λ, 2 zero)"),
        "other legend counts zeros"
    );
    assert!(c.x.log && c.y.log);
    // The x axis spans both models: the largest eigenvalue is the other's.
    assert!(c.x.max >= 200f64.powf(1.5) * 1.1);
    assert!(c.x.min <= 1.0);
}

#[test]
fn esd_overlay_refuses_bad_input() {
    let s = |b: Vec<f64>, o: Vec<f64>| EsdOverlaySpec {
        name: String::new(),
        base: b,
        other: o,
        base_label: None,
        other_label: None,
    };
    let e = esd_overlay_chart(&s(vec![0.0], vec![0.0, -0.0]), &opts()).unwrap_err();
    assert!(e.to_string().contains("no positive eigenvalue"), "{e}");
    let e = esd_overlay_chart(&s(vec![1.0, f64::NAN], vec![1.0]), &opts()).unwrap_err();
    assert!(e.to_string().contains("non-finite"), "{e}");
    // One side empty: the other is still drawn.
    assert!(esd_overlay_chart(&s(vec![], vec![1.0, 2.0, 3.0]), &opts()).is_ok());
}

fn spec(matrix: Vec<Vec<f64>>) -> HeatmapSpec {
    HeatmapSpec {
        title: "overlap".into(),
        x_label: "base i".into(),
        y_label: "other j".into(),
        matrix,
        vmin: 0.0,
        vmax: 1.0,
    }
}

#[test]
fn heatmap_cells_colours_and_geometry() {
    let m = vec![vec![0.0, 1.0, 0.5], vec![1.0, 0.25, 0.0]];
    let c = heatmap_chart(&spec(m), &opts()).unwrap();
    // Axes over cell indices: 3 columns, 2 rows.
    assert_eq!((c.x.min, c.x.max, c.y.min, c.y.max), (0.5, 3.5, 0.5, 2.5));
    // vmax is dark red, vmin the background; the values are printed in the cells.
    let red = "#A50F15";
    assert!(c.svg.to_uppercase().contains(red), "no vmax cell colour");
    for t in ["0.00", "1.00", "0.50", "0.25"] {
        assert!(c.svg.contains(t), "cell label {t}");
    }
    // Row 1 (j = 0) is drawn above row 2: its centre maps to the upper pixel.
    let (_, top) = c.to_pixel(1.0, 2.0);
    let (_, bottom) = c.to_pixel(1.0, 1.0);
    assert!(top < bottom);
}

#[test]
fn heatmap_refuses_bad_input() {
    for (m, want) in [
        (vec![], "empty"),
        (vec![vec![]], "empty"),
        (vec![vec![1.0], vec![1.0, 2.0]], "different lengths"),
        (vec![vec![f64::INFINITY]], "non-finite"),
    ] {
        let e = heatmap_chart(&spec(m), &opts()).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
    let mut s = spec(vec![vec![0.5]]);
    s.vmax = 0.0;
    assert!(heatmap_chart(&s, &opts())
        .unwrap_err()
        .to_string()
        .contains("vmax"));
}

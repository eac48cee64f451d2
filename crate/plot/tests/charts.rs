//! Each chart on real data: MiniLM-L6 (F16 safetensors example), analysed by the core.

use spectralab_core::spectrum::analyze::{
    analyze_planned_layer, analyze_source, plan_source, AnalyzeParams, LayerReport,
};
use spectralab_core::spectrum::farms::FarmsParams;
use spectralab_plot::{
    alpha_chart, colors, esd_chart, log_histogram, rank_chart, series_chart, ChartLayer,
    ChartOptions, ChartSvg, Series, SeriesChartSpec, SeriesStyle, Theme, ESD_BINS,
};
use std::sync::OnceLock;

fn model_bytes() -> &'static Vec<u8> {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../static/examples/minilm-l6-encoder-f16.safetensors"
        );
        std::fs::read(p).expect("static/examples/minilm-l6-encoder-f16.safetensors")
    })
}

/// The first analysed layer of MiniLM, with its ESD and an MP fit.
fn first_layer() -> &'static LayerReport {
    static L: OnceLock<LayerReport> = OnceLock::new();
    L.get_or_init(|| {
        let src = model_bytes();
        let p = AnalyzeParams {
            mp_fit: true,
            ..Default::default()
        };
        let (index, plans) = plan_source(src, "minilm.safetensors", &p).unwrap();
        let plan = plans.iter().find(|p| p.skip.is_none()).unwrap();
        let r = analyze_planned_layer(src, &index, plan, &p, true);
        assert_eq!(r.status, "success", "{r:?}");
        r
    })
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc
}

fn same_color(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

fn polylines<'a>(doc: &'a roxmltree::Document<'a>, stroke: &str) -> Vec<Vec<(f64, f64)>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline") && same_color(n.attribute("stroke"), stroke))
        .map(|n| {
            n.attribute("points")
                .unwrap()
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

fn texts(doc: &roxmltree::Document<'_>) -> String {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_geometry(c: &ChartSvg, w: u32, h: u32) {
    let p = c.plot;
    assert!(
        0 <= p.left && p.left < p.right && p.right <= w as i32,
        "{p:?}"
    );
    assert!(
        0 <= p.top && p.top < p.bottom && p.bottom <= h as i32,
        "{p:?}"
    );
    assert!(c.x.min < c.x.max && c.y.min < c.y.max);
}

#[test]
fn esd_chart_of_minilm_layer() {
    let r = first_layer();
    let layer = ChartLayer::from(r);
    let opts = ChartOptions::default();
    let c = esd_chart(&layer, &opts).unwrap();
    check_geometry(&c, opts.width, opts.height);
    let doc = parse(&c.svg);

    // One bar per non-empty bin (+1 legend swatch of the same colour).
    let ev = r.evals.as_ref().unwrap();
    let pos: Vec<f64> = ev.iter().copied().filter(|&v| v > 0.0).collect();
    let h = log_histogram(&pos, ESD_BINS).unwrap();
    let nonempty = h.counts.iter().filter(|&&c| c > 0).count();
    let bars = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && same_color(n.attribute("fill"), colors::BAR))
        .count();
    assert_eq!(bars, nonempty + 1);

    // Text: title with name, α, D; axis labels; legend.
    let t = texts(&doc);
    assert!(t.contains(&r.name), "{t}");
    assert!(t.contains(&format!("α = {:.3}", r.alpha.unwrap())), "{t}");
    assert!(t.contains(&format!("D = {:.3}", r.d.unwrap())), "{t}");
    assert!(t.contains("eigenvalue λ") && t.contains("density"), "{t}");
    assert!(
        t.contains("power law") && t.contains("x_min") && t.contains("Marchenko"),
        "{t}"
    );

    // The x_min marker sits where plot/x map x_min.
    let xmin = r.xmin.unwrap();
    let marker = polylines(&doc, colors::XMIN);
    let marker = marker
        .iter()
        .find(|l| l.len() == 2 && l[0].0 == l[1].0)
        .expect("x_min marker");
    let (px, _) = c.to_pixel(xmin, c.y.min);
    assert!(
        (marker[0].0 - px).abs() <= 1.0,
        "marker at {} vs mapped {px}",
        marker[0].0
    );
    assert_eq!(marker[0].1.max(marker[1].1), c.plot.bottom as f64);
    assert_eq!(marker[0].1.min(marker[1].1), c.plot.top as f64);

    // MP curve and the dashed power law are drawn.
    assert!(!polylines(&doc, colors::MP).is_empty());
    assert!(polylines(&doc, colors::POWER_LAW).len() > 5, "dashes");

    // Zoom: a narrower x range re-renders with that range; bad ranges are errors, not panics.
    let z = esd_chart(
        &layer,
        &ChartOptions {
            x_range: Some((xmin / 2.0, xmin * 4.0)),
            theme: Theme::Dark,
            ..opts
        },
    )
    .unwrap();
    parse(&z.svg);
    assert_eq!((z.x.min, z.x.max), (xmin / 2.0, xmin * 4.0));
    let e = esd_chart(
        &layer,
        &ChartOptions {
            x_range: Some((0.0, 1.0)),
            ..opts
        },
    )
    .unwrap_err();
    assert!(e.0.contains("positive"), "{e}");
    let mut no_evals = layer.clone();
    no_evals.evals = None;
    assert!(esd_chart(&no_evals, &opts)
        .unwrap_err()
        .0
        .contains("keep_evals"));
    no_evals.evals = Some(vec![]);
    assert!(esd_chart(&no_evals, &opts).unwrap_err().0.contains("empty"));
    no_evals.evals = Some(vec![1.0, f64::NAN]);
    assert!(esd_chart(&no_evals, &opts)
        .unwrap_err()
        .0
        .contains("non-finite"));

    if let Ok(dir) = std::env::var("SPECTRALAB_PLOT_OUT") {
        std::fs::write(format!("{dir}/esd.svg"), &c.svg).unwrap();
        std::fs::write(format!("{dir}/esd_zoom_dark.svg"), &z.svg).unwrap();
    }
}

#[test]
fn rank_chart_of_minilm_layer() {
    let r = first_layer();
    let opts = ChartOptions::default();
    let c = rank_chart(&ChartLayer::from(r), &opts).unwrap();
    check_geometry(&c, opts.width, opts.height);
    let doc = parse(&c.svg);
    let ev = r.evals.as_ref().unwrap();
    let npos = ev.iter().filter(|&&v| v > 0.0).count();
    let lines = polylines(&doc, colors::SERIES);
    // The series (one point per eigenvalue) + the legend sample.
    assert_eq!(lines.iter().map(|l| l.len()).max(), Some(npos));
    let t = texts(&doc);
    assert!(
        t.contains("rank") && t.contains("eigenvalue λ") && t.contains(&r.name),
        "{t}"
    );
    // Horizontal x_min marker at the mapped y.
    let xmin = r.xmin.unwrap();
    let m = polylines(&doc, colors::XMIN);
    let m = m
        .iter()
        .find(|l| l.len() == 2 && l[0].1 == l[1].1)
        .expect("x_min marker");
    let (_, py) = c.to_pixel(c.x.min, xmin);
    assert!((m[0].1 - py).abs() <= 1.0, "{} vs {py}", m[0].1);
    // The largest eigenvalue (rank 1) is the first point.
    let (px, py) = c.to_pixel(1.0, ev[ev.len() - 1]);
    let first = lines.iter().find(|l| l.len() == npos).unwrap()[0];
    assert!((first.0 - px).abs() <= 1.0 && (first.1 - py).abs() <= 1.0);
    if let Ok(dir) = std::env::var("SPECTRALAB_PLOT_OUT") {
        std::fs::write(format!("{dir}/rank.svg"), &c.svg).unwrap();
    }
}

#[test]
fn alpha_chart_of_minilm() {
    let p = AnalyzeParams {
        farms: Some(FarmsParams::default()),
        ..Default::default()
    };
    let rep = analyze_source(model_bytes(), "minilm.safetensors", &p, |_, _, _| true).unwrap();
    let layers: Vec<ChartLayer> = rep.layers.iter().map(ChartLayer::from).collect();
    let opts = ChartOptions::default();
    let c = alpha_chart(&layers, &opts).unwrap();
    check_geometry(&c, opts.width, opts.height);
    let doc = parse(&c.svg);
    let n_alpha = rep.layers.iter().filter(|l| l.alpha.is_some()).count();
    let n_farms = rep.layers.iter().filter(|l| l.farms.is_some()).count();
    assert!(n_alpha > 10 && n_farms > 10, "{n_alpha} {n_farms}");
    let classic = polylines(&doc, colors::SERIES);
    assert_eq!(classic.iter().map(|l| l.len()).max(), Some(n_alpha));
    let farms = polylines(&doc, colors::FARMS);
    assert_eq!(farms.iter().map(|l| l.len()).max(), Some(n_farms));
    // Point i of the classic series is layer i's α.
    let (i, a) = rep
        .layers
        .iter()
        .enumerate()
        .find_map(|(i, l)| l.alpha.map(|a| (i, a)))
        .unwrap();
    let (px, py) = c.to_pixel(i as f64, a);
    let line = classic.iter().find(|l| l.len() == n_alpha).unwrap();
    assert!((line[0].0 - px).abs() <= 1.0 && (line[0].1 - py).abs() <= 1.0);
    let t = texts(&doc);
    assert!(
        t.contains("α per layer") && t.contains("FARMS") && t.contains("layer"),
        "{t}"
    );
    let warned = rep.layers.iter().filter(|l| !l.warning.is_empty()).count();
    if warned > 0 {
        assert!(t.contains("warning"), "{t}");
    }
    assert!(alpha_chart(&[], &opts).is_err());
    if let Ok(dir) = std::env::var("SPECTRALAB_PLOT_OUT") {
        std::fs::write(format!("{dir}/alpha.svg"), &c.svg).unwrap();
    }
}

#[test]
fn chart_layer_deserialises_from_a_serialised_report() {
    let r = first_layer();
    let json = serde_json::to_string(r).unwrap();
    let back: ChartLayer = serde_json::from_str(&json).unwrap();
    let want = ChartLayer::from(r);
    // serde_json's default float parsing may be 1 ulp off: compare with a tolerance.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * a.abs().max(1.0);
    assert_eq!(
        (&back.name, back.n, back.m, back.num_evals),
        (&want.name, 384, 384, 384)
    );
    assert!(close(back.alpha.unwrap(), want.alpha.unwrap()));
    assert!(close(back.xmin.unwrap(), want.xmin.unwrap()));
    assert!(close(back.d.unwrap(), want.d.unwrap()));
    assert_eq!(back.num_pl_spikes, want.num_pl_spikes);
    let (bm, wm) = (back.mp.unwrap(), want.mp.unwrap());
    assert!(close(bm.w_scale, wm.w_scale) && close(bm.bulk_max, wm.bulk_max));
    let (be, we) = (back.evals.unwrap(), want.evals.unwrap());
    assert_eq!(be.len(), we.len());
    assert!(be.iter().zip(&we).all(|(a, b)| close(*a, *b)));
}

fn series(name: &str, x: Vec<f64>, y: Vec<f64>, color: &str) -> Series {
    Series {
        name: name.into(),
        x,
        y,
        style: SeriesStyle::Both,
        highlight: false,
        color: Some(color.into()),
        dashed: false,
    }
}

#[test]
fn series_chart_maps_points_on_every_axis_kind() {
    // Points of a q-profile-like curve; on log axes the non-positive point is left out.
    let xs = vec![0.0, 0.5, 1.0, 2.0, 10.0];
    let ys = vec![40.0, 30.0, 20.0, 10.0, 5.0];
    for (x_log, y_log) in [(false, false), (true, false), (false, true), (true, true)] {
        let spec = SeriesChartSpec {
            title: "Vendi q-profile".into(),
            x_label: "order q".into(),
            y_label: "Vendi score".into(),
            x_log,
            y_log,
            series: vec![
                series("all digits", xs.clone(), ys.clone(), "#1F77B4"),
                series(
                    "digit 0",
                    xs.clone(),
                    ys.iter().map(|v| v / 2.0).collect(),
                    "#FF7F0E",
                ),
            ],
        };
        let opts = ChartOptions::default();
        let c = series_chart(&spec, &opts).unwrap();
        check_geometry(&c, opts.width, opts.height);
        assert_eq!((c.x.log, c.y.log), (x_log, y_log));
        let doc = parse(&c.svg);
        let t = texts(&doc);
        assert!(t.contains("all digits") && t.contains("digit 0") && t.contains("order q"));
        // Each drawn line passes through the pixels that the returned mapping gives.
        let lines = polylines(&doc, "#1F77B4");
        let pts: Vec<(f64, f64)> = lines.iter().flatten().copied().collect();
        let want: Vec<(f64, f64)> = xs
            .iter()
            .zip(&ys)
            .filter(|(a, _)| !x_log || **a > 0.0)
            .map(|(&a, &b)| c.to_pixel(a, b))
            .collect();
        assert!(!want.is_empty());
        for w in &want {
            assert!(
                pts.iter()
                    .any(|p| (p.0 - w.0).abs() <= 1.0 && (p.1 - w.1).abs() <= 1.0),
                "({x_log},{y_log}): {w:?} not on {pts:?}"
            );
        }
    }
}

#[test]
fn series_chart_rejects_bad_specs() {
    let bad_len = SeriesChartSpec {
        title: String::new(),
        x_label: String::new(),
        y_label: String::new(),
        x_log: false,
        y_log: false,
        series: vec![series("a", vec![1.0, 2.0], vec![1.0], "#000000")],
    };
    let e = series_chart(&bad_len, &ChartOptions::default()).unwrap_err();
    assert!(e.to_string().contains("2 x values but 1 y values"), "{e}");
    let mut empty_log = bad_len.clone();
    empty_log.series = vec![series("a", vec![0.0, -1.0], vec![1.0, 2.0], "#000000")];
    empty_log.x_log = true;
    assert!(series_chart(&empty_log, &ChartOptions::default()).is_err());
    let mut bad_color = bad_len.clone();
    bad_color.series = vec![series("a", vec![1.0, 2.0], vec![1.0, 2.0], "red")];
    assert!(series_chart(&bad_color, &ChartOptions::default())
        .unwrap_err()
        .to_string()
        .contains("#RRGGBB"));
}

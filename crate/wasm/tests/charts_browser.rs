//! The chart exports in headless Chromium (they need the DOM to measure text):
//! `RUSTFLAGS="-C target-feature=+simd128" CARGO_TARGET_DIR=target/wasm-simd cargo test
//!  -p spectralab-wasm --target wasm32-unknown-unknown --test charts_browser`
#![cfg(target_arch = "wasm32")]

use spectralab_wasm::charts::{alpha_chart, esd_chart, rank_chart};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A LayerReport-like row as `analyzeLayer(..., keepEvals = true)` returns it: an MP-like bulk
/// of 200 eigenvalues on [0.05, 2] and a tail of 20 on [3, 60].
fn layer_json(name: &str, alpha: f64, warning: &str, with_evals: bool) -> String {
    let mut ev: Vec<f64> = (0..200)
        .map(|i| 0.05 + 1.95 * (i as f64 / 199.0).powi(2))
        .collect();
    ev.extend((0..20).map(|i| 3.0 * 20f64.powf(i as f64 / 19.0)));
    let evals = if with_evals {
        format!(
            ",\"evals\":[{}]",
            ev.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    } else {
        String::new()
    };
    format!(
        "{{\"layer_id\":1,\"name\":\"{name}\",\"N\":440,\"M\":220,\"Q\":2.0,\"num_evals\":220,\
         \"alpha\":{alpha},\"xmin\":3.0,\"xmax\":60.0,\"D\":0.0712,\"num_pl_spikes\":20,\
         \"status\":\"success\",\"warning\":\"{warning}\",\"farms\":{{\"alpha\":{fa},\"xmin\":1.0,\"D\":0.1}},\
         \"mp\":{{\"num_spikes\":20,\"sigma_mp\":1.0,\"mp_softrank\":0.1,\"W_scale\":1.0,\
         \"bulk_max\":2.914,\"bulk_min\":0.0858}},\"reason\":null{evals}}}",
        fa = alpha * 0.9
    )
}

fn js(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn svg_of(v: &JsValue) -> String {
    get(v, "svg").as_string().expect("svg string")
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[wasm_bindgen_test]
fn esd_chart_renders_bars_title_and_geometry() {
    let r = esd_chart(
        js(&layer_json("enc.0.query.weight", 3.25, "", true)),
        JsValue::UNDEFINED,
    )
    .unwrap_or_else(|e| panic!("{:?}", JsValue::from(e)));
    let svg = svg_of(&r);
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains("enc.0.query.weight"));
    assert!(svg.contains("α = 3.250, D = 0.071"));
    assert!(svg.contains("x_min = 3"));
    assert!(svg.contains("Marchenko"));
    // Bars (plus one legend swatch), in the bar colour.
    assert!(count(&svg, "fill=\"#6495ED\"") > 10, "{svg}");
    let plot = get(&r, "plot");
    let (l, rr) = (
        get(&plot, "left").as_f64().unwrap(),
        get(&plot, "right").as_f64().unwrap(),
    );
    assert!(l > 0.0 && rr > l);
    assert_eq!(get(&get(&r, "x"), "log").as_bool(), Some(true));

    // Zoom and theme from options.
    let z = esd_chart(
        js(&layer_json("enc.0.query.weight", 3.25, "", true)),
        js(r#"{"width":500,"height":300,"xRange":[1,100],"theme":"dark"}"#),
    )
    .unwrap_or_else(|e| panic!("{:?}", JsValue::from(e)));
    assert_eq!(get(&get(&z, "x"), "min").as_f64(), Some(1.0));
    assert!(svg_of(&z).contains("width=\"500\""));
}

#[wasm_bindgen_test]
fn rank_chart_renders() {
    let r = rank_chart(
        js(&layer_json("enc.1.key.weight", 4.0, "", true)),
        JsValue::NULL,
    )
    .unwrap_or_else(|e| panic!("{:?}", JsValue::from(e)));
    let svg = svg_of(&r);
    assert!(svg.contains("<svg") && svg.contains("<polyline"));
    assert!(svg.contains("enc.1.key.weight") && svg.contains("rank"));
    assert!(svg.contains("220 eigenvalues"));
}

#[wasm_bindgen_test]
fn alpha_chart_renders_series_and_warnings() {
    let rows = format!(
        "[{},{},{}]",
        layer_json("a.weight", 3.0, "", false),
        layer_json("b.weight", 7.5, "under-trained", false),
        layer_json("c.weight", 4.0, "", false)
    );
    let r = alpha_chart(js(&rows), JsValue::UNDEFINED)
        .unwrap_or_else(|e| panic!("{:?}", JsValue::from(e)));
    let svg = svg_of(&r);
    assert!(svg.contains("<svg") && svg.contains("α per layer (3 layers)"));
    assert!(svg.contains("FARMS") && svg.contains("warning"));
    assert_eq!(get(&get(&r, "x"), "log").as_bool(), Some(false));
}

#[wasm_bindgen_test]
fn chart_errors_are_js_errors() {
    let msg = |e: wasm_bindgen::JsError| {
        let v = JsValue::from(e);
        get(&v, "message").as_string().unwrap()
    };
    let e = esd_chart(js(&layer_json("x", 3.0, "", false)), JsValue::UNDEFINED).unwrap_err();
    assert!(msg(e).contains("keep_evals"));
    let e = esd_chart(js(r#"{"name":"x","evals":[]}"#), JsValue::UNDEFINED).unwrap_err();
    assert!(msg(e).contains("empty"));
    let e = esd_chart(js(r#"{"name":"x","evals":"nope"}"#), JsValue::UNDEFINED).unwrap_err();
    assert!(msg(e).contains("layer"));
    let e = esd_chart(
        js(&layer_json("x", 3.0, "", true)),
        js(r#"{"xRange":[5,1]}"#),
    )
    .unwrap_err();
    assert!(msg(e).contains("min < max"));
    let e = alpha_chart(js("[]"), JsValue::UNDEFINED).unwrap_err();
    assert!(msg(e).contains("no layers"));
}

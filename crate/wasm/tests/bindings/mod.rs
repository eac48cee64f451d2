//! Tests of the exported JS API: argument validation, errors as JsError (never a panic), and
//! results identical to the core's.
#![allow(dead_code)]

use spectralab_core::linalg::{self, GramParams};
use spectralab_wasm as api;

#[macro_export]
macro_rules! for_each_binding_case {
    ($m:ident) => {
        $m!(build_info_describes_this_build);
        $m!(gram_eigenvalues_agree_with_core);
        $m!(bad_shapes_are_errors_not_panics);
        $m!(non_finite_is_an_error);
        $m!(demo_spectrum_follows_marchenko_pastur);
    };
}

#[macro_export]
macro_rules! wasm_case_bindings {
    ($name:ident) => {
        #[wasm_bindgen_test]
        fn $name() {
            bindings::$name();
        }
    };
}

fn get(v: &wasm_bindgen::JsValue, key: &str) -> wasm_bindgen::JsValue {
    js_sys::Reflect::get(v, &key.into()).unwrap()
}

pub fn build_info_describes_this_build() {
    let v = api::build_info().unwrap();
    let simd = get(&v, "simd").as_bool().unwrap();
    assert_eq!(simd, cfg!(target_feature = "simd128"));
    let kernel = get(&v, "gramKernel").as_string().unwrap();
    assert_eq!(kernel, if simd { "simd128" } else { "scalar" });
}

pub fn gram_eigenvalues_agree_with_core() {
    let w = api::gaussian_matrix_f32(97, 31, 1.0, 5).unwrap();
    let got = api::gram_eigenvalues_f32(&w, 97, 31, true).unwrap();
    let view = ndarray::ArrayView2::from_shape((97, 31), &w[..]).unwrap();
    let want = linalg::gram_eigenvalues(view, &GramParams::default()).unwrap();
    assert_eq!(got, want.to_vec());
    // Wide input: same spectrum as its transpose.
    let wt = view
        .t()
        .as_standard_layout()
        .to_owned()
        .into_raw_vec_and_offset()
        .0;
    let got_t = api::gram_eigenvalues_f32(&wt, 31, 97, false).unwrap();
    for (a, b) in got.iter().zip(&got_t) {
        assert!((a - b).abs() <= 1e-9 * got[30], "{a} vs {b}");
    }
}

pub fn bad_shapes_are_errors_not_panics() {
    assert!(api::gram_eigenvalues_f32(&[1.0, 2.0, 3.0], 2, 2, false).is_err());
    assert!(api::gram_eigenvalues_f32(&[], 0, 4, false).is_err());
    assert!(api::gram_eigenvalues_f32(&[1.0], usize::MAX, 2, false).is_err());
    assert!(api::symmetric_eigenvalues(&[1.0, 2.0, 3.0], 2).is_err());
    assert!(api::singular_values(&[1.0; 6], 4, 2).is_err());
    assert!(api::gaussian_matrix_f32(1 << 20, 1 << 20, 1.0, 0).is_err());
    assert!(api::demo_spectrum(0, 10, 10, 0).is_err());
}

pub fn non_finite_is_an_error() {
    assert!(api::gram_eigenvalues_f32(&[1.0, f32::NAN, 0.0, 1.0], 2, 2, false).is_err());
    assert!(api::gram_eigenvalues_f64(&[1.0, f64::INFINITY], 1, 2).is_err());
    assert!(api::symmetric_eigenvalues(&[1.0, 0.0, 0.0, f64::NAN], 2).is_err());
}

pub fn demo_spectrum_follows_marchenko_pastur() {
    let v = api::demo_spectrum(800, 200, 20, 1).unwrap();
    let hi = get(&v, "mpUpper").as_f64().unwrap();
    assert!(
        (hi - 2.25).abs() < 1e-12,
        "MP upper edge for Q = 4 is (1 + 1/2)² = 2.25"
    );
    let ev: Vec<f64> = js_sys::Array::from(&get(&v, "eigenvalues"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(ev.len(), 200);
    assert!((ev[199] / hi - 1.0).abs() < 0.1);
}

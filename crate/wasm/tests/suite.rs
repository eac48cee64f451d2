//! The core suite (crate/core/tests/cases) plus the binding tests, compiled to wasm32.
//!
//! One test binary, run by wasm-bindgen-test-runner twice: in Node (default) and in headless
//! Chromium (`WASM_BINDGEN_USE_BROWSER=1`, chromedriver from PATH). `npm test` builds it twice,
//! baseline and `+simd128`, so the SIMD128 kernels are checked against their scalar twins
//! (`kernels::scalar`) in both engines.
#![cfg(target_arch = "wasm32")]

mod bindings;
#[path = "../../core/tests/cases/mod.rs"]
mod cases;

use wasm_bindgen_test::wasm_bindgen_test;

macro_rules! wasm_case {
    ($name:ident) => {
        #[wasm_bindgen_test]
        fn $name() {
            cases::$name();
        }
    };
}

for_each_case!(wasm_case);

macro_rules! wasm_metrics_case {
    ($name:ident) => {
        #[wasm_bindgen_test]
        fn $name() {
            cases::metrics::$name();
        }
    };
}
macro_rules! wasm_transform_case {
    ($name:ident) => {
        #[wasm_bindgen_test]
        fn $name() {
            cases::transform::$name();
        }
    };
}
for_each_metrics_case!(wasm_metrics_case);
for_each_transform_case!(wasm_transform_case);
for_each_binding_case!(wasm_case_bindings);

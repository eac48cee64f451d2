//! The same suite as `node.rs`, run in headless Chromium (wasm-bindgen-test-runner + chromedriver).
#![cfg(target_arch = "wasm32")]

#[path = "../../core/tests/cases/mod.rs"]
mod cases;
mod bindings;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! wasm_case {
    ($name:ident) => {
        #[wasm_bindgen_test]
        fn $name() {
            cases::$name();
        }
    };
}

for_each_case!(wasm_case);
for_each_binding_case!(wasm_case_bindings);

//! The core suite (crate/core/tests/cases) plus the binding tests, compiled to wasm32 and run in
//! Node by wasm-bindgen-test-runner. Built twice by `npm test`: baseline and `+simd128`, so the
//! SIMD128 kernels are checked against their scalar twins in the same cases.
#![cfg(target_arch = "wasm32")]

#[path = "../../core/tests/cases/mod.rs"]
mod cases;
mod bindings;

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
for_each_binding_case!(wasm_case_bindings);

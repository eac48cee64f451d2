//! Shared transform cases (run natively by `tests/linalg.rs` and as wasm32 by
//! `crate/wasm/tests/suite.rs`). Each case is a plain `pub fn`; [`for_each_transform_case`] lists them.
#![allow(dead_code)]

/// Lists every transforms case; `$m!(module::name)`-style expansion like `for_each_case`.
#[macro_export]
macro_rules! for_each_transform_case {
    ($m:ident) => {};
}

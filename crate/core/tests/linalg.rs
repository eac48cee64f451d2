//! Native run of the shared core suite (`cases/mod.rs`); the same cases run as wasm32 in Node
//! and headless Chromium from `crate/wasm/tests/`.
mod cases;

macro_rules! native_case {
    ($name:ident) => {
        #[test]
        fn $name() {
            cases::$name();
        }
    };
}

for_each_case!(native_case);

macro_rules! native_case_in {
    ($module:ident, $name:ident) => {
        #[test]
        fn $name() {
            cases::$module::$name();
        }
    };
}
macro_rules! native_metrics_case {
    ($name:ident) => {
        native_case_in!(metrics, $name);
    };
}
macro_rules! native_transform_case {
    ($name:ident) => {
        native_case_in!(transform, $name);
    };
}
for_each_metrics_case!(native_metrics_case);
for_each_transform_case!(native_transform_case);

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

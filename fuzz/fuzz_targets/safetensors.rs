#![no_main]
//! `cargo fuzz run safetensors`: bytes opened as `x.safetensors` (see src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    spectralab_fuzz::read_file(data, "x.safetensors");
});

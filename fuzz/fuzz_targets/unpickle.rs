#![no_main]
//! `cargo fuzz run unpickle`: bytes given to the restricted unpickler directly (no zip around it).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = spectralab_core::formats::unpickle::unpickle(data);
});

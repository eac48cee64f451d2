//! Widening of half-precision storage types to f32 (exact: every f16/bf16 value is an f32).
//!
//! Inputs are the raw little-endian 16-bit patterns as stored in `.safetensors`/`.npy` files.

use half::{bf16, f16};

/// IEEE 754 binary16 bit patterns → f32 (exact).
pub fn widen_f16(bits: &[u16]) -> Vec<f32> {
    bits.iter().map(|&b| f16::from_bits(b).to_f32()).collect()
}

/// bfloat16 bit patterns → f32 (exact: bf16 is the top half of an f32).
pub fn widen_bf16(bits: &[u16]) -> Vec<f32> {
    bits.iter().map(|&b| bf16::from_bits(b).to_f32()).collect()
}

/// f32 → f16 bit patterns, round-to-nearest-even (used to make test fixtures).
pub fn narrow_f16(values: &[f32]) -> Vec<u16> {
    values.iter().map(|&v| f16::from_f32(v).to_bits()).collect()
}

//! Seeded random matrices, identical on every platform (xoshiro256++ seeded through SplitMix64,
//! normals by rand_distr's ziggurat). Used by randomized SVD, synthetic demo models and tests.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// A reproducible random stream.
pub struct SeededRng(Xoshiro256PlusPlus);

impl SeededRng {
    /// Same seed → same stream, on native and wasm32 alike.
    pub fn new(seed: u64) -> Self {
        SeededRng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// One standard normal draw.
    pub fn normal(&mut self) -> f64 {
        self.0.sample(StandardNormal)
    }

    /// One uniform draw in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// `rows × cols` matrix of i.i.d. N(0, 1) entries.
    pub fn gaussian_matrix(&mut self, rows: usize, cols: usize) -> Array2<f64> {
        Array2::from_shape_simple_fn((rows, cols), || self.normal())
    }

    /// `rows × cols` matrix of i.i.d. N(0, 1) entries in f32.
    pub fn gaussian_matrix_f32(&mut self, rows: usize, cols: usize) -> Array2<f32> {
        Array2::from_shape_simple_fn((rows, cols), || self.normal() as f32)
    }
}

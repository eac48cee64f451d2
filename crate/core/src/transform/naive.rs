//! O(n²) references in f64, straight from the definitions in [`super`]'s docs. Tests only.

use super::Complex;
use ndarray::Array2;
use std::f64::consts::PI;

/// `X_k = Σ_j x_j e^{∓2πi jk/n}` (`inverse` flips the sign and divides by `n`). Angles are reduced
/// with `jk mod n` in integers, so the reference stays accurate for large `n`.
pub fn dft(x: &[Complex<f64>], inverse: bool) -> Vec<Complex<f64>> {
    let n = x.len();
    let sign = if inverse { 1.0 } else { -1.0 };
    let tw: Vec<Complex<f64>> = (0..n)
        .map(|r| Complex::from_polar(1.0, sign * 2.0 * PI * r as f64 / n as f64))
        .collect();
    (0..n)
        .map(|k| {
            let mut s = Complex::new(0.0, 0.0);
            for (j, &xj) in x.iter().enumerate() {
                s += xj * tw[(j * k) % n];
            }
            if inverse {
                s / n as f64
            } else {
                s
            }
        })
        .collect()
}

/// The dense `n × n` Hadamard matrix in natural order, `H_ij = (−1)^{popcount(i & j)}`.
pub fn hadamard_matrix(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        if (i & j).count_ones() % 2 == 0 {
            1.0
        } else {
            -1.0
        }
    })
}

/// The Walsh (sequency-ordered) matrix: the rows of [`hadamard_matrix`] sorted by their number
/// of sign changes (row `s` has exactly `s` sign changes).
pub fn walsh_matrix(n: usize) -> Array2<f64> {
    let h = hadamard_matrix(n);
    let mut w = Array2::zeros((n, n));
    for i in 0..n {
        let changes = (1..n).filter(|&j| h[(i, j)] != h[(i, j - 1)]).count();
        w.row_mut(changes).assign(&h.row(i));
    }
    w
}

/// Orthonormal DCT-II by definition.
pub fn dct2(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|k| {
            let s: f64 = x
                .iter()
                .enumerate()
                .map(|(j, &v)| v * (PI * (k * (2 * j + 1)) as f64 / (2 * n) as f64).cos())
                .sum();
            let ck = if k == 0 { 0.5f64.sqrt() } else { 1.0 };
            (2.0 / n as f64).sqrt() * ck * s
        })
        .collect()
}

/// Orthonormal DCT-III (the inverse of [`dct2`]) by definition.
pub fn dct3(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|j| {
            let s: f64 = x
                .iter()
                .enumerate()
                .map(|(k, &v)| {
                    let ck = if k == 0 { 0.5f64.sqrt() } else { 1.0 };
                    ck * v * (PI * (k * (2 * j + 1)) as f64 / (2 * n) as f64).cos()
                })
                .sum();
            (2.0 / n as f64).sqrt() * s
        })
        .collect()
}

/// Orthonormal DCT-IV by definition.
pub fn dct4(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|k| {
            let s: f64 = x
                .iter()
                .enumerate()
                .map(|(j, &v)| v * (PI * ((2 * j + 1) * (2 * k + 1)) as f64 / (4 * n) as f64).cos())
                .sum();
            (2.0 / n as f64).sqrt() * s
        })
        .collect()
}

/// Explicit product `H_1 H_2 ⋯ H_k` of generalized reflectors `H_i = I − β_i v̂_i v̂_iᵀ`
/// (`vectors` is `k × n`, one reflector per row), formed densely.
pub fn householder_product(vectors: &Array2<f64>, betas: &[f64]) -> Array2<f64> {
    let n = vectors.ncols();
    let mut q = Array2::<f64>::eye(n);
    for (v, &b) in vectors.rows().into_iter().zip(betas) {
        let nn: f64 = v.iter().map(|x| x * x).sum();
        let mut h = Array2::<f64>::eye(n);
        if nn > 0.0 {
            for i in 0..n {
                for j in 0..n {
                    h[(i, j)] -= b * v[i] * v[j] / nn;
                }
            }
        }
        q = q.dot(&h);
    }
    q
}

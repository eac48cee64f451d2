//! FFT of any length over rustfft (SIMD128 path on `+simd128` wasm builds, AVX/SSE natively):
//! cached plans ([`FftPlan`]), real-input FFT ([`RealFftPlan`]), 2-D FFT and linear convolution.
//!
//! Forward `X_k = Σ_j x_j e^{−2πi jk/n}`, inverse with `1/n` (numpy's default normalisation).

use super::{c, cis, Complex, TransformFloat};
use rustfft::{Fft, FftDirection};
use std::sync::Arc;

/// A precomputed complex FFT of one length and direction (an `Arc` from the per-thread planner
/// cache, so building the same plan twice is cheap). The inverse includes the `1/n` factor.
#[derive(Clone)]
pub struct FftPlan<T: TransformFloat> {
    fft: Option<Arc<dyn Fft<T>>>,
    len: usize,
    direction: FftDirection,
}

impl<T: TransformFloat> FftPlan<T> {
    /// Plan (or fetch from the cache) an FFT of length `len` (any length, 0 included).
    pub fn new(len: usize, direction: FftDirection) -> Self {
        let fft = (len > 0).then(|| T::with_planner(|p| p.plan_fft(len, direction)));
        FftPlan {
            fft,
            len,
            direction,
        }
    }

    /// Transform length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `len() == 0`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forward or inverse.
    pub fn direction(&self) -> FftDirection {
        self.direction
    }

    /// Scratch length [`Self::process_with_scratch`] needs.
    pub fn scratch_len(&self) -> usize {
        self.fft.as_ref().map_or(0, |f| f.get_inplace_scratch_len())
    }

    /// In-place transform of every consecutive chunk of `len` values of `buf` (batched).
    /// Panics if `buf.len()` is not a multiple of `len` or `scratch` is shorter than
    /// [`Self::scratch_len`].
    pub fn process_with_scratch(&self, buf: &mut [Complex<T>], scratch: &mut [Complex<T>]) {
        let Some(f) = &self.fft else {
            assert!(buf.is_empty(), "FFT of length 0 on a non-empty buffer");
            return;
        };
        assert!(
            buf.len().is_multiple_of(self.len),
            "FFT buffer length {} is not a multiple of {}",
            buf.len(),
            self.len
        );
        if buf.is_empty() {
            return;
        }
        f.process_with_scratch(buf, &mut scratch[..f.get_inplace_scratch_len()]);
        if self.direction == FftDirection::Inverse {
            let s = c::<T>(1.0 / self.len as f64);
            buf.iter_mut().for_each(|z| *z *= s);
        }
    }

    /// [`Self::process_with_scratch`] with a temporary scratch buffer.
    pub fn process(&self, buf: &mut [Complex<T>]) {
        let mut scratch = vec![Complex::new(T::zero(), T::zero()); self.scratch_len()];
        self.process_with_scratch(buf, &mut scratch);
    }
}

/// Forward FFT of `x` (new vector).
pub fn fft<T: TransformFloat>(x: &[Complex<T>]) -> Vec<Complex<T>> {
    let mut y = x.to_vec();
    FftPlan::new(x.len(), FftDirection::Forward).process(&mut y);
    y
}

/// Inverse FFT of `x` including `1/n` (new vector).
pub fn ifft<T: TransformFloat>(x: &[Complex<T>]) -> Vec<Complex<T>> {
    let mut y = x.to_vec();
    FftPlan::new(x.len(), FftDirection::Inverse).process(&mut y);
    y
}

/// FFT of real input of length `n`: the `⌊n/2⌋ + 1` coefficients `X_0 … X_{⌊n/2⌋}` (the others
/// are their conjugates). Even `n` runs one complex FFT of length `n/2` on the packed pairs
/// `z_j = x_{2j} + i x_{2j+1}` and untangles `X_k = E_k + e^{−2πik/n} O_k` with
/// `E_k = (Z_k + Z̄_{m−k})/2`, `O_k = (Z_k − Z̄_{m−k})/2i`; odd `n` uses a full complex FFT.
#[derive(Clone)]
pub struct RealFftPlan<T: TransformFloat> {
    n: usize,
    fwd: FftPlan<T>,
    inv: FftPlan<T>,
    /// `e^{−2πik/n}`, `k ≤ n/2` (even `n` only).
    twiddles: Vec<Complex<T>>,
}

impl<T: TransformFloat> RealFftPlan<T> {
    /// Plan a real FFT of length `n` (any `n ≥ 0`).
    pub fn new(n: usize) -> Self {
        let inner = if n.is_multiple_of(2) { n / 2 } else { n };
        let twiddles = if n.is_multiple_of(2) {
            (0..=n / 2)
                .map(|k| cis(-2.0 * std::f64::consts::PI * k as f64 / n as f64))
                .collect()
        } else {
            Vec::new()
        };
        RealFftPlan {
            n,
            fwd: FftPlan::new(inner, FftDirection::Forward),
            inv: FftPlan::new(inner, FftDirection::Inverse),
            twiddles,
        }
    }

    /// Real signal length `n`.
    pub fn len(&self) -> usize {
        self.n
    }

    /// `n == 0`.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Number of complex outputs, `⌊n/2⌋ + 1` (0 for `n = 0`).
    pub fn spectrum_len(&self) -> usize {
        if self.n == 0 {
            0
        } else {
            self.n / 2 + 1
        }
    }

    /// Complex scratch length for the `_with_scratch` methods.
    pub fn scratch_len(&self) -> usize {
        let work = if self.n.is_multiple_of(2) { 0 } else { self.n };
        work + self.fwd.scratch_len().max(self.inv.scratch_len())
    }

    /// Forward: `input` (`n` reals) → `output` ([`Self::spectrum_len`] complex values).
    pub fn forward_with_scratch(
        &self,
        input: &[T],
        output: &mut [Complex<T>],
        scratch: &mut [Complex<T>],
    ) {
        let n = self.n;
        assert_eq!(input.len(), n, "rfft input length");
        assert_eq!(output.len(), self.spectrum_len(), "rfft output length");
        if n == 0 {
            return;
        }
        let zero = T::zero();
        if n % 2 == 1 {
            let (work, rest) = scratch.split_at_mut(n);
            for (w, &x) in work.iter_mut().zip(input) {
                *w = Complex::new(x, zero);
            }
            self.fwd.process_with_scratch(work, rest);
            output.copy_from_slice(&work[..output.len()]);
            return;
        }
        let m = n / 2;
        for (j, z) in output[..m].iter_mut().enumerate() {
            *z = Complex::new(input[2 * j], input[2 * j + 1]);
        }
        self.fwd.process_with_scratch(&mut output[..m], scratch);
        let half = c::<T>(0.5);
        // k = 0 and k = m: E_0 = Re Z_0, O_0 = Im Z_0.
        let z0 = output[0];
        output[0] = Complex::new(z0.re + z0.im, zero);
        output[m] = Complex::new(z0.re - z0.im, zero);
        for k in 1..=m / 2 {
            let (zk, zmk) = (output[k], output[m - k]);
            let (ek, ok) = untangle(zk, zmk.conj(), half);
            let (emk, omk) = untangle(zmk, zk.conj(), half);
            output[k] = ek + self.twiddles[k] * ok;
            output[m - k] = emk + self.twiddles[m - k] * omk;
        }
    }

    /// Inverse: `input` ([`Self::spectrum_len`] values of a Hermitian spectrum; the imaginary
    /// parts of `X_0` and, for even `n`, `X_{n/2}` are ignored) → `output` (`n` reals), with `1/n`.
    /// `input` is used as work space and left modified.
    pub fn inverse_with_scratch(
        &self,
        input: &mut [Complex<T>],
        output: &mut [T],
        scratch: &mut [Complex<T>],
    ) {
        let n = self.n;
        assert_eq!(input.len(), self.spectrum_len(), "irfft input length");
        assert_eq!(output.len(), n, "irfft output length");
        if n == 0 {
            return;
        }
        let zero = T::zero();
        if n % 2 == 1 {
            let (work, rest) = scratch.split_at_mut(n);
            work[0] = Complex::new(input[0].re, zero);
            for k in 1..input.len() {
                work[k] = input[k];
                work[n - k] = input[k].conj();
            }
            self.inv.process_with_scratch(work, rest);
            for (o, w) in output.iter_mut().zip(work.iter()) {
                *o = w.re;
            }
            return;
        }
        let m = n / 2;
        let half = c::<T>(0.5);
        // Z_k = E_k + i O_k with E_k = (X_k + X̄_{m−k})/2, O_k = (X_k − X̄_{m−k}) / (2 w^k).
        let (x0, xm) = (input[0].re, input[m].re);
        input[0] = Complex::new((x0 + xm) * half, (x0 - xm) * half);
        for k in 1..=m / 2 {
            let (xk, xmk) = (input[k], input[m - k]);
            let zk = rebuild(xk, xmk.conj(), self.twiddles[k].conj(), half);
            let zmk = rebuild(xmk, xk.conj(), self.twiddles[m - k].conj(), half);
            input[k] = zk;
            input[m - k] = zmk;
        }
        self.inv.process_with_scratch(&mut input[..m], scratch);
        for (j, z) in input[..m].iter().enumerate() {
            output[2 * j] = z.re;
            output[2 * j + 1] = z.im;
        }
    }

    /// Forward into a new vector.
    pub fn forward(&self, input: &[T]) -> Vec<Complex<T>> {
        let mut out = vec![Complex::new(T::zero(), T::zero()); self.spectrum_len()];
        let mut scratch = vec![Complex::new(T::zero(), T::zero()); self.scratch_len()];
        self.forward_with_scratch(input, &mut out, &mut scratch);
        out
    }

    /// Inverse into a new vector (input copied).
    pub fn inverse(&self, input: &[Complex<T>]) -> Vec<T> {
        let mut work = input.to_vec();
        let mut out = vec![T::zero(); self.n];
        let mut scratch = vec![Complex::new(T::zero(), T::zero()); self.scratch_len()];
        self.inverse_with_scratch(&mut work, &mut out, &mut scratch);
        out
    }
}

/// `(E, O)` from `Z_k` and `Z̄_{m−k}`: `E = (a + b)/2`, `O = (a − b)/2i`.
#[inline(always)]
fn untangle<T: TransformFloat>(a: Complex<T>, b: Complex<T>, half: T) -> (Complex<T>, Complex<T>) {
    let e = (a + b) * half;
    let d = (a - b) * half;
    (e, Complex::new(d.im, -d.re))
}

/// `Z = E + i O` with `E = (a + b)/2`, `O = (a − b)/2 · w̄` (`w̄ = conj(w^k)` = `1/w^k`).
#[inline(always)]
fn rebuild<T: TransformFloat>(
    a: Complex<T>,
    b: Complex<T>,
    wbar: Complex<T>,
    half: T,
) -> Complex<T> {
    let e = (a + b) * half;
    let o = (a - b) * half * wbar;
    Complex::new(e.re - o.im, e.im + o.re)
}

/// Real FFT of `x` (`⌊n/2⌋ + 1` values, numpy `rfft`).
pub fn rfft<T: TransformFloat>(x: &[T]) -> Vec<Complex<T>> {
    RealFftPlan::new(x.len()).forward(x)
}

/// Inverse real FFT to `n` samples (numpy `irfft(X, n)`): needs `X.len() == ⌊n/2⌋ + 1`.
pub fn irfft<T: TransformFloat>(x: &[Complex<T>], n: usize) -> Vec<T> {
    RealFftPlan::new(n).inverse(x)
}

/// In-place 2-D FFT of a row-major `rows × cols` array: FFT along every row, then along every
/// column (via a transpose into a temporary). Inverse includes `1/(rows·cols)`.
pub fn fft2_inplace<T: TransformFloat>(
    data: &mut [Complex<T>],
    rows: usize,
    cols: usize,
    direction: FftDirection,
) {
    assert_eq!(data.len(), rows * cols, "fft2: buffer is not rows × cols");
    if data.is_empty() {
        return;
    }
    let pr = FftPlan::new(cols, direction);
    let pc = FftPlan::new(rows, direction);
    let zero = Complex::new(T::zero(), T::zero());
    let mut scratch = vec![zero; pr.scratch_len().max(pc.scratch_len())];
    pr.process_with_scratch(data, &mut scratch);
    let mut t = vec![zero; rows * cols];
    transpose(data, &mut t, rows, cols);
    pc.process_with_scratch(&mut t, &mut scratch);
    transpose(&t, data, cols, rows);
}

/// `dst[j·rows + i] = src[i·cols + j]`, in 32×32 tiles.
fn transpose<X: Copy>(src: &[X], dst: &mut [X], rows: usize, cols: usize) {
    const B: usize = 32;
    for i0 in (0..rows).step_by(B) {
        for j0 in (0..cols).step_by(B) {
            for i in i0..(i0 + B).min(rows) {
                for j in j0..(j0 + B).min(cols) {
                    dst[j * rows + i] = src[i * cols + j];
                }
            }
        }
    }
}

/// Smallest `2^a 3^b 5^c ≥ n` that is even (fast for rustfft and for [`RealFftPlan`]).
pub fn next_fast_len(n: usize) -> usize {
    let mut best = n.max(2).next_power_of_two();
    let mut p5 = 1usize;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            // smallest 2^a·p35 ≥ n with a ≥ 1
            let mut v = p35 * 2;
            while v < n {
                v *= 2;
            }
            best = best.min(v);
            p35 *= 3;
        }
        p5 *= 5;
    }
    best
}

/// Full linear convolution `y_k = Σ_j a_j b_{k−j}`, length `a.len() + b.len() − 1` (empty if
/// either input is empty). Short inputs (`min(len) ≤ 32`) are summed directly; otherwise real
/// FFTs of length [`next_fast_len`]`(a.len() + b.len() − 1)` (zero padded, so no wrap-around).
pub fn convolve<T: TransformFloat>(a: &[T], b: &[T]) -> Vec<T> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let len = a.len() + b.len() - 1;
    if a.len().min(b.len()) <= 32 {
        let mut y = vec![T::zero(); len];
        for (i, &ai) in a.iter().enumerate() {
            for (yj, &bj) in y[i..i + b.len()].iter_mut().zip(b) {
                *yj += ai * bj;
            }
        }
        return y;
    }
    let n = next_fast_len(len);
    let plan = RealFftPlan::<T>::new(n);
    let zero = Complex::new(T::zero(), T::zero());
    let mut scratch = vec![zero; plan.scratch_len()];
    let mut pad = vec![T::zero(); n];
    let mut fa = vec![zero; plan.spectrum_len()];
    let mut fb = vec![zero; plan.spectrum_len()];
    pad[..a.len()].copy_from_slice(a);
    plan.forward_with_scratch(&pad, &mut fa, &mut scratch);
    pad.iter_mut().for_each(|v| *v = T::zero());
    pad[..b.len()].copy_from_slice(b);
    plan.forward_with_scratch(&pad, &mut fb, &mut scratch);
    for (x, y) in fa.iter_mut().zip(&fb) {
        *x *= *y;
    }
    plan.inverse_with_scratch(&mut fa, &mut pad, &mut scratch);
    pad.truncate(len);
    pad
}

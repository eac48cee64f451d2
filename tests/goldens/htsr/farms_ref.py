"""Reference re-implementation of FARMS (Hu et al., ICML 2025) in plain numpy.

Ported line by line from the official code, github.com/HUST-AI-HYZ/FARMS (commit 834612b /
8e07c3f; the files below did not change between them):

* ``LLM_Pruning/lib/sampling.py``        -> ``fixed_sampling``, ``matrix_size_dependent_sampling``,
                                            ``conv2d_wmats`` (= ``conv2D_Wmats``)
* ``LLM_Pruning/lib/esd_utils_farms.py`` -> ``analysis_esd`` ('xmin_mid' and 'xmin_peak'), and the
                                            linear / conv branches of ``net_esd_estimator_farms``
* ``Image_Classification/tempbalance_farms.py`` -> the CV conv2d block scheme (``farms_conv2d``),
                                            ``analysis_esd`` with 'median' (identical to 'xmin_mid')
* ``Image_Classification/sampling.py``   -> ``fixed_sampling(..., clamp=False)`` (CV copy: no clamp
                                            of the window height to min(rows, cols))

Differences from the original, on purpose:

* The original runs in torch float32 (``matrix.float()``, ``torch.linalg.svdvals``, float32
  ``log``/``sum``).  This port works in float64 by default (``dtype=np.float64``): the goldens are
  the exact-arithmetic reference, and the original's own float32 noise is ~1e-6 relative.
  ``dtype=np.float32`` is accepted to mimic the single-precision pipeline (numpy/LAPACK, not
  torch, so not bit-identical to it).
* ``torch.histc`` / ``torch.linspace`` / ``torch.argmax`` are reproduced by their documented CPU
  semantics (linear bin index ``floor((x-min)*bins/(max-min))`` with the right edge folded into
  the last bin; linspace computed from both ends; first index of the maximum).
* No printing, no torch, no nn.Module walk: functions take one weight array.

Everything else (window grid, clamping, pooling, the x_min choices including the log10/linear
lower-bound bug of 'xmin_peak', the Hill/MLE formula counting x_min itself, the KS distance, the
per-block averaging for conv2d) follows the original exactly.
"""

from __future__ import annotations

import math

import numpy as np

EVALS_THRESH = 0.00001


# ---------------------------------------------------------------------------------------------
# eigenvalues of one matrix
# ---------------------------------------------------------------------------------------------
def _sq_svdvals(a, dtype):
    """torch.square(torch.linalg.svdvals(a)) (descending order; callers sort)."""
    s = np.linalg.svd(np.asarray(a, dtype=dtype), compute_uv=False)
    return (s * s).astype(dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# sampling.py
# ---------------------------------------------------------------------------------------------
def fixed_window_grid(rows, cols, num_row_samples, Q_ratio, sampling_ops_per_dim, clamp=True):
    """Window geometry of ``fixed_sampling``.

    Returns dict(n_r, n_c, row_step, col_step, K_r, K_c, row_starts, col_starts, clamped).
    ``clamp=True`` is the LLM copy (n_r = min(n_r, min(rows, cols))); ``clamp=False`` the CV copy.
    Starts may be negative in the unclamped CV copy (Python slicing then clips them at 0).
    """
    n_r_req = num_row_samples
    if clamp:
        num_row_samples = min(num_row_samples, min(rows, cols))
    num_col_samples = int(num_row_samples * Q_ratio)
    s = sampling_ops_per_dim
    row_step = max(1, (rows - num_row_samples) // (s - 1))
    col_step = max(1, (cols - num_col_samples) // (s - 1))
    K_r = min(s, max(1, (rows - num_row_samples) // row_step + 1))
    K_c = min(s, max(1, (cols - num_col_samples) // col_step + 1))
    row_starts = [min(i * row_step, rows - num_row_samples) for i in range(K_r)]
    col_starts = [min(j * col_step, cols - num_col_samples) for j in range(K_c)]
    return dict(n_r=num_row_samples, n_c=num_col_samples, n_r_requested=n_r_req,
                clamped=(num_row_samples != n_r_req), row_step=row_step, col_step=col_step,
                K_r=K_r, K_c=K_c, row_starts=row_starts, col_starts=col_starts)


def _py_slice(start, length, size):
    """Python/torch slice a[start:start+length] on an axis of `size` (negative start wraps/clips)."""
    return range(size)[start:start + length]


def fixed_sampling(matrix, num_row_samples, Q_ratio, sampling_ops_per_dim, clamp=True,
                   dtype=np.float64, return_grid=False):
    """FARMS fixed-ops sliding windows on W as stored (rows = out, cols = in). Linear layers only
    (the conv branch of the original is never reached for nn.Linear).  Returns the pooled,
    ascending eigenvalues sigma(W_ij)^2 over all K_r*K_c windows."""
    W = np.asarray(matrix)
    rows, cols = W.shape
    g = fixed_window_grid(rows, cols, num_row_samples, Q_ratio, sampling_ops_per_dim, clamp=clamp)
    eigs = []
    for a in g["row_starts"]:
        for b in g["col_starts"]:
            ri = _py_slice(a, g["n_r"], rows)
            ci = _py_slice(b, g["n_c"], cols)
            sub = W[ri.start:ri.stop, ci.start:ci.stop] if len(ri) and len(ci) else W[0:0, 0:0]
            eigs.append(_sq_svdvals(sub, dtype))
    out = np.sort(np.concatenate(eigs)) if eigs else np.zeros(0, dtype)
    return (out, g) if return_grid else out


def matrix_size_dependent_sampling(matrix, num_row_samples, Q_ratio, step_size=10,
                                   dtype=np.float64, return_grid=False):
    """FARMS step-size mode (used when sampling_ops_per_dim is None): starts i*step, no clamping,
    so rows/cols past the last full step are never sampled."""
    W = np.asarray(matrix)
    rows, cols = W.shape
    num_col_samples = int(num_row_samples * Q_ratio)
    K_r = max(1, (rows - num_row_samples) // step_size + 1)
    K_c = max(1, (cols - num_col_samples) // step_size + 1)
    eigs = []
    for i in range(K_r):
        for j in range(K_c):
            a, b = i * step_size, j * step_size
            eigs.append(_sq_svdvals(W[a:a + num_row_samples, b:b + num_col_samples], dtype))
    out = np.sort(np.concatenate(eigs))
    g = dict(n_r=num_row_samples, n_c=num_col_samples, K_r=K_r, K_c=K_c,
             row_starts=[i * step_size for i in range(K_r)],
             col_starts=[j * step_size for j in range(K_c)])
    return (out, g) if return_grid else out


def conv2d_wmats(T):
    """WeightWatcher's conv2D_Wmats as copied into sampling.py, channels=UNKNOWN (auto-detect).
    Returns the kh*kw slices, each transposed to tall (rows >= cols)."""
    T = np.asarray(T)
    N, M, imax, jmax = T.shape
    Wmats = []
    if N + M >= imax + jmax:  # channels LAST (PyTorch: out, in, kh, kw)
        for i in range(imax):
            for j in range(jmax):
                W = T[:, :, i, j]
                if W.shape[0] < W.shape[1]:
                    W = W.T
                Wmats.append(W)
    else:  # channels FIRST (Keras: kh, kw, in, out)
        for i in range(N):
            for j in range(M):
                W = T[i, j, :, :]
                if W.shape[1] < W.shape[0]:
                    W = W.T
                Wmats.append(W)
    return Wmats


# ---------------------------------------------------------------------------------------------
# esd_utils_farms.py / tempbalance_farms.py : analysis_esd
# ---------------------------------------------------------------------------------------------
def _torch_linspace(start, end, steps):
    """torch.linspace CPU kernel: first half from `start`, second half from `end`."""
    step = (end - start) / (steps - 1)
    half = steps // 2
    idx = np.arange(steps)
    return np.where(idx < half, start + step * idx, end - step * (steps - idx - 1))


def _torch_histc(x, bins, lo, hi):
    """torch.histc(x, bins, min=lo, max=hi) on CPU (linear-interpolation bin index)."""
    counts = np.zeros(bins, dtype=np.int64)
    if hi == lo:  # torch widens a degenerate range by +-1
        lo, hi = lo - 1, hi + 1
    keep = (x >= lo) & (x <= hi)
    pos = np.floor((x[keep] - lo) * bins / (hi - lo)).astype(np.int64)
    pos[pos == bins] = bins - 1
    np.add.at(counts, pos, 1)
    return counts


def peak_bounds(nz_eigs, bins=100):
    """xmin_peak bounds exactly as the code computes them: p = 10**(left edge of the fullest of
    `bins` log10 bins); lower = log10(0.95 p)  (sic: a log10 value compared with linear
    eigenvalues); upper = 1.5 p."""
    h = np.log10(nz_eigs)
    lo, hi = h.min(), h.max()
    counts = _torch_histc(h, bins, lo, hi)
    edges = _torch_linspace(lo, hi, bins + 1)
    ih = int(np.argmax(counts))  # first maximum
    xmin2 = 10 ** edges[ih]
    return dict(peak=float(xmin2), peak_bin=ih, xmin_min=float(np.log10(0.95 * xmin2)),
                xmin_max=float(1.5 * xmin2))


def analysis_esd(eigs, fix_fingers="xmin_mid", xmin_pos=2, bins=100, filter_zeros=False,
                 EVALS_THRESH=EVALS_THRESH, dtype=np.float64):
    """analysis_esd of FARMS/AlphaPruning/TempBalance for one (pooled) ESD.

    fix_fingers: 'xmin_mid' (LLM name) or 'median' (CV name) -> x_min = x[floor(n/xmin_pos)];
                 'xmin_peak' (= TempBalance 'fix-finger') -> peak-bounded scan, argmin D;
                 anything else (None, 'goodness-of-fit') -> full scan, argmin D (= WW's WWFit).
    Returns a dict with the original's outputs plus diagnostics (xmin, xmin_index, k, bounds)."""
    eigs = np.asarray(eigs, dtype=dtype)
    eigs_sum = np.sum(eigs)
    max_eigs = np.max(eigs)
    stable_rank = eigs_sum / max_eigs
    norm_stable_rank = eigs_sum / len(eigs)
    eigs = np.sort(eigs)
    spectral_norm = float(eigs[-1])
    fnorm = float(np.sum(eigs))

    nz_eigs = eigs[eigs > EVALS_THRESH] if filter_zeros else eigs
    if len(nz_eigs) == 0:
        nz_eigs = eigs
    N = len(nz_eigs)
    log_nz_eigs = np.log(nz_eigs)
    extra = {}

    if fix_fingers in ("xmin_mid", "median"):
        i = int(len(nz_eigs) / xmin_pos)
        xmin = nz_eigs[i]
        n = float(N - i)
        seq = np.arange(n)
        final_alpha = 1 + n / (np.sum(log_nz_eigs[i:]) - n * log_nz_eigs[i])
        final_D = np.max(np.abs(1 - (nz_eigs[i:] / xmin) ** (-final_alpha + 1) - seq / n))
        idx = i
    else:
        alphas = np.zeros(N - 1, dtype=dtype)
        Ds = np.ones(N - 1, dtype=dtype)
        if fix_fingers == "xmin_peak":
            pb = peak_bounds(nz_eigs, bins)
            xmin_min, xmin_max = pb["xmin_min"], pb["xmin_max"]
            extra.update(pb)
        scanned = 0
        for i, xmin in enumerate(nz_eigs[:-1]):
            if fix_fingers == "xmin_peak":
                if xmin < xmin_min:
                    continue
                if xmin > xmin_max:
                    break
            scanned += 1
            n = float(N - i)
            seq = np.arange(n)
            alpha = 1 + n / (np.sum(log_nz_eigs[i:]) - n * log_nz_eigs[i])
            alphas[i] = alpha
            if alpha > 1:
                Ds[i] = np.max(np.abs(1 - (nz_eigs[i:] / xmin) ** (-alpha + 1) - seq / n))
        idx = int(np.argmin(Ds))  # first minimum, like torch.argmin
        final_alpha = alphas[idx]
        final_D = Ds[idx]
        extra["num_scanned"] = scanned

    final_alpha = float(final_alpha)
    final_D = float(final_D)
    return dict(
        alpha=final_alpha,
        D=final_D,
        spectral_norm=spectral_norm,
        norm=fnorm,
        alpha_hat=final_alpha * math.log10(spectral_norm),
        stable_rank=float(stable_rank),
        norm_stable_rank=float(norm_stable_rank),
        eigs_num=N,
        xmin=float(nz_eigs[idx]),
        xmin_index=idx,
        k=N - idx,
        **extra,
    )


# ---------------------------------------------------------------------------------------------
# layer-level drivers (net_esd_estimator_farms / Tempbalance_FARMS.net_esd_estimator)
# ---------------------------------------------------------------------------------------------
def farms_linear(W, num_row_samples=100, Q_ratio=1.0, sampling_ops_per_dim=9, step_size=10,
                 fix_fingers="xmin_mid", xmin_pos=2, bins=100, filter_zeros=False,
                 eigs_num_thresh=5, clamp=True, dtype=np.float64):
    """FARMS on a Linear weight (as stored, out x in). Returns (result_or_None, grid, eigs)."""
    if sampling_ops_per_dim is None:
        eigs, grid = matrix_size_dependent_sampling(W, num_row_samples, Q_ratio, step_size,
                                                    dtype=dtype, return_grid=True)
    else:
        eigs, grid = fixed_sampling(W, num_row_samples, Q_ratio, sampling_ops_per_dim,
                                    clamp=clamp, dtype=dtype, return_grid=True)
    if len(eigs) < eigs_num_thresh:
        return None, grid, eigs
    return analysis_esd(eigs, fix_fingers, xmin_pos, bins, filter_zeros, dtype=dtype), grid, eigs


def full_matrix(W, fix_fingers="xmin_mid", xmin_pos=2, bins=100, filter_zeros=False,
                conv_norm=0.5, eigs_num_thresh=5, dtype=np.float64):
    """`use_sliding_window=False` branch: the whole matrix (no windows). For a 4-D conv kernel:
    flatten(2) * sqrt(conv_norm), transpose to (kh*kw, out, in), batched svdvals, pooled."""
    W = np.asarray(W, dtype=dtype)
    if W.ndim == 4:
        o, i_, kh, kw = W.shape
        m = W.reshape(o, i_, kh * kw) * math.sqrt(conv_norm)
        m = m.transpose(2, 0, 1)
        eigs = np.concatenate([_sq_svdvals(m[r], dtype) for r in range(kh * kw)])
    else:
        eigs = _sq_svdvals(W, dtype)
    if len(eigs) < eigs_num_thresh:
        return None, eigs
    return analysis_esd(eigs, fix_fingers, xmin_pos, bins, filter_zeros, dtype=dtype), np.sort(eigs)


def farms_conv2d(T, Q_ratio=1.0, conv_norm=0.5, fix_fingers="median", xmin_pos=2, bins=100,
                 filter_zeros=False, dtype=np.float64):
    """CV conv2d FARMS (Tempbalance_FARMS.net_esd_estimator, use_sliding_window=True):
    slices tall r x c; block h x w with (h, w) = (c//Q, c) if Q > 1 else (c, c//(1/Q));
    D = r // c blocks down the tall axis; per block pool sigma^2 of sqrt(conv_norm) * S[d*h:(d+1)*h, :w]
    over all slices and fit; the layer value is the mean over blocks (alpha, D, spectral_norm,
    norm, alpha_hat, stable_rank, norm_stable_rank); eigs_num = total pooled count."""
    Wmats = conv2d_wmats(np.asarray(T, dtype=dtype))
    rows, cols = Wmats[0].shape
    if Q_ratio > 1:
        h, w = cols // Q_ratio, cols
    else:
        h, w = cols, cols // (1 / Q_ratio)
    h, w = max(1, int(h)), max(1, int(w))
    division = int(rows // cols)
    blocks = []
    for d in range(division):
        pooled = np.concatenate([_sq_svdvals(S[d * h:(d + 1) * h, :w] * math.sqrt(conv_norm), dtype)
                                 for S in Wmats])
        pooled = np.sort(pooled)
        r = analysis_esd(pooled, fix_fingers, xmin_pos, bins, filter_zeros, dtype=dtype)
        r["row_start"] = d * h
        blocks.append(r)
    keys = ["alpha", "spectral_norm", "D", "norm", "alpha_hat", "stable_rank", "norm_stable_rank"]
    layer = {k: float(np.mean([b[k] for b in blocks])) for k in keys}
    layer["eigs_num"] = int(sum(b["eigs_num"] for b in blocks))
    layer["num_blocks"] = division
    layer["block_h"], layer["block_w"] = h, w
    layer["num_slices"] = len(Wmats)
    return layer, blocks

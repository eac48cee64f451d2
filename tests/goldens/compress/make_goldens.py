"""Golden files for crate/core/tests/compress_goldens.rs (issue 18).

numpy ports (f64) of the anchors' own code, plus the `gguf` package's quantizers:

* dct_basis.json: IST-DASLab/ISTA-DASLab-Optimizers `FFTLowRankProjector` (matmul path) with
  `utils/dct.py: dct3_matrix`. Q[a, b] = sqrt(2/c) cos(pi a (2b+1) / (2c)), row 0 * sqrt(1/2).
  Right projection (rows >= cols, or the (512|1024) x (3584|4096) special case): S = A @ Q,
  column norms (ell_norm 1 by default, or 2); else S = Q.T @ A, row norms. Top-r indices, then
  A_hat = S[:, I] @ Q[:, I].T  or  Q[:, I] @ S[I, :]. Deviation: Q is built in f64 here (the
  anchor builds it in float32).
* monarch.json: HazyResearch/fly `blockdiag_butterfly_project` (square; sizes from `factors`),
  dense matrix from `blockdiag_butterfly_multiply_reference(I).T`; and
  `blockdiag_butterfly_project_einsum_rank` (rectangular, block rank r), put back through the
  inverse of its rearrange.
* ggml_*.json: gguf-py `gguf.quants.quantize/dequantize` (Q8_0, Q4_0, Q5_0 quantize+dequantize;
  Q4_K, Q5_K, Q6_K, IQ4_NL dequantize of blocks written by Spectralab's own quantizer are checked
  in the test instead, see ggml_dequant_*.json).

Run: python3 -m venv .cache/compress-venv && .cache/compress-venv/bin/pip install -r
tests/goldens/compress/requirements.txt && .cache/compress-venv/bin/python
tests/goldens/compress/make_goldens.py   (deterministic: seeded numpy Generator).
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def dump(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


# ------------------------------------------------------------------ DCT-AdamW projector
def dct3_matrix(n):
    lin = np.arange(n, dtype=np.float64)
    I = np.tile(lin, (n, 1))
    Q = math.sqrt(2 / n) * np.cos(np.pi * (I.T * (2.0 * I + 1.0)) / (2.0 * n))
    Q[0, :] *= math.sqrt(0.5)
    return Q


def fft_projector(A, rank, ell_norm):
    n, m = A.shape
    right = n >= m or (n in (512, 1024) and m in (3584, 4096))
    Q = dct3_matrix(m if right else n)
    if right:
        S = A @ Q
        norms = np.linalg.norm(S, ord=ell_norm, axis=0) if ell_norm == 2 else np.abs(S).sum(0)
    else:
        S = Q.T @ A
        norms = np.linalg.norm(S, ord=ell_norm, axis=1) if ell_norm == 2 else np.abs(S).sum(1)
    idx = np.argsort(-norms, kind="stable")[:rank]
    if right:
        return S[:, idx] @ Q[:, idx].T
    return Q[:, idx] @ S[idx, :]


def dct_goldens(rng):
    cases = []
    for (n, m) in [(24, 16), (12, 20)]:
        A = rng.standard_normal((n, m)) * np.linspace(2.0, 0.2, m)[None, :]
        case = {"rows": n, "cols": m, "w": A.ravel().tolist(), "dct3_4": dct3_matrix(4).ravel().tolist()}
        for ell in (1, 2):
            errs = []
            for r in range(0, min(n, m) + 1):
                Ah = fft_projector(A, r, ell)
                errs.append(float(np.linalg.norm(A - Ah) / np.linalg.norm(A)))
            case[f"l{ell}_errors"] = errs
            case[f"l{ell}_approx_r5"] = fft_projector(A, 5, ell).ravel().tolist()
        cases.append(case)
    dump("dct_basis.json", {"cases": cases})


# ------------------------------------------------------------------ Monarch (fly)
def low_rank_project(M, rank):
    U, S, Vt = np.linalg.svd(M, full_matrices=False)
    s = np.sqrt(S[..., :rank])
    return U[..., :rank] * s[..., None, :], s[..., :, None] * Vt[..., :rank, :]


def factors(n):
    return [(i, n // i) for i in range(1, math.floor(math.sqrt(n)) + 1) if n % i == 0]


def blockdiag_butterfly_project(M):
    m, n = M.shape
    assert m == n
    sizes = factors(n)[-1]
    sizes = (sizes[1], sizes[0])
    k_, r_ = sizes[1], sizes[0]
    p_, s_ = n // k_, n // r_
    # rearrange(M, '(p k) (r s) -> k r p s')
    Mp = M.reshape(p_, k_, r_, s_).transpose(1, 2, 0, 3)
    U, Vt = low_rank_project(Mp, 1)
    w1 = Vt[:, :, 0, :].transpose(1, 0, 2)  # 'k r 1 s -> r k s'
    w2 = U[:, :, :, 0].transpose(0, 2, 1)  # 'k r s 1 -> k s r'
    return w1, w2, sizes


def blockdiag_butterfly_multiply_reference(x, w1, w2):
    batch, n = x.shape
    k, q, p = w1.shape
    l, s, r = w2.shape
    assert k * p == n and l * r == k * q
    xr = x.reshape(batch, k, p)
    out1 = np.einsum("kqp,bkp->bkq", w1, xr).reshape(batch, k * q)
    out1 = out1.reshape(batch, r, l).transpose(0, 2, 1)  # 'b (r l) -> b l r'
    out2 = np.einsum("lsr,blr->bsl", w2, out1)
    return out2.reshape(batch, s * l)  # 'b s l -> b (s l)'


def project_einsum_rank(M, nb1, nb2, rank):
    m, n = M.shape
    l_, i_ = m // nb2, n // nb1
    # rearrange(M, '(l j) (k i) -> k j l i')
    Mp = M.reshape(l_, nb2, nb1, i_).transpose(2, 1, 0, 3)
    U, Vt = low_rank_project(Mp, rank)
    P = U @ Vt  # k j l i
    return P.transpose(2, 1, 0, 3).reshape(m, n)


def monarch_goldens(rng):
    sq = []
    for n in (16, 64):
        M = rng.standard_normal((n, n))
        w1, w2, sizes = blockdiag_butterfly_project(M)
        dense = blockdiag_butterfly_multiply_reference(np.eye(n), w1, w2).T
        sq.append({"n": n, "sizes": list(sizes), "w": M.ravel().tolist(),
                   "projection": dense.ravel().tolist(),
                   "rel_error": float(np.linalg.norm(M - dense) / np.linalg.norm(M))})
    # The canonical sizes for n = 256 (no matrix: the test checks b = sqrt(n) = 16 is offered).
    sq.append({"n": 256, "sizes": list(blockdiag_butterfly_project(np.eye(256))[2])})
    rect = []
    for (m, n, b, rank) in [(24, 16, 4, 2), (12, 32, 4, 1)]:
        M = rng.standard_normal((m, n))
        P = project_einsum_rank(M, b, b, rank)
        rect.append({"rows": m, "cols": n, "nblocks": b, "rank": rank,
                     "w": M.ravel().tolist(), "projection": P.ravel().tolist()})
    dump("monarch.json", {"square": sq, "rect": rect})


# ------------------------------------------------------------------ NormalFloat (QLoRA / LQ-LoRA)
NF4_BNB = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
           -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
           0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
           0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]


def nf_codebook_definition(k, offset=0.9677083):
    """LQ-LoRA `create_normal_float_scheme`: quantiles through the normal inverse CDF."""
    from scipy.stats import norm
    v1 = norm.ppf(np.linspace(1 - offset, 0.5, 2 ** (k - 1)))[:-1]
    v2 = norm.ppf(np.linspace(0.5, offset, 2 ** (k - 1) + 1))
    return np.concatenate([v1, v2]) / norm.ppf(offset)


def nf_quantize(x, bits, dq, B0=64, B1=256):
    """LQ-LoRA `blockwise_absmax` + `quantize` (f64): ties to the lower code (bucketize)."""
    book = np.array(NF4_BNB) if bits == 4 else nf_codebook_definition(3)
    flat = x.ravel()
    starts = range(0, flat.size, B0)
    s1 = np.array([np.abs(flat[i:i + B0]).max() for i in starts])
    if dq:
        off = s1.min()
        s2 = s1 - off
        for g in range(0, s2.size, B1):
            s3 = float(np.float32(s2[g:g + B1].max()))
            q = np.clip(np.round(s2[g:g + B1] * 255 / s3), 0, 255) if s3 > 0 else 0 * s2[g:g + B1]
            s1[g:g + B1] = q * s3 / 255 + off
    mids = (book[1:] + book[:-1]) / 2
    out = np.empty_like(flat)
    for bi, i in enumerate(starts):
        y = flat[i:i + B0] / s1[bi] if s1[bi] > 0 else np.zeros(min(B0, flat.size - i))
        codes = np.searchsorted(mids, y, side="left")
        out[i:i + B0] = book[codes] * s1[bi]
    return out.reshape(x.shape)


def nf_goldens(rng):
    x = rng.standard_normal((8, 100)) * np.linspace(0.1, 3.0, 100)[None, :]
    x[0, :64] = 0.0  # an all-zero block
    x[1, 28:36] = 0.0
    x[1, 28] = 10.0  # block 2 (entries 64..127) has absmax 10 ...
    x[1, 29] = 10.0 * (NF4_BNB[7] + NF4_BNB[8]) / 2  # ... and a value exactly on a midpoint
    out = {"rows": 8, "cols": 100, "w": x.ravel().tolist(),
           "nf4_definition": nf_codebook_definition(4).tolist(),
           "nf3_definition": nf_codebook_definition(3).tolist()}
    for bits in (3, 4):
        for dq in (False, True):
            out[f"nf{bits}{'dq' if dq else ''}"] = nf_quantize(x, bits, dq).ravel().tolist()
    dump("nf.json", out)


def main():
    rng = np.random.default_rng(18)
    dct_goldens(rng)
    monarch_goldens(rng)
    nf_goldens(rng)
    if "--no-gguf" not in sys.argv:
        import ggml_goldens  # noqa: F401  (beside this file)
        ggml_goldens.main(HERE)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()

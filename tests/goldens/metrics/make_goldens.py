#!/usr/bin/env python3
"""Golden values for crate/core/src/metrics (issue 6).

Anchors called directly: vendi-score 0.0.3 (`score_K`, `score_dual`) and dse-dsmi 1.1
(`diffusion_spectral_entropy`). Re-implemented in numpy (float64) from the anchors' code:
Diff-eRank (`normalize`, `cal_cov`, `cal_entropy`, `cal_erank`), MatrixNuclearNorm `MNN.py`,
UNComp `cal_entropy_no_group_svd` (+1e-10 I, top-k, / ln d), Roy–Vetterli effective rank,
stable rank, nuclear norm, and the thresholded rank (q = 0).

Inputs: small deterministic synthetic arrays written to inputs/*.npy by this script (seeded),
plus real data read from static/examples (digits rows 0..400, abstracts all 197 rows).
Output: goldens.json. Run from the repository root:

    python3 -m venv .cache/metrics-venv
    .cache/metrics-venv/bin/pip install -r tests/goldens/metrics/requirements.txt
    .cache/metrics-venv/bin/python tests/goldens/metrics/make_goldens.py
"""
import json
import os
import warnings

import numpy as np
import scipy.linalg

warnings.filterwarnings("ignore", category=DeprecationWarning)  # scipy.sparse.csr in vendi-score
from vendi_score import vendi  # noqa: E402
from dse_dsmi import diffusion_spectral_entropy  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HERE = os.path.join(ROOT, "tests", "goldens", "metrics")
INPUTS = os.path.join(HERE, "inputs")
EX = os.path.join(ROOT, "static", "examples")

QS = [0.5, 1, 2, 3, "inf"]


def synthetic():
    rng = np.random.default_rng(20261122)
    out = {}
    # X1: 60 x 32 of rank 16 (rank-deficient; dual path).
    out["x1_lowrank"] = rng.standard_normal((60, 16)) @ rng.standard_normal((16, 32))
    # X2: 5 tight clusters, 80 x 24.
    centres = rng.standard_normal((5, 24)) * 3
    out["x2_clustered"] = np.repeat(centres, 16, axis=0) + 0.3 * rng.standard_normal((80, 24))
    # X4: singular values exactly 1/k, 40 x 16, via random orthogonal factors.
    u, _ = np.linalg.qr(rng.standard_normal((40, 16)))
    v, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    out["x4_harmonic"] = (u * (1.0 / np.arange(1, 17))) @ v.T
    # X5: wide, 12 x 30 (primal path), with a positive offset so cosines are not tiny.
    out["x5_wide"] = rng.standard_normal((12, 30)) + 0.5
    return out


def real():
    digits = np.load(os.path.join(EX, "digits.npy")).astype(np.float64)[:400]
    abstracts = np.load(os.path.join(EX, "abstracts-minilm.npy")).astype(np.float64)
    return {"digits400": digits, "abstracts": abstracts}


def rownorm(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def centre_normalise(x):
    z = x - x.mean(axis=0)
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def thresholded_rank(w, n, d):
    w = np.sort(w)[::-1]
    return int(np.sum(w > max(n, d) * np.finfo(float).eps * w[0]))


def qkey(q):
    return "inf" if q == "inf" else repr(float(q))


def vendi_block(K):
    """score_K over QS for a unit-diagonal kernel K (rho = K/n)."""
    return {qkey(q): float(vendi.score_K(K, q=q)) for q in QS}


def golden(name, x):
    n, d = x.shape
    g = {"n": n, "d": d}
    xn = rownorm(x)
    Kcos = xn @ xn.T
    g["vendi_cosine_score_K"] = vendi_block(Kcos)
    g["vendi_cosine_score_dual"] = {qkey(q): float(vendi.score_dual(x, q=q)) for q in QS}
    g["cosine_rank_thresholded"] = thresholded_rank(scipy.linalg.eigvalsh(Kcos / n), n, d)
    # Linear, trace-normalised: rho = X X^T / tr, i.e. score_K of n X X^T / tr.
    Klin = x @ x.T
    Klin = Klin * (n / np.trace(Klin))
    g["vendi_linear_trace"] = vendi_block(Klin)
    # Weighted cosine Vendi (weights normalised to sum 1).
    p = np.random.default_rng(7).uniform(0.1, 1.0, n)
    p = p / p.sum()
    g["weights"] = p.tolist()
    g["vendi_cosine_weighted"] = {qkey(q): float(vendi.score_K(Kcos, q=q, p=p)) for q in QS}
    # RBF with the median pairwise distance as bandwidth.
    D2 = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1)
    h = float(np.median(np.sqrt(D2[np.triu_indices(n, 1)])))
    g["rbf_bandwidth"] = h
    g["vendi_rbf"] = vendi_block(np.exp(-D2 / (2 * h * h)))
    # Diff-eRank.
    z = centre_normalise(x)
    cov = z.T @ z / n
    lam = np.linalg.svd(cov / np.trace(cov), compute_uv=False)
    H = float(-np.nansum(lam * np.log(lam)))
    g["diff_erank"] = {"entropy": H, "normalized_entropy": H / np.log(d), "erank": float(np.exp(H))}
    # UNComp: top-k of (Sigma/tr + 1e-10 I), not renormalised, / ln d.
    lam_u = np.linalg.svd(cov / np.trace(cov) + 1e-10 * np.eye(d), compute_uv=False)
    g["uncomp"] = {}
    for k in sorted({max(1, d // 4), 32, d}):
        lk = lam_u[:k]
        g["uncomp"][str(k)] = float(-np.nansum(lk * np.log(lk)) / np.log(d))
    # MNN (L_{1,2} proxy) and the exact nuclear norm of the same normalised rows.
    c = np.sort(np.linalg.norm(z, axis=0))[::-1]
    g["mnn"] = float(c[: min(n, d)].sum() / n)
    g["mnn_exact_nuclear_over_n"] = float(np.linalg.svd(z, compute_uv=False).sum() / n)
    # Roy–Vetterli, stable rank, nuclear norm of X as given.
    s = np.linalg.svd(x, compute_uv=False)
    pk = s / s.sum()
    pk = pk[pk > 0]
    g["roy_vetterli_erank"] = float(np.exp(-(pk * np.log(pk)).sum()))
    g["stable_rank"] = float((s**2).sum() / s[0] ** 2)
    g["nuclear_norm"] = float(s.sum())
    # DSE (dse-dsmi): anchor defaults and two variants.
    g["dse"] = {}
    for sigma, t in [(10.0, 1), (1.0, 1), (h, 2)]:
        v = diffusion_spectral_entropy(x, gaussian_kernel_sigma=sigma, t=t)
        g["dse"][f"sigma={sigma!r},t={t}"] = {"sigma": sigma, "t": t, "bits": float(v)}
    return g


def main():
    os.makedirs(INPUTS, exist_ok=True)
    data = {}
    for name, x in synthetic().items():
        np.save(os.path.join(INPUTS, name + ".npy"), x)
        data[name] = x
    data.update(real())
    out = {
        "provenance": {
            "script": "tests/goldens/metrics/make_goldens.py",
            "versions": {
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "vendi-score": "0.0.3",
                "dse-dsmi": "1.1",
            },
            "qs": [qkey(q) for q in QS],
            "real_inputs": {
                "digits400": "static/examples/digits.npy rows 0..400 (float32 -> float64)",
                "abstracts": "static/examples/abstracts-minilm.npy all rows (float32 -> float64)",
            },
        },
        "cases": {name: golden(name, x) for name, x in data.items()},
    }
    with open(os.path.join(HERE, "goldens.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Peer timings for BENCHMARKS.md: numpy/scipy on 1 BLAS thread, same ops and shapes as the
criterion bench (crate/core/benches/linalg.rs) and the in-browser page (bench/web/).

    .bench-venv/bin/python bench/python/bench_linalg.py [--reps 7] [--warmup 1] [--quick]

Prints one JSON object on stdout: per op the median/min/all times in ms (after warm-up), a
sanity check of the result, and the environment (numpy/scipy versions, BLAS libraries and their
thread counts as threadpoolctl sees them while timing).

Ops (ids shared with the Rust and wasm benches):
  eigvalsh_f64_1024       scipy.linalg.eigh(A, eigvals_only=True, driver='evd'), A = (X+Xᵀ)/2, f64
  eigvalsh_f32_1024       the same on A.astype(float32) (LAPACK ssyevd)
  svdvals_f64_1024        scipy.linalg.svdvals(B) (gesdd), B 1024×1024 f64 Gaussian
  gram_f32_30522x384      W.T @ W, W 30522×384 f32 Gaussian (σ = 0.02), f32 result
  gram_eig_f32_30522x384  np.linalg.eigvalsh(W.T @ W)

The matrices are drawn with numpy's PCG64 (fixed seeds), not with Spectralab's SeededRng, so
they are the same *distribution* as the Rust/wasm ones, not the same bits. Dense eigen/SVD/Gram
run times do not depend on the entries of such matrices beyond that.
"""

import os

# Must be set before numpy loads OpenBLAS; threadpoolctl below enforces it again at run time.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg  # noqa: E402
import threadpoolctl  # noqa: E402

EMB_ROWS, EMB_COLS, N = 30522, 384, 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="2 reps, no warm-up (smoke test)")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.warmup = 2, 0

    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, N))
    a64 = (x + x.T) * 0.5
    a32 = a64.astype(np.float32)
    b64 = np.random.default_rng(2).standard_normal((N, N))
    w = np.random.default_rng(3).standard_normal((EMB_ROWS, EMB_COLS), dtype=np.float32)
    w *= np.float32(0.02)
    w_fro2 = float(np.sum(w.astype(np.float64) ** 2))

    ops = {
        "eigvalsh_f64_1024": (
            "scipy.linalg.eigh(A, eigvals_only=True, driver='evd')",
            lambda: scipy.linalg.eigh(a64, eigvals_only=True, driver="evd"),
            lambda ev: abs(ev.sum() - np.trace(a64)) / np.abs(ev).sum(),
        ),
        "eigvalsh_f32_1024": (
            "scipy.linalg.eigh(A32, eigvals_only=True, driver='evd')",
            lambda: scipy.linalg.eigh(a32, eigvals_only=True, driver="evd"),
            lambda ev: abs(float(ev.sum()) - float(np.trace(a32))) / float(np.abs(ev).sum()),
        ),
        "svdvals_f64_1024": (
            "scipy.linalg.svdvals(B)  # gesdd",
            lambda: scipy.linalg.svdvals(b64),
            lambda s: abs(float((s ** 2).sum()) - float((b64 ** 2).sum())) / float((b64 ** 2).sum()),
        ),
        "gram_f32_30522x384": (
            "W.T @ W",
            lambda: w.T @ w,
            lambda g: abs(float(np.trace(g)) - w_fro2) / w_fro2,
        ),
        "gram_eig_f32_30522x384": (
            "np.linalg.eigvalsh(W.T @ W)",
            lambda: np.linalg.eigvalsh(w.T @ w),
            lambda ev: abs(float(ev.sum()) - w_fro2) / w_fro2,
        ),
    }

    # Round-robin over the ops (as the wasm page does): a slow spell of the machine costs one
    # repetition of every op instead of all repetitions of one, and the median drops it.
    times = {op_id: [] for op_id in ops}
    outs = {}
    with threadpoolctl.threadpool_limits(limits=1):
        blas = threadpoolctl.threadpool_info()
        for _ in range(args.warmup):
            for op_id, (_code, fn, _check) in ops.items():
                outs[op_id] = fn()
        for _ in range(args.reps):
            for op_id, (_code, fn, _check) in ops.items():
                t0 = time.perf_counter()
                outs[op_id] = fn()
                times[op_id].append((time.perf_counter() - t0) * 1e3)
    results = {}
    for op_id, (code, _fn, check) in ops.items():
        results[op_id] = {
            "code": code,
            "median_ms": statistics.median(times[op_id]),
            "min_ms": min(times[op_id]),
            "times_ms": [round(t, 3) for t in times[op_id]],
            "check_rel_err": float(check(outs[op_id])),
            "result_dtype": str(outs[op_id].dtype),
        }

    print(json.dumps({
        "tool": "numpy/scipy",
        "reps": args.reps,
        "warmup": args.warmup,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "threadpoolctl": threadpoolctl.__version__,
        "blas": [{k: b.get(k) for k in ("internal_api", "prefix", "version", "architecture",
                                         "threading_layer", "num_threads")} for b in blas],
        "ops": results,
    }, indent=1))


if __name__ == "__main__":
    sys.exit(main())

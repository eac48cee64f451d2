"""Python peer of tests/bench/metrics_bench.mjs: times vendi-score 0.0.3 on the same data.

    .cache/metrics-venv/bin/python tests/bench/metrics_peers.py DATA.npy [--repeats 5] [--x-repeats 1]

Prints one JSON object: {"numpy": ..., "score_dual": {"ms": [...], "value": v},
"score_X": {"ms": [...], "value": v}, "threads": ...}. `score_dual` is the d × d path
(cosine, q = 1), `score_X` the package's n × n path. Set OMP/OPENBLAS_NUM_THREADS=1 (done by the
bench) to compare with the single-threaded wasm build.
"""
import argparse
import json
import os
import time

import numpy as np
from vendi_score import vendi


def timed(fn, repeats):
    out, ms = None, []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ms.append((time.perf_counter() - t) * 1e3)
    return float(out), ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--x-repeats", type=int, default=1)
    a = ap.parse_args()
    x = np.load(a.data)
    timed(lambda: vendi.score_dual(x, q=1), 1)  # warm-up
    dual_v, dual_ms = timed(lambda: vendi.score_dual(x, q=1), a.repeats)
    x_v, x_ms = timed(lambda: vendi.score_X(x, q=1), a.x_repeats)
    print(json.dumps({
        "numpy": np.__version__,
        "shape": list(x.shape),
        "dtype": str(x.dtype),
        "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "score_dual": {"ms": dual_ms, "value": dual_v},
        "score_X": {"ms": x_ms, "value": x_v},
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Peers for crate/core/benches/transform.rs (issue 8), single thread, median of repeats.

    python3 -m venv .cache/xf-venv
    .cache/xf-venv/bin/pip install numpy scipy fht-cpu pybind11 setuptools
    .cache/xf-venv/bin/pip install --no-build-isolation ffht-unofficial  # needs numpy+pybind11
    OMP_NUM_THREADS=1 .cache/xf-venv/bin/python tests/bench/transform_peers.py

Measures scipy.fft.fft of 2^20 complex128 and complex64 (in place allowed: overwrite_x=True,
workers=1), scipy.fft.dct(type=2, norm="ortho") along the rows of a 4096×1024 float32 array, and
the FWHT of 2^20 float32 with ffht (ffht-unofficial) and/or fht-cpu when they import. Prints one
JSON object (milliseconds) and the 1-minute load average, since this is a shared machine.
"""
import json
import os
import time

import numpy as np
import scipy
import scipy.fft


def median_ms(fn, setup=None, repeats=15, warmup=2):
    ts = []
    for i in range(warmup + repeats):
        arg = setup() if setup else None
        t0 = time.perf_counter()
        fn(arg)
        t1 = time.perf_counter()
        if i >= warmup:
            ts.append((t1 - t0) * 1e3)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    rng = np.random.default_rng(1)
    n = 1 << 20
    out = {"load_avg_1min_before": os.getloadavg()[0], "scipy": scipy.__version__,
           "numpy": np.__version__}
    x128 = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex128)
    x64 = x128.astype(np.complex64)
    out["scipy_fft_c128_2^20_ms"] = median_ms(
        lambda a: scipy.fft.fft(a, overwrite_x=True, workers=1), setup=lambda: x128.copy())
    out["scipy_fft_c64_2^20_ms"] = median_ms(
        lambda a: scipy.fft.fft(a, overwrite_x=True, workers=1), setup=lambda: x64.copy())
    m = rng.standard_normal((4096, 1024)).astype(np.float32)
    out["scipy_dct2_ortho_rows_4096x1024_f32_ms"] = median_ms(
        lambda a: scipy.fft.dct(a, type=2, norm="ortho", axis=1, overwrite_x=True, workers=1),
        setup=lambda: m.copy(), repeats=9)
    w = rng.standard_normal(n).astype(np.float32)
    try:
        import ffht  # ffht-unofficial
        out["ffht_fht_f32_2^20_ms"] = median_ms(lambda a: ffht.fht(a), setup=lambda: w.copy(),
                                                repeats=30)
    except Exception as e:  # noqa: BLE001 - report why the peer is missing
        out["ffht"] = f"unavailable: {type(e).__name__}: {e}"
    try:
        import fht_cpu  # fht-cpu
        fn = getattr(fht_cpu, "fht", None) or getattr(fht_cpu, "fht_inplace", None)
        if fn is None:
            raise AttributeError(f"no fht function in {dir(fht_cpu)}")
        out["fht_cpu_f32_2^20_ms"] = median_ms(lambda a: fn(a), setup=lambda: w.copy(),
                                               repeats=30)
    except Exception as e:  # noqa: BLE001
        out["fht_cpu"] = f"unavailable: {type(e).__name__}: {e}"
    out["load_avg_1min_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

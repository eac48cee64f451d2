"""Goldens for the pieces of the truncated-power-law (TPL) fit, from the anchor libraries.

Writes tests/goldens/htsr/tpl_pieces.json:
  * expint:   E_p(z) = z^{p-1} * Gamma(1-p, z) from mpmath (50 digits), on a grid of (p, z);
  * fmin:     scipy.optimize.fmin (Nelder-Mead, defaults) on fixed test functions: x, f, nfev;
  * tpl_fits: powerlaw==1.5 Fit(data, distribution='truncated_power_law',
              xmin_distribution='truncated_power_law') on seeded synthetic samples
              (what WeightWatcher 0.7.7 calls for fit='TPL'), and with an xmin range (E_TPL).

Run with the venv of requirements.txt (pins scipy 1.17.1, mpmath 1.4.1, powerlaw 1.5):
  .cache/ww-venv/bin/python tests/goldens/htsr/make_tpl_goldens.py
"""
import io
import json
import os
import sys
import warnings
from contextlib import redirect_stderr, redirect_stdout

os.environ.setdefault("OMP_NUM_THREADS", "1")
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import powerlaw  # noqa: E402
import scipy  # noqa: E402
from scipy.optimize import fmin  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def expint_table():
    mpmath.mp.dps = 50
    rows = []
    for p in [1.0000055, 1.001, 1.2, 1.5, 2.0, 2.5, 3.7, 7.0, 25.0]:
        for z in [1e-9, 1e-6, 1e-3, 0.05, 0.27, 0.9, 1.0, 1.5, 4.0, 20.0, 200.0]:
            v = mpmath.power(z, p - 1) * mpmath.gammainc(1 - p, z)
            rows.append({"p": p, "z": z, "E": float(v)})
    return rows


def fmin_cases():
    def rosen(x):
        return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    def quad3(x):
        return (x[0] - 1.5) ** 2 + 3 * (x[1] + 0.5) ** 2 + 0.5 * (x[2] - 2) ** 2 + x[0] * x[1]

    def wall(x):  # a flat wall like powerlaw's invalid-parameter likelihood
        if x[0] <= 1 or x[1] <= 0:
            return 700.0 * 50
        return (x[0] - 1.2) ** 2 + (np.log(x[1]) + 2.0) ** 2

    out = []
    for name, f, x0 in [
        ("rosen", rosen, [-1.2, 1.0]),
        ("quad3", quad3, [0.0, 0.0, 0.0]),
        ("wall", wall, [1.3, 0.5]),
        ("rosen_far", rosen, [3.0, -2.0]),
    ]:
        x, fval, it, nfev, flag = fmin(f, x0, full_output=True, disp=False)
        out.append({"name": name, "x0": x0, "x": list(map(float, x)), "f": float(fval),
                    "iterations": int(it), "nfev": int(nfev), "warnflag": int(flag)})
    return out


def tpl_fits():
    rng = np.random.default_rng(20261122)
    samples = {
        # Pareto tail with an exponential cut-off (accept-reject), plus a bulk below.
        "tpl_sample": np.concatenate([
            rng.uniform(0.05, 1.0, 60),
            (lambda u: u[rng.uniform(size=u.size) < np.exp(-0.05 * u)])(
                (1.0 - rng.uniform(size=200)) ** (-1 / 1.5)),
        ]),
        "pareto": (1.0 - rng.uniform(size=120)) ** (-1 / 2.0),
        "gaussian_esd": np.load(os.path.join(HERE, "synthetic_esd_gaussian.npy")).astype(float),
    }
    out = []
    for name, data in samples.items():
        data = np.asarray(data, dtype=float)
        data = data[data > 1e-5]
        for xr in [None, "peak"]:
            xmin = None
            if xr == "peak":
                h = np.histogram(np.log10(data), bins=100)
                p = 10 ** h[1][np.argmax(h[0])]
                xmin = (np.log10(0.95 * p), 1.5 * p)
            f = io.StringIO()
            with redirect_stdout(f), redirect_stderr(f), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = powerlaw.Fit(data, xmin=xmin, verbose=False,
                                   distribution="truncated_power_law",
                                   xmin_distribution="truncated_power_law")
                tpl = fit.truncated_power_law
                row = {"name": name, "xmin_range": None if xmin is None else list(map(float, xmin)),
                       "data": list(map(float, data)), "alpha": float(tpl.alpha),
                       "Lambda": float(tpl.Lambda), "xmin": float(fit.xmin), "D": float(fit.D),
                       "noise_flag": bool(fit.noise_flag)}
            out.append(row)
            print(name, xr, row["alpha"], row["Lambda"], row["xmin"], row["D"], file=sys.stderr)
    return out


def main():
    doc = {
        "schema": "spectralab-tpl-pieces/1",
        "generator": "tests/goldens/htsr/make_tpl_goldens.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "scipy": scipy.__version__, "mpmath": mpmath.__version__,
                     "powerlaw": getattr(powerlaw, "__version__", "1.5")},
        "expint": expint_table(),
        "fmin": fmin_cases(),
        "tpl_fits": tpl_fits(),
    }
    with open(os.path.join(HERE, "tpl_pieces.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()

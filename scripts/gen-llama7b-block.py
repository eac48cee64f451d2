"""Writes one synthetic LLaMA-7B-shaped transformer block as BF16 safetensors (for the benchmarks).

    python3 scripts/gen-llama7b-block.py [OUT]   (default target/bench/llama7b_block.safetensors)

Seven matrices with LLaMA-7B's shapes ([out, in], the torch/safetensors convention):
q, k, v, o 4096×4096; gate, up 11008×4096; down 4096×11008 (202 M weights, 405 MB).
Entries are i.i.d. Student-t with 3 degrees of freedom times 0.02 — heavy-tailed, so each ESD has a
power-law tail as in trained layers — rounded to bfloat16 (round to nearest even). Deterministic:
numpy's PCG64 with a fixed seed per tensor. Needs only numpy (the benchmark runs it with the
WeightWatcher venv, tests/goldens/htsr/requirements.txt).
"""

import json
import os
import struct
import sys

import numpy as np

D, F = 4096, 11008
TENSORS = [
    ("model.layers.0.self_attn.q_proj.weight", (D, D)),
    ("model.layers.0.self_attn.k_proj.weight", (D, D)),
    ("model.layers.0.self_attn.v_proj.weight", (D, D)),
    ("model.layers.0.self_attn.o_proj.weight", (D, D)),
    ("model.layers.0.mlp.gate_proj.weight", (F, D)),
    ("model.layers.0.mlp.up_proj.weight", (F, D)),
    ("model.layers.0.mlp.down_proj.weight", (D, F)),
]


def to_bf16(x):
    """float32 array -> uint16 bfloat16 bit patterns, round to nearest even (inputs are finite)."""
    u = x.astype(np.float32).view(np.uint32)
    u = u + (np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1)))
    return (u >> np.uint32(16)).astype(np.uint16)


def bf16_to_f32(b):
    """uint16 bfloat16 bit patterns -> float32 (exact)."""
    return (b.astype(np.uint32) << np.uint32(16)).view(np.float32)


def tensor(seed, shape):
    rng = np.random.default_rng(seed)
    out = np.empty(shape, dtype=np.uint16)
    rows = 1024  # in row chunks: bounded memory
    for r in range(0, shape[0], rows):
        n = min(rows, shape[0] - r)
        out[r:r + n] = to_bf16(rng.standard_t(3.0, size=(n, shape[1])) * 0.02)
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "target/bench/llama7b_block.safetensors"
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    header, offset = {}, 0
    for name, shape in TENSORS:
        nbytes = shape[0] * shape[1] * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header["__metadata__"] = {"generator": "scripts/gen-llama7b-block.py", "dist": "student_t(3)*0.02"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for i, (name, shape) in enumerate(TENSORS):
            f.write(tensor(1000 + i, shape).tobytes())
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Goldens for the GGUF reader (crate/core/tests/gguf.rs).

    python3 -m venv .cache/gguf-venv && .cache/gguf-venv/bin/pip install -r tests/goldens/gguf/requirements.txt
    .cache/gguf-venv/bin/python tests/goldens/gguf/make_goldens.py            # small goldens
    .cache/gguf-venv/bin/python tests/goldens/gguf/make_goldens.py --gemma PATH  # gemma sums

Writes, beside this script:
- random_blocks.gguf: GGUFWriter file, one tensor per supported ggml type holding random blocks
  (random bytes, with finite random f16/f32 scale fields), 2 rows x 256 elements each;
  random_blocks_dequant.npz: gguf-py's dequantization of each (read back with GGUFReader), f32,
  shape (rows, ne0). Q8_K has no gguf-py dequantizer: its reference is d * q computed here in
  numpy (f32 d, int8 q), the formula of ggml-quants.c dequantize_row_q8_K.
- tiny.gguf: a small model-like file: general.* metadata, a 200-string token array, alignment 64,
  tensors of several types in a scrambled block order, a 3-D tensor and an IQ2_XXS tensor (no
  dequantizer in Spectralab); tiny_dequant.npz: gguf-py's dequantization of the supported ones.
- gemma_sums.json (with --gemma): per tensor of Gemma 3 270M Q4_K_M, the type, NumPy shape,
  float64 sum / sum of |x| / sum of x^2 of gguf-py's dequantized f32 values, and the f32 bit
  patterns of the first 8 values of the first and last row.
Pinned: requirements.txt. Seeded: reruns give identical files.
"""
import json
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(20261203)

# (type, byte ranges of f16 scale fields inside a block)
F16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    T.IQ4_NL: [0], T.IQ4_XS: [0],
}
SUPPORTED = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K,
             T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K, T.IQ4_NL, T.IQ4_XS]


def random_blocks(qtype, rows, ne0):
    """uint8 array (rows, bytes per row) of random blocks with finite scales."""
    bs, ts = gguf.GGML_QUANT_SIZES[qtype]
    nb = rows * ne0 // bs
    if qtype == T.F32:
        return rng.standard_normal(rows * ne0).astype(np.float32).view(np.uint8).reshape(rows, -1)
    if qtype == T.F16:
        x = rng.standard_normal(rows * ne0).astype(np.float16)
        x[:4] = np.array([6e-8, -3e-5, 65504, 0], dtype=np.float16)  # subnormals, max, zero
        return x.view(np.uint8).reshape(rows, -1)
    if qtype == T.BF16:
        x = rng.standard_normal(rows * ne0).astype(np.float32).view(np.uint32) >> 16
        return x.astype(np.uint16).view(np.uint8).reshape(rows, -1)
    b = rng.integers(0, 256, size=(nb, ts), dtype=np.uint8)
    for off in F16_FIELDS.get(qtype, []):
        s = (rng.standard_normal(nb) * 0.05).astype(np.float16)
        s[0] = 0.0
        b[:, off:off + 2] = s.view(np.uint8).reshape(nb, 2)
    if qtype == T.Q8_K:
        b[:, 0:4] = (rng.standard_normal(nb) * 0.01).astype(np.float32).view(np.uint8).reshape(nb, 4)
    return b.reshape(rows, -1)


def deq(data, qtype):
    """gguf-py's dequantization as f32 (rows, ne0); Q8_K by its formula (no gguf-py kernel)."""
    data = np.asarray(data)
    if qtype == T.Q8_K:
        blocks = data.reshape(-1, 292)
        d = blocks[:, 0:4].copy().view(np.float32)
        q = blocks[:, 4:260].copy().view(np.int8).astype(np.float32)
        rows = data.shape[0]
        return (d * q).reshape(rows, -1).astype(np.float32)
    if qtype == T.F32:
        return data.view(np.float32).astype(np.float32)
    return dequantize(data, qtype).astype(np.float32)


def write_random_blocks():
    path = HERE / "random_blocks.gguf"
    w = gguf.GGUFWriter(str(path), "spectralab-test")
    w.add_name("random blocks of every supported ggml type")
    for qtype in SUPPORTED:
        w.add_tensor(qtype.name, random_blocks(qtype, 2, 256), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    r = gguf.GGUFReader(str(path))
    out = {}
    for t in r.tensors:
        out[t.name] = deq(t.data, t.tensor_type).reshape(2, 256)
    np.savez(HERE / "random_blocks_dequant.npz", **out)


def write_tiny():
    path = HERE / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("Tiny Test Model")
    w.add_file_type(15)
    w.add_custom_alignment(64)
    w.add_uint32("llama.block_count", 11)
    w.add_float32("llama.rope.freq_base", 10000.0)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(200)])
    w.add_array("tokenizer.ggml.scores", [float(i) for i in range(200)])
    tensors = [  # name, type, numpy shape (rows..., ne0); scrambled block order on purpose
        ("blk.10.attn_q.weight", T.Q4_K, (4, 256)),
        ("token_embd.weight", T.Q8_0, (10, 64)),
        ("blk.2.attn_q.weight", T.Q6_K, (4, 256)),
        ("blk.2.attn_norm.weight", T.F32, (256,)),
        ("output_norm.weight", T.F32, (64,)),
        ("blk.2.ffn_up_exps.weight", T.Q5_0, (3, 2, 32)),
        ("blk.0.attn_k.weight", T.IQ4_XS, (2, 256)),
        ("blk.0.attn_v.weight", T.IQ2_XXS, (2, 256)),
        ("output.weight", T.F16, (10, 64)),
    ]
    for name, qtype, shape in tensors:
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        if qtype == T.IQ2_XXS:
            b = rng.integers(0, 256, size=(rows, shape[-1] // 256 * 66), dtype=np.uint8)
        else:
            b = random_blocks(qtype, rows, shape[-1])
        b = b.reshape(*shape[:-1], -1) if len(shape) > 1 else b.reshape(-1)
        w.add_tensor(name, b, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    r = gguf.GGUFReader(str(path))
    out = {}
    for t in r.tensors:
        if t.tensor_type == T.IQ2_XXS:
            continue
        shape = [int(d) for d in reversed(t.shape)]
        out[t.name] = deq(t.data, t.tensor_type).reshape(shape)
    np.savez(HERE / "tiny_dequant.npz", **out)


def gemma_sums(path):
    r = gguf.GGUFReader(path)
    rows = []
    for t in r.tensors:
        x = deq(t.data, t.tensor_type)
        shape = [int(d) for d in reversed(t.shape)]
        x = x.reshape(-1, shape[-1])
        rows.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "shape": shape,
            "sum": float(np.sum(x, dtype=np.float64)),
            "sum_abs": float(np.sum(np.abs(x), dtype=np.float64)),
            "sum_sq": float(np.sum(x.astype(np.float64) ** 2)),
            "first_row_bits": [int(v) for v in x[0, :8].view(np.uint32)],
            "last_row_bits": [int(v) for v in x[-1, :8].view(np.uint32)],
        })
        del x
    meta = {
        "architecture": str(r.fields["general.architecture"].contents()),
        "name": str(r.fields["general.name"].contents()) if "general.name" in r.fields else None,
        "file_type": int(r.fields["general.file_type"].contents()),
        "tensor_count": len(r.tensors),
    }
    out = {"generator": "make_goldens.py --gemma, gguf " + gguf.__version__ if hasattr(gguf, "__version__") else "make_goldens.py --gemma", "meta": meta, "tensors": rows}
    (HERE / "gemma_sums.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--gemma":
        gemma_sums(sys.argv[2])
    else:
        write_random_blocks()
        write_tiny()

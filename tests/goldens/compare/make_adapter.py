#!/usr/bin/env python3
"""Synthetic base model + PEFT LoRA adapter + merged checkpoint, and a numpy reference of every
`spectralab compare` column (golden.json). Re-run from the repository root:

    python3 -m venv /tmp/cmpvenv && /tmp/cmpvenv/bin/pip install numpy==2.4.6 safetensors==0.8.0
    /tmp/cmpvenv/bin/python tests/goldens/compare/make_adapter.py

Pinned: numpy==2.4.6, safetensors==0.8.0 (see requirements.txt beside this file), CPython 3.11.

Layout written (all small, < 200 KB in total):
  base.safetensors                 F64 base weights (+ a 1-D norm)
  adapter/adapter_config.json      PEFT LoraConfig: r=4, lora_alpha=8 (s=2), rank_pattern and
                                   alpha_pattern for down_proj (r=2, alpha=6 → s=3),
                                   modules_to_save=["score"]
  adapter/adapter_model.safetensors  F32 lora_A/lora_B (+ lora_embedding_A/B, + score.weight)
  merged.safetensors               F64 W0 + s·B·A (what PEFT's merge_and_unload gives), score replaced
  golden.json                      numpy reference of the per-layer columns

Layers (base stores (out, in)):
  q_proj     48×32, strong update whose directions lie mostly outside the base's column space
             → intruders;
  v_proj     48×32, weak update (s·‖BA‖ ≪ ‖W0‖) → no intruders;
  down_proj  32×64, rank_pattern r=2 / alpha_pattern 6, moderate update;
  embed      100×16 embedding, lora_embedding_A (r, 100), lora_embedding_B (16, r):
             ΔW = s·(B·A)ᵀ;
  score      10×16 in modules_to_save: replaced whole;
  up_proj    64×32 untouched by the adapter.
"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
K = 10
EPS = 0.5
SWEEP = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

rng = np.random.default_rng(20261203)


def gaussian(m, n):
    return rng.standard_normal((m, n)) / np.sqrt(n)


base = {
    "model.embed_tokens.weight": gaussian(100, 16),
    "model.layers.0.self_attn.q_proj.weight": gaussian(48, 32),
    "model.layers.0.self_attn.v_proj.weight": gaussian(48, 32),
    "model.layers.0.mlp.up_proj.weight": gaussian(64, 32),
    "model.layers.0.mlp.down_proj.weight": gaussian(32, 64),
    "model.norm.weight": np.ones(16),
    "score.weight": gaussian(10, 16),
}

config = {
    "peft_type": "LORA",
    "task_type": "SEQ_CLS",
    "r": 4,
    "lora_alpha": 8,
    "use_rslora": False,
    "use_dora": False,
    "fan_in_fan_out": False,
    "lora_dropout": 0.0,
    "bias": "none",
    "init_lora_weights": True,
    "target_modules": ["q_proj", "v_proj", "down_proj", "embed_tokens"],
    "rank_pattern": {"down_proj": 2},
    "alpha_pattern": {"down_proj": 6},
    "modules_to_save": ["score"],
}


def scale_of(module):
    r = config["r"]
    a = config["lora_alpha"]
    for k, v in config["rank_pattern"].items():
        if module == k or module.endswith("." + k):
            r = v
            break
    for k, v in config["alpha_pattern"].items():
        if module == k or module.endswith("." + k):
            a = v
            break
    return r, (a / np.sqrt(r) if config["use_rslora"] else a / r)


def outside_directions(w, cols, mix):
    """`cols` unit-ish vectors mostly in the orthogonal complement of w's column space."""
    q, _ = np.linalg.qr(w, mode="complete")
    comp = q[:, w.shape[1]:]
    g = comp @ rng.standard_normal((comp.shape[1], cols))
    g += mix * rng.standard_normal((w.shape[0], cols))
    return g / np.linalg.norm(g, axis=0)


adapter = {}
merged = {k: v.copy() for k, v in base.items()}
layers = {}  # base name -> (kind, r, s)

# q_proj: strong, mostly new directions.
m = "model.layers.0.self_attn.q_proj"
r, s = scale_of(m)
w0 = base[m + ".weight"]
B = outside_directions(w0, r, 0.1) * np.array([3.0, 2.5, 2.0, 1.5])
A = rng.standard_normal((r, 32)) / np.sqrt(32)
adapter["base_model.model." + m + ".lora_A.weight"] = A.astype(np.float32)
adapter["base_model.model." + m + ".lora_B.weight"] = B.astype(np.float32)
layers[m + ".weight"] = ("lora", r, s)

# v_proj: weak.
m = "model.layers.0.self_attn.v_proj"
r, s = scale_of(m)
A = rng.standard_normal((r, 32)) / np.sqrt(32)
B = 0.01 * rng.standard_normal((48, r))
adapter["base_model.model." + m + ".lora_A.weight"] = A.astype(np.float32)
adapter["base_model.model." + m + ".lora_B.weight"] = B.astype(np.float32)
layers[m + ".weight"] = ("lora", r, s)

# down_proj: rank_pattern / alpha_pattern, moderate.
m = "model.layers.0.mlp.down_proj"
r, s = scale_of(m)
A = rng.standard_normal((r, 64)) / np.sqrt(64)
B = 0.3 * rng.standard_normal((32, r))
adapter["base_model.model." + m + ".lora_A.weight"] = A.astype(np.float32)
adapter["base_model.model." + m + ".lora_B.weight"] = B.astype(np.float32)
layers[m + ".weight"] = ("lora", r, s)

# Embedding: PEFT's lora_embedding_A is (r, num_embeddings), lora_embedding_B (dim, r),
# ΔW = s·(B·A)ᵀ (num_embeddings × dim). No `.weight` suffix on disk.
m = "model.embed_tokens"
r, s = scale_of(m)
A = rng.standard_normal((r, 100))
B = 0.5 * rng.standard_normal((16, r)) / np.sqrt(100)
adapter["base_model.model." + m + ".lora_embedding_A"] = A.astype(np.float32)
adapter["base_model.model." + m + ".lora_embedding_B"] = B.astype(np.float32)
layers[m + ".weight"] = ("lora_embedding", r, s)

# modules_to_save: the classifier head saved whole.
score = base["score.weight"] + 0.2 * gaussian(10, 16)
adapter["base_model.model.score.weight"] = score.astype(np.float32)
layers["score.weight"] = ("modules_to_save", None, None)

# Merged checkpoint, from the f32 values actually stored, in f64.
for name, (kind, r, s) in layers.items():
    module = name[: -len(".weight")]
    pre = "base_model.model." + module
    if kind == "lora":
        A = adapter[pre + ".lora_A.weight"].astype(np.float64)
        B = adapter[pre + ".lora_B.weight"].astype(np.float64)
        merged[name] = base[name] + s * (B @ A)
    elif kind == "lora_embedding":
        A = adapter[pre + ".lora_embedding_A"].astype(np.float64)
        B = adapter[pre + ".lora_embedding_B"].astype(np.float64)
        merged[name] = base[name] + s * (B @ A).T
    else:
        merged[name] = adapter["base_model.model." + name].astype(np.float64)


def columns(w0, w1):
    d = w1 - w0
    u0, s0, v0t = np.linalg.svd(w0, full_matrices=False)
    u1, s1, v1t = np.linalg.svd(w1, full_matrices=False)
    sd = np.linalg.svd(d, compute_uv=False)
    base_fro = float(np.linalg.norm(w0))
    fro2 = float(np.sum(sd**2))
    p = sd / sd.sum()
    p = p[p > 0]
    k = min(K, u1.shape[1])
    c = np.abs(u1[:, :k].T @ u0).max(axis=1)
    cr = np.abs(v1t[:k] @ v0t.T).max(axis=1)
    kk = min(K, u0.shape[1], u1.shape[1])
    ol = float(np.sum((u0[:, :kk].T @ u1[:, :kk]) ** 2) / kk)
    orr = float(np.sum((v0t[:kk] @ v1t[:kk].T) ** 2) / kk)
    m = w0.shape[0]
    return {
        "shape": list(w0.shape),
        "base_fro": base_fro,
        "delta_fro": float(np.sqrt(fro2)),
        "delta_rel_fro": float(np.sqrt(fro2) / base_fro),
        "delta_spectral_norm": float(sd[0]),
        "delta_spectral_rel": float(sd[0] / s0[0]),
        "delta_stable_rank": float(fro2 / sd[0] ** 2),
        "delta_erank": float(np.exp(-np.sum(p * np.log(p)))),
        "overlap_left": ol,
        "overlap_right": orr,
        "intruder_sims": c.tolist(),
        "intruder_sims_right": cr.tolist(),
        "overlap_matrix": np.abs(u1[:, :kk].T @ u0[:, :kk]).tolist(),
        "intruders": int(np.sum(c < EPS)),
        "intruders_right": int(np.sum(cr < EPS)),
        "intruder_sweep": [int(np.sum(c < e)) for e in SWEEP],
        "chance_level": float(np.sqrt(2 * np.log(m) / m)),
        "sqnr_db": float(10 * np.log10(base_fro**2 / fro2)),
        "delta_singular_values": sd[: min(8, len(sd))].tolist(),
    }


golden = {"k": K, "eps": EPS, "layers": {}}
for name, (kind, r, s) in layers.items():
    row = columns(base[name], merged[name])
    row["kind"] = kind
    row["lora_rank"] = r
    row["lora_scale"] = s
    golden["layers"][name] = row
golden["summary"] = {
    "intruders": sum(v["intruders"] for v in golden["layers"].values()),
    "intruder_sweep": [
        sum(v["intruder_sweep"][i] for v in golden["layers"].values()) for i in range(len(SWEEP))
    ],
}

os.makedirs(os.path.join(HERE, "adapter"), exist_ok=True)
save_file(base, os.path.join(HERE, "base.safetensors"))
save_file(merged, os.path.join(HERE, "merged.safetensors"))
save_file(adapter, os.path.join(HERE, "adapter", "adapter_model.safetensors"))
with open(os.path.join(HERE, "adapter", "adapter_config.json"), "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
with open(os.path.join(HERE, "golden.json"), "w") as f:
    json.dump(golden, f, indent=1)
    f.write("\n")
for name, row in golden["layers"].items():
    print(
        f"{name:45s} {row['kind']:16s} rel={row['delta_rel_fro']:.4f} sqnr={row['sqnr_db']:.2f} dB "
        f"intruders={row['intruders']} sweep={row['intruder_sweep']}"
    )
print("total intruders:", golden["summary"]["intruders"])

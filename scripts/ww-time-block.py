"""Times WeightWatcher analyze() (default metrics, 1 thread) on a safetensors file whose tensors are
BF16 (the synthetic block of scripts/gen-llama7b-block.py), loaded as a state dict of float32 numpy
arrays (bf16 -> f32 is exact). Prints one JSON line: wall/CPU seconds of analyze() and the load.

    <ww venv python> scripts/ww-time-block.py FILE.safetensors

Uses tests/goldens/htsr/make_goldens.py's WeightWatcher setup (pinned versions, torch stub, 1 BLAS
thread) and run_ww().
"""

import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "goldens", "htsr"))
import make_goldens as mg  # noqa: E402  (sets the 1-thread env before numpy is imported)
import numpy as np  # noqa: E402


def load_bf16(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        sd = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            if meta["dtype"] != "BF16":
                raise SystemExit(f"{name}: dtype {meta['dtype']}, expected BF16")
            a, b = meta["data_offsets"]
            raw = np.fromfile(f, dtype=np.uint16, count=(b - a) // 2, offset=base + a - f.tell())
            sd[name] = (raw.astype(np.uint32) << np.uint32(16)).view(np.float32).reshape(meta["shape"])
            f.seek(base + b)
    return sd


def main():
    sd = load_bf16(sys.argv[1])
    load0 = os.getloadavg()
    res = mg.run_ww(sd, debug_log=False)
    print(json.dumps({"analyze_wall_s": res["elapsed"], "analyze_process_cpu_s": res["cpu"],
                      "num_layers": len(res["details"]), "loadavg_before": load0,
                      "loadavg_after": os.getloadavg(),
                      "alpha": [float(x) for x in res["details"]["alpha"]]}))


if __name__ == "__main__":
    main()

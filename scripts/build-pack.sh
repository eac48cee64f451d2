#!/usr/bin/env bash
# `npm run pack`: the publishable npm package dist/spectralab-<version>.tgz.
#   bin/spectralab.mjs        the CLI (`npx spectralab analyze …`; web/bin/spectralab.mjs)
#   engine/node.mjs           the Node API (`import { analyzeFile } from 'spectralab'`)
#   spectralab-widgets.js, widgets/, engine/, chart/, pkg/{,spectrum-}{simd,baseline}/
#                             the widgets exactly as scripts/build-dist.sh packages them
#                             (`import 'spectralab/widgets'`; the folder also works as a static copy)
#   types/                    .d.ts of the Node API and the widgets
#   package.json, README.md, LICENSE (from packaging/npm/)
# The wasm is the size-optimised build of scripts/build-dist.sh; DIST_WASM_FROM=web/pkg reuses
# the release builds of scripts/build-wasm.sh instead (the test suite does this). No
# dependencies, no install scripts: the package installs offline.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$PATH"
bash scripts/build-dist.sh simd baseline spectrum-simd spectrum-baseline

VERSION=$(node -p 'require("./package.json").version')
STAGE=target/pack/package
rm -rf "$STAGE"; mkdir -p "$STAGE/bin" "$STAGE/types"
cp -r dist/spectralab-widgets.js dist/widgets dist/engine dist/chart dist/pkg dist/README.txt "$STAGE/"
cp web/engine/node.mjs web/engine/node-charts.mjs web/engine/node-font.json web/engine/fetch-thread.mjs "$STAGE/engine/"
cp web/bin/spectralab.mjs "$STAGE/bin/"
chmod +x "$STAGE/bin/spectralab.mjs"
cp packaging/npm/types/*.d.ts "$STAGE/types/"
cp packaging/npm/README.md packaging/npm/LICENSE "$STAGE/"
VERSION="$VERSION" node -e '
  const root = require("./package.json");
  const pkg = {
    name: "spectralab",
    version: process.env.VERSION,
    description: "Spectral analysis of neural-network weights (WeightWatcher-style HT-SR) in WebAssembly: Node CLI for CI, Node API, web widgets",
    license: root.license,
    type: "module",
    engines: { node: ">=18" },
    bin: { spectralab: "./bin/spectralab.mjs" },
    main: "./engine/node.mjs",
    types: "./types/index.d.ts",
    exports: {
      ".": { types: "./types/index.d.ts", default: "./engine/node.mjs" },
      "./widgets": { types: "./types/widgets.d.ts", default: "./widgets/spectralab-widgets.js" },
      "./package.json": "./package.json",
    },
    sideEffects: ["./spectralab-widgets.js", "./widgets/**"],
    keywords: ["weightwatcher", "htsr", "spectral", "eigenvalues", "neural-network", "wasm", "safetensors", "gguf"],
  };
  require("fs").writeFileSync(process.argv[1] + "/package.json", JSON.stringify(pkg, null, 2) + "\n");
' "$STAGE"
mkdir -p dist
rm -f "dist/spectralab-$VERSION.tgz"
# The files are listed by package.json's defaults (everything in the stage); --ignore-scripts:
# nothing runs.
(cd "$STAGE" && npm pack --ignore-scripts --pack-destination "$ROOT/dist" >/dev/null)
TGZ="dist/spectralab-$VERSION.tgz"
[ -f "$TGZ" ] || { echo "[pack] $TGZ missing"; exit 1; }
UNPACKED=$(du -sb "$STAGE" | cut -f1)
echo "[pack] $TGZ: $(stat -c %s "$TGZ") bytes packed, $UNPACKED bytes unpacked, $(find "$STAGE" -type f | wc -l) files"

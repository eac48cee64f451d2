// Headless entry for Node (tests, users' CI): the wasm engine without a browser.
//
//   import { analyzeFile } from './web/engine/node.mjs';
//   const report = analyzeFile('model.safetensors', { mpFit: true, farms: true });
//   // → { layers: [...WeightWatcher columns...], skipped: [...], summary: {...} }
//
// The file is read tensor by tensor with fs.readSync (never whole). Loads the SIMD128 build
// (Node ≥ 16 has SIMD) or the baseline build with `init('baseline')`.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename } from 'node:path';

let wasm = null;
let loadedBuild = null;

/** Instantiates a build once (`'simd'` or `'baseline'`; the threaded build needs Web Workers). */
export async function init(build = 'simd') {
  if (wasm) {
    if (build !== loadedBuild) throw new Error(`already initialised with the ${loadedBuild} build`);
    return wasm;
  }
  if (build !== 'simd' && build !== 'baseline') throw new Error(`build must be 'simd' or 'baseline', got ${build}`);
  const mod = await import(new URL(`../pkg/${build}/spectralab_wasm.js`, import.meta.url));
  mod.initSync({ module: readFileSync(new URL(`../pkg/${build}/spectralab_wasm_bg.wasm`, import.meta.url)) });
  wasm = mod;
  loadedBuild = build;
  return mod;
}

/** Build information of the loaded module. */
export async function buildInfo() {
  return (await init()).buildInfo();
}

/**
 * Eigenspectrum analysis of a model file. `options`: {farms, mpFit, randomize, seed, fixFingers,
 * xmax, fast, minEvals, maxEvals, maxN}. `onProgress(done, total, layerName)` may return false
 * to stop early. Throws an Error with a readable message on bad files.
 */
export async function analyzeFile(path, options = {}, onProgress = undefined) {
  const mod = await init(loadedBuild ?? 'simd');
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const readAt = (offset, length) => {
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buf, done, length - done, offset + done);
        if (n === 0) throw new Error(`unexpected end of file at byte ${offset + done}`);
        done += n;
      }
      return buf;
    };
    return mod.analyzeModel(size, readAt, basename(path), options, onProgress);
  } finally {
    closeSync(fd);
  }
}

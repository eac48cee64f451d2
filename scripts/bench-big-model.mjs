// Streaming benchmark: the large generated models (scripts/make-big-model.py) through the wasm
// engine in Node, with the wasm memory high-water mark of the instance.
//
//   python3 scripts/make-big-model.py /path/big        (about 7.6 GiB)
//   node scripts/bench-big-model.mjs /path/big [simd|baseline]
//
// One process per model, so each high-water mark belongs to one analysis. Prints one JSON line
// per model: {model, layers, errors, seconds, wasmMemoryMiB, bound}.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const [dir, build = 'simd', only] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/bench-big-model.mjs DIR [simd|baseline]');
  process.exit(2);
}
if (only) {
  const { analyzeFile, init, wasmMemoryBytes } = await import('../web/engine/node.mjs');
  await init(build);
  const t0 = performance.now();
  const r = await analyzeFile(only, { maxN: 100_000_000 });
  const seconds = (performance.now() - t0) / 1000;
  const maxM = Math.max(...r.layers.map((l) => l.M));
  const errors = r.layers.filter((l) => l.status === 'error').map((l) => `${l.name}: ${l.reason}`);
  console.log(JSON.stringify({
    model: only,
    layers: r.layers.length,
    errors,
    seconds: Number(seconds.toFixed(1)),
    wasmMemoryMiB: Number((wasmMemoryBytes() / 2 ** 20).toFixed(1)),
    // The bound for the Gram path: 8·M² + 64 MiB for the widest layer.
    boundMiB: Number(((8 * maxM * maxM) / 2 ** 20 + 64).toFixed(1)),
  }));
} else {
  for (const m of ['big-tensor.safetensors', 'sharded']) {
    execFileSync(process.execPath, [new URL(import.meta.url).pathname, dir, build, join(dir, m)], { stdio: 'inherit' });
  }
}

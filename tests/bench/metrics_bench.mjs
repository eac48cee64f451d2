// Benchmark of the Vendi score in wasm (headless Chromium, single-threaded SIMD build) against
// vendi-score 0.0.3 (numpy) on the same 5000 × 128 float32 embeddings, measured in one run.
//   node tests/bench/metrics_bench.mjs [--n 5000] [--d 128] [--repeats 5]
// Needs web/pkg/simd (scripts/build-wasm.sh simd) and the venv .cache/metrics-venv with
// tests/goldens/metrics/requirements.txt (or env METRICS_PYTHON). Prints a ratio table.
// Targets (issue 6): wasm ≤ 1.5 × score_dual; ≥ 100 × faster than score_X; a 50-q profile < 2 × one score.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { launchBrowser } from '../e2e/browser.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('n', 5000);
const D = arg('d', 128);
const REPEATS = arg('repeats', 5);
const PY = process.env.METRICS_PYTHON ?? join(ROOT, '.cache', 'metrics-venv', 'bin', 'python');

/** Deterministic clustered embeddings: 20 Gaussian clusters in R^d plus noise (xorshift + Box–Muller). */
function makeData(n, d) {
  let s = 0x9e3779b9;
  const u = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const centres = Array.from({ length: 20 }, () => Float64Array.from({ length: d }, g));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[i % 20];
    for (let j = 0; j < d; j++) x[i * d + j] = c[j] + 0.7 * g();
  }
  return x;
}

function npy(data, rows, cols) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(head, 0);
  head[6] = 1; head[7] = 0; head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main() {
  const data = makeData(N, D);
  const tmp = mkdtempSync(join(tmpdir(), 'spectralab-bench-'));
  const file = join(tmp, `emb-${N}x${D}.npy`);
  writeFileSync(file, npy(data, N, D));
  console.log(`# ${N} × ${D} float32, ${cpus().length} CPUs, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')} (a shared machine: absolute times are noisy, ratios less so)`);

  // --- wasm in headless Chromium (main thread, SIMD build, 1 thread) ---
  const server = await startServer({ isolation: false });
  const browser = await launchBrowser();
  let wasm;
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/web/`, { waitUntil: 'domcontentloaded' }).catch(() => {});
    wasm = await page.evaluate(
      async ({ b64, n, d, repeats }) => {
        const mod = await import('/web/pkg/simd/spectralab_wasm.js');
        await mod.default();
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const x = new Float32Array(bytes.buffer);
        const qs = Array.from({ length: 50 }, (_, i) => (i === 0 ? 0 : i === 49 ? 64 : 0.1 * 1.13 ** i));
        const time = (fn) => {
          const t = performance.now();
          const v = fn();
          return [performance.now() - t, v];
        };
        time(() => mod.vendiScore(x, n, d, { kernel: 'cosine', q: 1 })); // warm-up
        const score = [];
        const profile = [];
        let value;
        let prof;
        for (let r = 0; r < repeats; r++) {
          const [ms, v] = time(() => mod.vendiScore(x, n, d, { kernel: 'cosine', q: 1 }));
          score.push(ms);
          value = v.score;
          const [pms, p] = time(() => mod.vendiProfile(x, n, d, { kernel: 'cosine', qs }));
          profile.push(pms);
          prof = p;
        }
        return { info: mod.buildInfo(), score, profile, value, q1: prof.vendi[prof.q.findIndex((q) => q > 0.99 && q < 1.2)] };
      },
      { b64: Buffer.from(data.buffer).toString('base64'), n: N, d: D, repeats: REPEATS },
    );
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }

  // --- the Python peer (single-threaded BLAS, like the wasm build) ---
  if (!existsSync(PY)) throw new Error(`${PY} missing: python -m venv .cache/metrics-venv && pip install -r tests/goldens/metrics/requirements.txt`);
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const peer = JSON.parse(execFileSync(PY, [join(ROOT, 'tests', 'bench', 'metrics_peers.py'), file, '--repeats', String(REPEATS)], { env, encoding: 'utf8', maxBuffer: 1 << 24 }));
  rmSync(tmp, { recursive: true, force: true });

  const w = median(wasm.score);
  const wp = median(wasm.profile);
  const dual = median(peer.score_dual.ms);
  const sx = median(peer.score_X.ms);
  const rows = [
    ['wasm vendiScore (cosine, q=1)', w, wasm.value, ''],
    ['wasm vendiProfile (50 q)', wp, null, `profile / score = ${(wp / w).toFixed(2)} (target < 2)`],
    ['numpy score_dual', dual, peer.score_dual.value, `wasm / score_dual = ${(w / dual).toFixed(2)} (target ≤ 1.5)`],
    ['numpy score_X (n × n)', sx, peer.score_X.value, `score_X / wasm = ${(sx / w).toFixed(0)}× (target ≥ 100)`],
  ];
  console.log(`# wasm build: ${wasm.info.simd ? 'SIMD' : 'baseline'}, threads ${wasm.info.threadCount}, gram kernel ${wasm.info.gramKernel}; numpy ${peer.numpy}, BLAS threads ${peer.threads}; median of ${REPEATS} (score_X: 1)`);
  console.log('| what | ms | Vendi | ratio |');
  console.log('|---|---:|---:|---|');
  for (const [what, ms, v, note] of rows) console.log(`| ${what} | ${ms.toFixed(1)} | ${v === null ? '' : v.toFixed(4)} | ${note} |`);
  const agree = Math.abs(wasm.value - peer.score_dual.value) / peer.score_dual.value;
  console.log(`# agreement wasm vs score_dual: relative difference ${agree.toExponential(2)}`);
  const ok = w / dual <= 1.5 && sx / w >= 100 && wp / w < 2;
  console.log(`# targets ${ok ? 'met' : 'NOT all met'}`);
}

await main();

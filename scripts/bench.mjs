// Spectralab benchmark driver: `npm run bench` (→ scripts/bench.sh → this file).
//
// In ONE run, one after the other (never concurrently, the box has 2 cores):
//   1. builds the wasm variants that are missing or stale (scripts/build-wasm.sh simd baseline threads)
//      and the Python venv .bench-venv if missing (bench/requirements.txt, pinned);
//   2. native Rust: criterion, `cargo bench -p spectralab-core --bench linalg --features parallel`;
//   3. peers: numpy/scipy on 1 BLAS thread (bench/python/bench_linalg.py);
//   4. wasm in headless Chromium: the page bench/web/ (served by scripts/serve.mjs, cross-origin
//      isolated) for each build, every op run in a module Worker;
// then prints the ratio table and writes BENCHMARKS.md (+ raw JSON in target/bench/latest.json).
//
// Options: --quick (few reps; writes target/bench/BENCHMARKS.quick.md instead of BENCHMARKS.md)
//          --builds simd,baseline,threads   --reps N (wasm + python)   --skip-native
//          --skip-build (use web/pkg as is)   --out FILE
//          --wait-idle (before each measured phase, wait up to 10 min for the CPUs to be < 15% busy)
//          --report-only (re-render BENCHMARKS.md from target/bench/latest.json, measuring nothing)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const QUICK = flag('--quick');
const BUILDS = opt('--builds', 'simd,baseline,threads').split(',');
const REPS = Number(opt('--reps', QUICK ? 2 : 7));
const WARMUP = QUICK ? 0 : 2;
const PY_REPS = Number(opt('--reps', QUICK ? 2 : 7));
const OUT = resolve(ROOT, opt('--out', QUICK ? 'target/bench/BENCHMARKS.quick.md' : 'BENCHMARKS.md'));
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
const RAW_NAME = QUICK ? 'latest.quick.json' : 'latest.json';
const VENV = join(ROOT, '.bench-venv');
const PY = join(VENV, 'bin', 'python');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

const EMB = { rows: 30522, cols: 384 };
const started = new Date();
const phases = [];

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** Runs a command, output streamed to our stderr (or captured); throws on failure. */
function sh(cmd, cmdArgs, { capture = false, env = {} } = {}) {
  const r = spawnSync(cmd, cmdArgs, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : ['ignore', 2, 2],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} exited with ${r.status}`);
  return capture ? r.stdout : '';
}
function tryOut(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Busy fraction of all CPUs over `ms` (from /proc/stat). */
async function cpuBusy(ms = 1000) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

/** With --wait-idle: waits (≤ 10 min) until the box is quiet (< 15% busy for 3 s in a row). */
async function waitIdle(name) {
  if (!flag('--wait-idle')) return null;
  const t0 = Date.now();
  let quiet = 0;
  let busy = 1;
  while (quiet < 3 && Date.now() - t0 < 600_000) {
    busy = await cpuBusy(1000);
    quiet = busy < 0.15 ? quiet + 1 : 0;
  }
  const waited = (Date.now() - t0) / 1000;
  if (quiet < 3) log(`${name}: box still busy (${(busy * 100).toFixed(0)}%) after 10 min, measuring anyway`);
  else if (waited > 4) log(`${name}: waited ${waited.toFixed(0)} s for the box to go quiet`);
  return waited;
}

/**
 * CPU accounting, to tell how much of a phase's CPU went to processes that are not ours
 * (a concurrent build skews every timing on a 2-core box): busy jiffies of all CPUs from
 * /proc/stat, and utime+stime+cutime+cstime of this process and its descendants.
 */
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
    for (const [pid, p] of procs) {
      if (!mine.has(pid) && mine.has(p.ppid)) { mine.add(pid); grew = true; }
    }
  }
  const own = new Map([...mine].map((pid) => [pid, procs.get(pid)?.cpu ?? 0]));
  return { total, busy, own };
}
/** Share of all CPUs' time between two snapshots that went to processes other than ours. */
function othersShare(a, b) {
  let own = 0;
  for (const [pid, cpu] of b.own) own += cpu - (a.own.get(pid) ?? 0);
  const dt = b.total - a.total;
  return dt > 0 ? Math.max(0, (b.busy - a.busy - own) / dt) : 0;
}

/** Times a phase; records the load average at its start and the CPU share of other processes. */
async function phase(name, fn, { measure = false } = {}) {
  const waited = measure ? await waitIdle(name) : null;
  const load = loadavg()[0];
  log(`${name} (load avg ${load.toFixed(2)})`);
  const t0 = Date.now();
  const c0 = cpuSnapshot();
  const r = await fn();
  const others = othersShare(c0, cpuSnapshot());
  if (measure && others > 0.1) log(`${name}: other processes used ${(others * 100).toFixed(0)}% of the CPUs meanwhile`);
  phases.push({ name, seconds: (Date.now() - t0) / 1000, load1_at_start: load, waited_idle_s: waited, others_cpu: others, measure });
  return r;
}

// ---------------------------------------------------------------- 1. builds + venv
async function ensureBuilds() {
  if (flag('--skip-build')) return;
  sh('bash', ['scripts/build-wasm.sh', ...BUILDS]);
}

async function ensureVenv() {
  const ok = existsSync(PY) &&
    spawnSync(PY, ['-c', 'import numpy, scipy, threadpoolctl'], { cwd: ROOT }).status === 0;
  if (ok) return;
  log('creating .bench-venv (numpy, scipy, threadpoolctl from bench/requirements.txt)');
  if (!existsSync(PY)) sh('python3', ['-m', 'venv', VENV]);
  sh(PY, ['-m', 'pip', 'install', '--quiet', '-r', 'bench/requirements.txt']);
}

// ---------------------------------------------------------------- 2. native criterion
const NATIVE_IDS = ['eigvalsh_f64_1024', 'eigvalsh_f32_1024', 'svdvals_f64_1024', 'gram_f32_30522x384',
  'gram_eig_f32_30522x384', 'gram_f32_30522x384_par', 'gram_eig_f32_30522x384_par'];
const CARGO_BENCH = ['bench', '-p', 'spectralab-core', '--bench', 'linalg', '--features', 'parallel'];

function compileNative() {
  sh('cargo', [...CARGO_BENCH, '--no-run']);
}

function runNative() {
  const dir = join(TARGET_DIR, 'criterion', 'linalg');
  rmSync(dir, { recursive: true, force: true }); // no stale estimates
  sh('cargo', CARGO_BENCH, { env: QUICK ? { SPECTRALAB_BENCH_QUICK: '1' } : {} });
  const ops = {};
  for (const id of NATIVE_IDS) {
    const f = join(dir, id, 'new', 'estimates.json');
    if (!existsSync(f)) continue;
    const est = JSON.parse(readFileSync(f, 'utf8'));
    ops[id] = {
      median_ms: est.median.point_estimate / 1e6,
      mean_ms: est.mean.point_estimate / 1e6,
      median_ci_ms: [est.median.confidence_interval.lower_bound / 1e6, est.median.confidence_interval.upper_bound / 1e6],
    };
  }
  return { tool: 'criterion 0.8 (cargo bench, release profile)', rayon_threads: cpus().length, ops };
}

// ---------------------------------------------------------------- 3. numpy/scipy
function runPython() {
  const out = sh(PY, ['bench/python/bench_linalg.py', '--reps', String(PY_REPS), ...(QUICK ? ['--quick'] : [])],
    { capture: true });
  return JSON.parse(out);
}

// ---------------------------------------------------------------- 4. wasm in Chromium
async function runBrowser() {
  const server = await startServer({ port: 0, isolation: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const results = { chromium: browser.version(), builds: {} };
  try {
    for (const build of BUILDS) {
      await phase(`wasm ${build} in Chromium`, async () => {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => {
          if (m.text().startsWith('[bench]')) log(`  ${m.text().slice(8)}`);
          else if (m.type() === 'error') errors.push(m.text());
        });
        const url = `${server.url}/bench/?build=${build}&reps=${REPS}&warmup=${WARMUP}&threads=2`;
        await page.goto(url);
        await page.waitForFunction(() => window.benchDone !== undefined);
        try {
          results.builds[build] = await page.evaluate(() => window.benchDone);
        } catch (e) {
          throw new Error(`bench page failed for ${build}: ${e.message}\n${errors.join('\n')}`);
        }
        await ctx.close();
      }, { measure: true });
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return results;
}

// ---------------------------------------------------------------- report
const fmt = (ms) => (ms == null ? '–' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const fx = (r) => (r == null || !Number.isFinite(r) ? '–' : `${r.toFixed(2)}×`);
/** a / b, or null when either is missing. */
const div = (a, b) => (a == null || b == null ? null : a / b);
const gramFlops = EMB.rows * EMB.cols * (EMB.cols + 1); // upper triangle incl. diagonal
const gflops = (ms) => (ms ? gramFlops / (ms * 1e6) : null);

/** `[profile.release]` of the workspace (the native bench and every wasm build use it). */
function releaseProfile() {
  const toml = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8');
  const sec = /\[profile\.release\]([^[]*)/.exec(toml)?.[1] ?? '';
  const kv = [...sec.matchAll(/^\s*([\w-]+)\s*=\s*(.+?)\s*$/gm)].map((m) => `${m[1]} = ${m[2]}`);
  return kv.length ? kv.join(', ') : 'cargo defaults';
}

function machineInfo(py, browserRes) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown';
  const flags = (/flags\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? '').split(' ');
  const simd = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f'].filter((f) => flags.includes(f));
  const lock = readFileSync(join(ROOT, 'Cargo.lock'), 'utf8');
  const ver = (name) => new RegExp(`name = "${name}"\\nversion = "([^"]+)"`).exec(lock)?.[1] ?? '?';
  return {
    cpu: model,
    cores: cpus().length,
    cpu_flags: simd.join(' '),
    memory_gib: (totalmem() / 2 ** 30).toFixed(1),
    kernel: release(),
    rustc: tryOut('rustc', ['--version']),
    rustc_nightly: tryOut('rustc', ['+nightly', '--version']),
    node: process.version,
    chromium: browserRes?.chromium ?? null,
    python: py?.python,
    numpy: py?.numpy,
    scipy: py?.scipy,
    threadpoolctl: py?.threadpoolctl,
    blas: (py?.blas ?? []).map((b) => `${b.prefix} ${b.version} (${b.architecture}, ${b.num_threads} thread)`).join('; '),
    cargo_release_profile: releaseProfile(),
    crates: `faer ${ver('faer')}, gemm ${ver('gemm')}, ndarray ${ver('ndarray')}, rayon ${ver('rayon')}, ` +
      `wasm-bindgen ${ver('wasm-bindgen')}, wasm-bindgen-rayon ${ver('wasm-bindgen-rayon')}, criterion ${ver('criterion')}`,
  };
}

function buildReport({ native, py, browser }) {
  const w = (b, id) => browser?.builds?.[b]?.ops?.[id]?.median_ms ?? null;
  const nat = (id) => native?.ops?.[id]?.median_ms ?? null;
  const peer = (id) => py?.ops?.[id]?.median_ms ?? null;
  const ratio = (a, b) => (a != null && b != null ? a / b : null);

  const targets = [
    {
      op: 'eigenvalues, symmetric 1024×1024 f64',
      oursLabel: 'wasm simd, 1 thread', ours: w('simd', 'eigvalsh_f64_1024'),
      peerLabel: "scipy eigh(driver='evd'), 1 BLAS thread", peer: peer('eigvalsh_f64_1024'),
      kind: 'slowdown', target: 1.5,
    },
    {
      op: 'Gram + eigenvalues, 30522×384 f32',
      oursLabel: 'wasm simd, 1 thread', ours: w('simd', 'gram_eig_f32_30522x384'),
      peerLabel: 'numpy W.T@W + eigvalsh, 1 BLAS thread', peer: peer('gram_eig_f32_30522x384'),
      kind: 'slowdown', target: 2,
    },
    {
      op: 'Gram 30522×384 f32, threaded build',
      oursLabel: 'parallel=true, 2 threads', ours: w('threads', 'gram_f32_30522x384_par'),
      peerLabel: 'parallel=false, same module', peer: w('threads', 'gram_f32_30522x384'),
      kind: 'speedup', target: 1.6,
    },
  ];
  for (const t of targets) {
    t.ratio = t.kind === 'slowdown' ? ratio(t.ours, t.peer) : ratio(t.peer, t.ours);
    t.met = t.ratio == null ? null : t.kind === 'slowdown' ? t.ratio <= t.target : t.ratio >= t.target;
    t.targetText = t.kind === 'slowdown' ? `≤ ${t.target}× slower` : `≥ ${t.target}× faster`;
  }

  const ctxOps = [
    ['eigvalsh_f64_1024', 'eigenvalues sym 1024 f64'],
    ['eigvalsh_f32_1024', 'eigenvalues sym 1024 f32'],
    ['svdvals_f64_1024', 'singular values 1024 f64'],
    ['gram_f32_30522x384', 'Gram 30522×384 f32'],
    ['gram_eig_f32_30522x384', 'Gram + eigenvalues 30522×384 f32'],
  ];
  const context = ctxOps.map(([id, label]) => ({
    id, label,
    native: nat(id), nativePar: nat(`${id}_par`),
    simd: w('simd', id), baseline: w('baseline', id),
    thrSeq: w('threads', id), thrPar: w('threads', `${id}_par`),
    peer: peer(id), peerCode: py?.ops?.[id]?.code,
  }));
  return { targets, context };
}

function targetTable(targets) {
  const head = '| op | ours | ms | peer | ms | ratio | target | met? |\n|---|---|---:|---|---:|---:|---|---|';
  const rows = targets.map((t) =>
    `| ${t.op} | ${t.oursLabel} | ${fmt(t.ours)} | ${t.peerLabel} | ${fmt(t.peer)} | ` +
    `${t.ratio == null ? '–' : `${t.ratio.toFixed(2)}× ${t.kind === 'slowdown' ? 'slower' : 'faster'}`} | ` +
    `${t.targetText} | ${t.met == null ? 'n/a' : t.met ? '**yes**' : '**no**'} |`);
  return [head, ...rows].join('\n');
}

function contextTable(context) {
  const head = '| op | native 1T | native 2T | wasm simd | wasm baseline | wasm threads 1T / 2T | numpy/scipy 1T | ' +
    'simd/native | simd/peer | native/peer | baseline/simd |\n' +
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = context.map((c) =>
    `| ${c.label} | ${fmt(c.native)} | ${fmt(c.nativePar)} | ${fmt(c.simd)} | ${fmt(c.baseline)} | ` +
    `${c.thrSeq == null ? '–' : `${fmt(c.thrSeq)} / ${fmt(c.thrPar)}`} | ${fmt(c.peer)} | ` +
    `${fx(div(c.simd, c.native))} | ${fx(div(c.simd, c.peer))} | ${fx(div(c.native, c.peer))} | ${fx(div(c.baseline, c.simd))} |`);
  return [head, ...rows].join('\n');
}

function reading({ targets, context }, browser, py) {
  const byId = Object.fromEntries(context.map((c) => [c.id, c]));
  const out = [];
  const [t1, t2, t3] = targets;
  const eig = byId.eigvalsh_f64_1024;
  const gram = byId.gram_f32_30522x384;
  const ge = byId.gram_eig_f32_30522x384;
  const pyGram = py?.ops?.gram_f32_30522x384;
  const pyGe = py?.ops?.gram_eig_f32_30522x384?.median_ms;
  const skewed = phases.filter((p) => p.measure && p.others_cpu > 0.1);
  if (skewed.length) {
    out.push(`* **This run was not alone on the machine:** other processes took ` +
      skewed.map((p) => `${(p.others_cpu * 100).toFixed(0)}% of the CPUs during "${p.name}"`).join(', ') +
      ' (see Phases). Ratios built on those phases are less reliable than usual; re-run on a quiet machine.');
  }

  if (t1.ratio != null) {
    out.push(`* **Eigenvalues 1024 f64 (${t1.met ? 'met' : 'missed'}, ${t1.ratio.toFixed(2)}×).** ` +
      'Both sides run the same algorithm class: blocked Householder tridiagonalisation (≈ 4/3·n³ flops, half ' +
      'of them matrix–vector, memory-bound) then divide-and-conquer on the tridiagonal. ' +
      `Native faer takes ${fmt(eig.native)} ms (${fx(div(eig.native, eig.peer))} of scipy), so wasm costs ` +
      `${fx(div(eig.simd, eig.native))} over native faer: 128-bit vectors instead of AVX-512, no FMA in wasm SIMD128 ` +
      '(relaxed-simd is not used), and bounds/JIT overheads in the level-2 part.' +
      (t1.met ? '' : ' What would close the gap lies inside faer\'s tridiagonalisation on wasm, not in our bindings.'));
  }
  if (t2.ratio != null && gram.simd != null) {
    const gOurs = gflops(gram.simd), gPeer = pyGram ? gflops(pyGram.median_ms) : null;
    out.push(`* **Gram + eigenvalues 30522×384 (${t2.met ? 'met' : 'missed'}, ${t2.ratio.toFixed(2)}×).** ` +
      `The Gram dominates: ${fmt(gram.simd)} of ${fmt(ge.simd)} ms in wasm (${gOurs.toFixed(1)} GFLOP/s on the ` +
      `upper triangle, ${(gramFlops / 1e9).toFixed(2)} GFLOP) against ${fmt(pyGram?.median_ms)} ms for numpy ` +
      `(${gPeer?.toFixed(1)} GFLOP/s; numpy sends \`W.T @ W\` to OpenBLAS ssyrk, which also computes one triangle, ` +
      `with AVX-512 FMA kernels: 16 f32 lanes and a fused multiply-add, i.e. up to 8× the flops per instruction of ` +
      'a wasm `f32x4.mul` + `f32x4.add` pair). The eigenvalues of the 384×384 Gram account for the rest ' +
      `(${fmt(Math.max(0, ge.simd - gram.simd))} ms in wasm, in f64, by difference of two medians; numpy's eigvalsh ` +
      `runs in f32 on its f32 Gram: ${fmt(pyGe - pyGram?.median_ms)} ms). ` +
      (gram.native != null
        ? `Native Rust takes ${fmt(gram.native)} ms for the same Gram (${fx(div(gram.native, gram.simd))} of wasm)` +
          (gram.native > gram.simd
            ? ': there is no x86 SIMD kernel, the native build runs the scalar twin (`kernels/scalar.rs`), which ' +
              'LLVM only partly vectorises for the x86-64 baseline target, so native Rust is no yardstick for the ' +
              'Gram; numpy is. '
            : '. ')
        : '') +
      (t2.met
        ? ''
        : (() => {
          const budget = 2 * pyGe - (ge.simd - gram.simd);
          return `Meeting ≤ 2× means ≤ ${fmt(2 * pyGe)} ms in total, i.e. the Gram at ≥ ` +
            `${budget > 0 ? (gramFlops / (budget * 1e6)).toFixed(0) : '∞'} GFLOP/s including the copy-in and ` +
            'checks — well above what 4-lane, non-fused wasm SIMD sustains on one core (a `mul` + `add` pair does ' +
            '8 flops where one AVX-512 FMA does 32). The levers left are relaxed-SIMD `f32x4.relaxed_madd` (FMA, ' +
            'not used yet), fewer passes over W (below) and a handle that keeps W in wasm memory between calls; ' +
            'on a machine without AVX-512 the ratio would also be smaller.';
        })()));
  }
  if (t3.ratio != null) {
    const thr = browser?.builds?.threads;
    const tSeq = t3.peer;
    const t128 = thr?.ops?.gram_f32_91566x128?.median_ms;
    // T(d) = S + c·(d+1) at a fixed element count (see bench-worker.js): solve from d = 128, 384.
    const serial = t128 != null && tSeq != null ? t128 - (129 * (tSeq - t128)) / 256 : null;
    const bound = serial != null && serial > 0 && serial < tSeq ? tSeq / (serial + (tSeq - serial) / 2) : null;
    out.push(`* **Threaded Gram (${t3.met ? 'met' : 'missed'}, ${t3.ratio.toFixed(2)}× on ${thr?.threads ?? 2} ` +
      `pool workers, hardwareConcurrency ${thr?.hardwareConcurrency ?? '?'}).** The calling Worker blocks while the ` +
      'pool splits the column panels of G; serial are the copy of W into wasm memory, the finiteness and max|w| ' +
      'scans, the packing of every 1024-row superblock into panels (done before each fork/join, 30 of them), and ' +
      'the final mirror of G. ' +
      (serial != null
        ? `Timing the same bytes as a 91566×128 matrix (same passes, 1/3 of the tile work: ${fmt(t128)} ms) and ` +
          `extrapolating puts those serial passes at ≈ ${fmt(serial)} ms of the ${fmt(tSeq)} ms, so Amdahl bounds ` +
          `the 2-thread speedup near ${fx(bound)}` +
          (t3.met
            ? '. '
            : bound != null && bound < t3.target
              ? `: ≥ ${t3.target}× needs those passes parallelised or fused (one scan for NaN/Inf and max|w| ` +
                'instead of two, packing inside the parallel panel tasks or parallel over sub-blocks). '
              : `; the rest of the gap to the measured ${fx(t3.ratio)} is the 30 fork/joins, the uneven panel ` +
                'sizes (panel q holds q+1 tiles) and whatever else runs on the two cores. ')
        : '') +
      (byId.gram_eig_f32_30522x384.thrPar != null
        ? `With the eigenvalues included (serial, f64) the speedup is ` +
          `${fx(div(byId.gram_eig_f32_30522x384.thrSeq, byId.gram_eig_f32_30522x384.thrPar))}. `
        : '') +
      (gram.native != null && gram.nativePar != null
        ? `Natively the same code gets ${fx(div(gram.native, gram.nativePar))} from 2 rayon threads. `
        : '') +
      'On a 2-core VM any other process (a build, the OS) takes from the same two cores.');
  }
  const sp = context.filter((c) => c.baseline != null && c.simd != null)
    .map((c) => `${c.label} ${fx(div(c.baseline, c.simd))}`);
  if (sp.length) {
    out.push(`* **SIMD128 vs baseline wasm:** ${sp.join(', ')}. The Gram gains most (our explicit v128 tile ` +
      'kernel); faer\'s eigen/SVD gain through gemm\'s simd128 kernels in their blocked parts only.');
  }
  const svd = byId.svdvals_f64_1024, e32 = byId.eigvalsh_f32_1024;
  if (svd.simd != null && svd.peer != null) {
    out.push(`* **Context:** singular values 1024 f64 in wasm are ${fx(div(svd.simd, svd.peer))} of scipy's gesdd; ` +
      `eigenvalues 1024 f32 ${fx(div(e32.simd, e32.peer))} of scipy's ssyevd.`);
  }
  const wasmTimes = browser?.builds?.simd;
  if (wasmTimes) {
    out.push(`* **Caveats:** wasm timings include copying the input into wasm memory (a plain JS copy of W ` +
      `takes ${fmt(wasmTimes.copy_w_ms)} ms) and the result out. numpy/scipy draw their matrices with PCG64, ` +
      'Rust/wasm with SeededRng: same distributions, not the same bits. Medians of ' +
      `${wasmTimes.reps} (wasm) / ${py?.reps} (Python) / 10 (criterion) runs after warm-up; this is a 2-core VM, ` +
      'so expect ±10% run to run even when it is otherwise idle.');
  }
  return out.join('\n');
}

function markdown(report, machine, raw) {
  const runArgs = raw.args ?? [];
  const cmd = `npm run bench${runArgs.length ? ` -- ${runArgs.join(' ')}` : ''}`;
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`${cmd}\` (scripts/bench.sh → scripts/bench.mjs) on ${raw.started}` +
      (raw.rendered ? ` (text re-rendered ${raw.rendered} from the raw results of that run).` : '.'),
    'All numbers of a table come from that one run; ratios compare numbers measured minutes apart on the same machine.',
    'Times are medians in milliseconds.',
    '',
    '## Targets',
    '',
    targetTable(report.targets),
    '',
    '## All ops (context)',
    '',
    contextTable(report.context),
    '',
    '* native: criterion, `cargo bench -p spectralab-core --bench linalg --features parallel` (the release profile ' +
      `listed below, x86-64 baseline target: no \`-C target-cpu=native\`); 2T = \`GramParams { parallel: true }\` ` +
      'on rayon\'s 2 threads.',
    '* wasm simd / baseline: single-threaded builds (`+simd128` / none) in headless Chromium, called from a module Worker.',
    '* wasm threads: the nightly threaded build (`+atomics,+simd128`, wasm-bindgen-rayon pool of 2 Workers); ' +
      '1T = `parallel=false`, 2T = `parallel=true`; all ops of a build are timed round-robin, rep by rep.',
    '* numpy/scipy: ' + report.context.map((c) => `${c.id}: \`${c.peerCode}\``).join('; ') + '.',
    '',
    '## Reading',
    '',
    reading(report, raw.browser, raw.py),
    '',
    '## Machine and versions',
    '',
    '| | |',
    '|---|---|',
    ...Object.entries(machine).map(([k, v]) => `| ${k} | ${v ?? '–'} |`),
    '',
    '## Phases',
    '',
    '| phase | seconds | load avg (1 min) at start | waited for idle CPUs (s) | CPU used by other processes |',
    '|---|---:|---:|---:|---:|',
    ...phases.map((p) => `| ${p.name} | ${p.seconds.toFixed(1)} | ${p.load1_at_start.toFixed(2)} | ` +
      `${p.waited_idle_s == null ? '–' : p.waited_idle_s.toFixed(0)} | ${(p.others_cpu * 100).toFixed(0)}% |`),
    '',
    'The last column is the share of both cores\' time that went to processes outside this run while the phase ran ' +
      '(from /proc). Above ~10% in a measured phase, treat that phase\'s numbers, and the ratios built on them, as skewed.',
    '',
    `Raw results (all repetitions, sanity checks): \`${relative(ROOT, join(TARGET_DIR, 'bench', RAW_NAME))}\` ` +
      '(not committed). In-browser page for manual runs: `node scripts/serve.mjs`, then `/bench/?build=simd`.',
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------- main
const t0 = Date.now();
let raw;
if (flag('--report-only')) {
  // Re-render BENCHMARKS.md from the last run's raw results (no measuring), e.g. after editing
  // the reading text. The header keeps that run's command and date.
  const prev = JSON.parse(readFileSync(join(TARGET_DIR, 'bench', 'latest.json'), 'utf8'));
  raw = { started: prev.started, args: prev.args, native: prev.native, py: prev.py, browser: prev.browser,
    phases: prev.phases, rendered: new Date().toISOString() };
  phases.push(...prev.phases);
} else {
  await phase('build wasm variants (skipped when up to date)', ensureBuilds);
  await phase('python venv', ensureVenv);
  let native = null;
  if (!flag('--skip-native')) {
    await phase('compile native bench', compileNative);
    native = await phase('native criterion', runNative, { measure: true });
  }
  const py = await phase('numpy/scipy', runPython, { measure: true });
  const browser = await runBrowser();
  raw = { started: started.toISOString(), args, native, py, browser, phases };
}
const { native, py, browser } = raw;
const machine = machineInfo(py, browser);
const report = buildReport({ native, py, browser });
mkdirSync(join(TARGET_DIR, 'bench'), { recursive: true });
if (!flag('--report-only')) {
  writeFileSync(join(TARGET_DIR, 'bench', RAW_NAME), JSON.stringify({ ...raw, machine, report }, null, 1));
}
const md = markdown(report, machine, raw);
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, md);

console.log(targetTable(report.targets));
console.log('');
console.log(contextTable(report.context));
const bad = Object.entries(browser.builds).flatMap(([b, r]) =>
  Object.entries(r.ops).filter(([, o]) => !(o.check_rel_err < 1e-3)).map(([id, o]) => `${b}/${id}: ${o.check_rel_err}`));
if (bad.length) log(`WARNING: sanity checks failed: ${bad.join(', ')}`);
log(`wrote ${relative(ROOT, OUT)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

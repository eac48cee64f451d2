// Module Worker that times Spectralab's wasm builds (see bench.js for the page, scripts/bench.mjs
// for the driver). All wasm work happens here, never on the main thread: the threaded build's
// rayon pool must be driven from a Worker (on the main thread it spin-waits).
//
// Protocol: the page posts { build, reps, warmup, threads, ops }; the worker answers
// { type: 'progress', message } … then { type: 'done', result } or { type: 'error', message }.
//
// Timing: performance.now() around one exported call, which includes copying the typed-array
// argument into wasm memory and the result back out (what a caller pays). Median of `reps`
// after `warmup` untimed calls (V8 runs a function in Liftoff until it has been hot once and
// tiers up for the *next* call, so the driver uses 2 warm-up calls).
// The ops are interleaved round-robin (op1, op2, …, op1, op2, …), so that a slow spell of the
// machine costs one repetition of every op rather than all repetitions of one, and the median
// drops it; the seq/par pair of the threaded build is timed under the same conditions.
// Checks (relative): Σλ = trace(A) scaled by Σ|λ|; Σσ² = ‖B‖²_F; trace(G) = Σλ(G) = ‖W‖²_F.

const EMB_ROWS = 30522;
const EMB_COLS = 384;
const N = 1024;
const SEED_SYM = 1n;
const SEED_SVD = 2n;
const SEED_EMB = 3n;

/** Op id → { code, run, check } — ids are shared with criterion and the Python script. */
function defineOps(w, m) {
  const emb = (fn, parallel) => () => fn(m.w, EMB_ROWS, EMB_COLS, parallel);
  return {
    eigvalsh_f64_1024: {
      code: 'symmetricEigenvalues(A, 1024)',
      run: () => w.symmetricEigenvalues(m.a64, N),
      check: (ev) => Math.abs(sum(ev) - m.traceA) / sumAbs(ev),
    },
    eigvalsh_f32_1024: {
      code: 'symmetricEigenvaluesF32(A32, 1024)',
      run: () => w.symmetricEigenvaluesF32(m.a32, N),
      check: (ev) => Math.abs(sum(ev) - m.traceA32) / sumAbs(ev),
    },
    svdvals_f64_1024: {
      code: 'singularValues(B, 1024, 1024)',
      run: () => w.singularValues(m.b64, N, N),
      check: (s) => relErr(sumSq(s), m.froB2),
    },
    gram_f32_30522x384: {
      code: 'gramF32(W, 30522, 384, false)',
      run: emb(w.gramF32, false),
      check: (g) => relErr(traceOf(g, EMB_COLS), m.froW2),
    },
    gram_f32_30522x384_par: {
      code: 'gramF32(W, 30522, 384, true)',
      run: emb(w.gramF32, true),
      check: (g) => relErr(traceOf(g, EMB_COLS), m.froW2),
    },
    // The same 11.7M floats seen as 91566×128: the copy-in, the NaN/Inf and max|w| scans and the
    // packing cost what they cost for 30522×384, the tile work is (128+1)/(384+1) of it. With
    // work ∝ d+1 at a fixed element count, T(d) = S + c·(d+1) gives the serial part S (the
    // Amdahl bound of the threaded build) from this and gram_f32_30522x384.
    gram_f32_91566x128: {
      code: 'gramF32(W, 91566, 128, false)',
      run: () => w.gramF32(m.w, EMB_ROWS * EMB_COLS / 128, 128, false),
      check: (g) => relErr(traceOf(g, 128), m.froW2),
    },
    gram_eig_f32_30522x384: {
      code: 'gramEigenvaluesF32(W, 30522, 384, false)',
      run: emb(w.gramEigenvaluesF32, false),
      check: (ev) => relErr(sum(ev), m.froW2),
    },
    gram_eig_f32_30522x384_par: {
      code: 'gramEigenvaluesF32(W, 30522, 384, true)',
      run: emb(w.gramEigenvaluesF32, true),
      check: (ev) => relErr(sum(ev), m.froW2),
    },
  };
}

const DEFAULT_OPS = {
  simd: ['eigvalsh_f64_1024', 'eigvalsh_f32_1024', 'svdvals_f64_1024', 'gram_f32_30522x384', 'gram_eig_f32_30522x384'],
  baseline: ['eigvalsh_f64_1024', 'eigvalsh_f32_1024', 'svdvals_f64_1024', 'gram_f32_30522x384', 'gram_eig_f32_30522x384'],
  threads: ['gram_f32_30522x384', 'gram_f32_30522x384_par', 'gram_f32_91566x128', 'gram_eig_f32_30522x384',
    'gram_eig_f32_30522x384_par'],
};

function sum(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
function sumAbs(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}
function sumSq(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}
function traceOf(g, n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += g[i * n + i];
  return s;
}
function relErr(x, ref) {
  return Math.abs(x - ref) / Math.max(Math.abs(ref), Number.MIN_VALUE);
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}
const round3 = (x) => Math.round(x * 1000) / 1000;

/** The test matrices, generated in wasm from fixed seeds (same generator as native). */
function makeMatrices(w) {
  const x = w.gaussianMatrixF32(N, N, 1.0, SEED_SYM);
  const a64 = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) a64[i * N + j] = 0.5 * (x[i * N + j] + x[j * N + i]);
  }
  const a32 = Float32Array.from(a64);
  const b64 = Float64Array.from(w.gaussianMatrixF32(N, N, 1.0, SEED_SVD));
  const wEmb = w.gaussianMatrixF32(EMB_ROWS, EMB_COLS, 0.02, SEED_EMB);
  return {
    a64, a32, b64, w: wEmb,
    traceA: traceOf(a64, N),
    traceA32: traceOf(a32, N),
    froB2: sumSq(b64),
    froW2: sumSq(wEmb),
  };
}

async function run({ build = 'simd', reps = 5, warmup = 1, threads = 2, ops = null }) {
  const say = (message) => postMessage({ type: 'progress', message });
  const t0 = performance.now();
  const w = await import(new URL(`../web/pkg/${build}/spectralab_wasm.js`, import.meta.url).href);
  await w.default();
  const initMs = performance.now() - t0;
  let poolMs = null;
  if (build === 'threads') {
    if (!self.crossOriginIsolated) throw new Error('threads build needs a cross-origin isolated page');
    const t1 = performance.now();
    // startThreadPool (validating wrapper, records the pool size for buildInfo) when exported,
    // else wasm-bindgen-rayon's raw initThreadPool.
    await (w.startThreadPool ?? w.initThreadPool)(threads);
    poolMs = performance.now() - t1;
  }
  const info = w.buildInfo();
  say(`${build}: ${JSON.stringify(info)}; generating matrices`);

  const tg = performance.now();
  const m = makeMatrices(w);
  const genMs = performance.now() - tg;
  // What copying W into wasm memory costs (every gram call does it): a plain JS copy of W.
  const tc = performance.now();
  const wCopy = m.w.slice();
  const copyWMs = performance.now() - tc;
  if (wCopy.length !== m.w.length) throw new Error('copy failed');

  const defs = defineOps(w, m);
  const ids = ops ?? DEFAULT_OPS[build] ?? DEFAULT_OPS.simd;
  for (const id of ids) if (!defs[id]) throw new Error(`unknown op ${id}`);
  const times = Object.fromEntries(ids.map((id) => [id, []]));
  const checks = {};
  for (let r = 0; r < warmup; r++) {
    for (const id of ids) checks[id] = defs[id].check(defs[id].run());
  }
  for (let r = 0; r < reps; r++) {
    for (const id of ids) {
      const ts = performance.now();
      const out = defs[id].run();
      times[id].push(performance.now() - ts);
      if (r === reps - 1) checks[id] = defs[id].check(out);
    }
    say(`${build}: round ${r + 1}/${reps} done`);
  }
  const results = {};
  for (const id of ids) {
    results[id] = {
      code: defs[id].code,
      median_ms: median(times[id]),
      min_ms: Math.min(...times[id]),
      times_ms: times[id].map(round3),
      check_rel_err: checks[id],
    };
    say(`${build} ${id}: median ${results[id].median_ms.toFixed(1)} ms`);
  }
  return {
    build,
    buildInfo: info,
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    threads: build === 'threads' ? threads : 1,
    reps,
    warmup,
    init_ms: round3(initMs),
    pool_ms: poolMs === null ? null : round3(poolMs),
    gen_ms: round3(genMs),
    copy_w_ms: round3(copyWMs),
    ops: results,
  };
}

self.onmessage = async (e) => {
  try {
    postMessage({ type: 'done', result: await run(e.data) });
  } catch (err) {
    postMessage({ type: 'error', message: String(err?.message ?? err), stack: String(err?.stack ?? '') });
  }
};

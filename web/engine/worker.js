// The engine worker: all wasm work runs here, never on the page's main thread.
//
// Protocol (structured-clone messages):
//   page → worker  {type: 'init', id, build, threads?, fault?}   load web/pkg/<build>/, start the thread pool
//                  (fault: a layer name whose analysis throws a trap's error, for the recovery tests)
//                  (+ module?: 'spectrum' loads pkg/spectrum-<build>/; wasm?: a WebAssembly.Module
//                  of that build compiled by the page, so the .wasm is not fetched a second time)
//                  {id, method, args}                     call a method (queued behind init)
//   worker → page  {id, result, ms}                       success; typed arrays are transferred
//                  {id, error, fatal?}                    failure (fatal: the wasm instance trapped)
//                  {id, progress}                         progress of a long call (0..1 or an object)
// Every request gets exactly one {result} or {error} reply, so the client never hangs on a thrown
// error. Only terminating the worker (the client's cancel) stops a call.
import { fetchTransport, openRemote, xhrTransport } from './hub.js';
import { pkgUrl } from './loader.js';

/** The imported wasm-bindgen module of the loaded build (null until init). */
let wasm = null;
/** Resolves to buildInfo() once init is done; rejects if init failed. */
let initPromise = null;
let loadedBuild = null;
/** The instance's WebAssembly.Memory (it only grows: its size is the high-water mark). */
let wasmMemory = null;

/** Loads a build: imports its glue, instantiates the module and (threads) starts the rayon pool. */
async function init(build, threads, module, compiled) {
  const mod = await import(pkgUrl(build, module));
  // Without a compiled module: fetches ../pkg/<build>/spectralab_wasm_bg.wasm next to the glue.
  const exports = await mod.default(compiled instanceof WebAssembly.Module ? { module_or_path: compiled } : undefined);
  wasmMemory = exports?.memory ?? null;
  if (build === 'threads') {
    if (typeof mod.startThreadPool !== 'function') {
      throw new Error('the threads build does not export startThreadPool');
    }
    const n = Math.max(1, Math.floor(Number(threads) || navigator.hardwareConcurrency || 1));
    // Rayon spawns its own Workers from here; its jobs are later started from this worker, which
    // blocks on an atomic wait while they run (fine in a Worker, a busy-spin on the main thread).
    await mod.startThreadPool(n);
  }
  wasm = mod;
  loadedBuild = build;
  // The panels' methods only where the module has their exports (not the widgets' spectrum module).
  if (!module) await addPanelMethods();
  return { build, ...mod.buildInfo(), module: module || 'full' };
}

/**
 * Open models by key: {handle (wasm Model), name}. The page's job engine keeps one per panel
 * ('compare', 'quant'); the methods below work on the current one, `model`.
 */
const models = new Map();
/** The current model (the one last opened or selected). */
let model = null;

/** `readAt(offset, length)` for the wasm source: a synchronous Blob.slice read (Workers only). */
function blobReader(blob) {
  const reader = new FileReaderSync();
  return (offset, length) => {
    const start = Number(offset);
    const end = start + Number(length);
    if (end > blob.size) throw new Error(`read past the end of the file (${end} > ${blob.size} bytes)`);
    return new Uint8Array(reader.readAsArrayBuffer(blob.slice(start, end)));
  };
}

/** The context (`progress`) of the call running now: remote reads report their bytes through it. */
let currentCtx = null;

/**
 * Opens `files` ([{name, length, readAt}]) as the model under `key` (replacing and freeing the
 * model of that key) and makes it current; returns its plan with dtypes.
 */
function openFiles(files, label, options, key = 'main') {
  const handle = new wasm.Model(files, options ?? {});
  models.get(key)?.handle.free();
  model = { handle, name: label };
  models.set(key, model);
  const dtypes = handle.dtypes();
  return handle.plan().map((p, i) => ({ ...p, dtype: dtypes[i] }));
}

/**
 * The ESD of the current model's layer at plan `index`, from the model's cache (analysed now if it
 * was not yet): ESDs stay in the worker; only the one asked for crosses to the page.
 */
function modelEvals(index) {
  if (!model) throw new Error('no model open (call openModel first)');
  let ev = model.handle.evals(index);
  if (!ev) {
    model.handle.analyze(Uint32Array.of(index), false);
    ev = model.handle.evals(index);
  }
  if (!ev) throw new Error(`layer ${index} has no spectrum (it could not be analysed)`);
  return toF64(ev);
}

/**
 * Fault injection for the crash-recovery tests (`?engineFault=<layer name>` on the page): analysing
 * that layer throws the WebAssembly.RuntimeError a trap throws (`unreachable`, out of memory), in
 * every worker the page starts. Nothing is injected without the parameter.
 */
let injectedFault = null;
function checkFault(indices) {
  if (!injectedFault || !model) return;
  const names = model.handle.plan().map((p) => p.name);
  if (indices.some((i) => names[i] === injectedFault)) {
    throw new WebAssembly.RuntimeError(`unreachable (a trap injected by ?engineFault=${injectedFault})`);
  }
}

/** Converts a number or numeric string to the BigInt a `u64` parameter needs. */
const toU64 = (v) => (typeof v === 'bigint' ? v : BigInt(v ?? 0));

/** Plain arrays (as serde_wasm_bindgen returns Vec<f64>) → Float64Array, so they can be transferred. */
const toF64 = (v) => (v instanceof Float64Array ? v : Float64Array.from(v ?? []));

/** RPC methods. Each receives the args array and a context with `progress(value)`. */
const METHODS = {
  buildInfo: () => ({ build: loadedBuild, ...wasm.buildInfo() }),

  /** (rows, cols, bins, seed) → {rows, cols, eigenvalues, binEdges, counts, mpX, mpDensity, mpLower, mpUpper} */
  demoSpectrum: ([rows, cols, bins = 50, seed = 1n]) => {
    const r = wasm.demoSpectrum(rows, cols, bins, toU64(seed));
    return {
      ...r,
      eigenvalues: toF64(r.eigenvalues),
      binEdges: toF64(r.binEdges),
      counts: toF64(r.counts),
      mpX: toF64(r.mpX),
      mpDensity: toF64(r.mpDensity),
    };
  },

  /** (Float32Array, rows, cols, parallel = true) → Float64Array (ascending) */
  gramEigenvaluesF32: ([data, rows, cols, parallel = true]) =>
    wasm.gramEigenvaluesF32(data, rows, cols, Boolean(parallel)),

  /** (rows, cols, sigma, seed) → Float32Array */
  gaussianMatrixF32: ([rows, cols, sigma = 1, seed = 0n]) =>
    wasm.gaussianMatrixF32(rows, cols, sigma, toU64(seed)),

  /**
   * (blob | File[], name, options, key = 'main') → the plan `[{index, layer_id, name, shape, kind, N, M, rf, skip}]`.
   * Opens one wasm `Model` (one file, or a folder's shards with their *.index.json) and keeps it:
   * headers are read once, each layer's ESD stays in wasm memory. The files (Files from a drop,
   * the picker or a fetched Blob) are read by Blob.slice, never whole.
   */
  openModel: ([blob, name, options, key]) => {
    const list = Array.isArray(blob) ? blob : [blob];
    if (!list.length || !list.every((b) => b instanceof Blob)) throw new Error('openModel: expected a File, a Blob or an array of Files');
    const label = String(name ?? (list[0].name || 'model'));
    const files = list.map((b, i) => ({
      name: list.length === 1 ? label : String(b.webkitRelativePath || b.name || `file${i}`),
      length: b.size,
      readAt: blobReader(b),
    }));
    return openFiles(files, label, options, key == null ? undefined : String(key));
  },

  /** (key) → true: makes the model opened under `key` current (its headers are not read again). */
  selectModel: ([key]) => {
    const m = models.get(String(key));
    if (!m) throw new Error(`no model open under "${key}" (call openModel first)`);
    model = m;
    return true;
  },

  /**
   * (spec, options, endpoint) → {label, plan, download}: opens a public model by URL, read by HTTP
   * range requests (web/engine/hub.js; synchronous XHR, which Workers allow): `org/name[@rev]`,
   * `hf://…`, or a `…/resolve/<rev>/<file>` URL. Only headers are fetched here; each analysed
   * layer fetches its own bytes. While calls run, `{download: {requests, bytes, size}}` progress
   * messages report the bytes fetched.
   */
  openRemote: async ([spec, options, endpoint]) => {
    const onFetch = (download) => currentCtx?.progress({ download });
    const r = await openRemote(String(spec ?? ''), { endpoint: endpoint || undefined, transport: xhrTransport, openTransport: fetchTransport, onFetch });
    const plan = openFiles(r.files, r.label, options);
    return { label: r.label, plan, download: { requests: r.stats.requests, bytes: r.stats.bytes, size: r.stats.size } };
  },

  /** () → the open model's summary {name, format, shards, bytes, tensors, parameters, dtypes, layers, skipped, notes}. */
  modelInfo: () => {
    if (!model) throw new Error('no model open (call openModel first)');
    return model.handle.info();
  },

  /** (index, keepEvals) → one row (WeightWatcher columns; `evals` as Float64Array when kept). */
  analyzeLayer: ([index, keepEvals = false]) => {
    if (!model) throw new Error('no model open (call openModel first)');
    checkFault([index]);
    const [row] = model.handle.analyze(Uint32Array.of(index), Boolean(keepEvals));
    if (row && row.evals) row.evals = toF64(row.evals);
    return row;
  },

  /**
   * (indices, keepEvals) → rows, in order. The threaded build analyses small layers in parallel
   * over layers and streams large ones by row blocks; other builds run sequentially.
   */
  analyzeLayers: ([indices, keepEvals = false]) => {
    if (!model) throw new Error('no model open (call openModel first)');
    checkFault(indices);
    const rows = model.handle.analyze(Uint32Array.from(indices), Boolean(keepEvals));
    for (const row of rows) if (row && row.evals) row.evals = toF64(row.evals);
    return rows;
  },

  /**
   * (blob | File[], name, options) → the comparison of the open model (the base) with another
   * model, layers paired by name: {layers, unmatched, skipped, summary, notes}. The other model
   * is opened for this call only.
   */
  compareWith: ([blob, name, options], ctx) => {
    if (!model) throw new Error('no model open (call openModel first)');
    const list = Array.isArray(blob) ? blob : [blob];
    const files = list.map((b, i) => ({ name: list.length === 1 ? String(name ?? b.name) : String(b.webkitRelativePath || b.name || `file${i}`), length: b.size, readAt: blobReader(b) }));
    const other = new wasm.Model(files, {});
    try {
      return model.handle.compare(other, options ?? {}, (done, total, layer) => ctx.progress({ done, total, layer }));
    } finally {
      other.free();
    }
  },

  /** (File[] of a PEFT adapter folder, options) → the open model against itself + the adapter. */
  compareAdapter: ([blobs, options], ctx) => {
    if (!model) throw new Error('no model open (call openModel first)');
    const list = Array.isArray(blobs) ? blobs : [blobs];
    const files = list.map((b, i) => ({ name: String(b.name || `file${i}`), length: b.size, readAt: blobReader(b) }));
    return model.handle.compareAdapter(files, options ?? {}, (done, total, layer) => ctx.progress({ done, total, layer }));
  },

  /** (index) → {base, other}: the two ESDs (σ², descending) of the last comparison's layer. */
  compareEsd: ([index]) => {
    if (!model) throw new Error('no model open (call openModel first)');
    return model.handle.compareEsd(index) ?? null;
  },

  /** () → positions (into the plan) of the 2-D weights a quantization plan covers. */
  quantPositions: () => {
    if (!model) throw new Error('no model open (call openModel first)');
    return Array.from(model.handle.quantPositions());
  },

  /** (positions) → how many were quantized now with every llama.cpp type (kept in the Model). */
  quantMeasure: ([positions]) => {
    if (!model) throw new Error('no model open (call openModel first)');
    return model.handle.quantMeasure(Uint32Array.from(positions));
  },

  /**
   * (bitsPerWeight, curvePoints) → the quantization plan of the measured layers:
   * {plan, recipes, curve, min_bits_per_weight, max_bits_per_weight, layers, file_mix,
   * plan_json, tensor_type_args}.
   */
  quantPlan: ([bitsPerWeight, curvePoints = 33]) => {
    if (!model) throw new Error('no model open (call openModel first)');
    return model.handle.quantPlan(Number(bitsPerWeight), Number(curvePoints));
  },

  /** (index) → Float64Array: the ESD of a layer analysed since the model was opened (analyses it if not). */
  layerEvals: ([index]) => modelEvals(index),

  /**
   * (Float32Array, rows, cols, name, options) → the row of an in-memory matrix (row-major), with
   * `evals`, through a one-matrix `Model` (no file is written); the open model is not touched.
   * Used by the widgets' `matrix` property.
   */
  analyzeMatrix: ([data, rows, cols, name = 'matrix', options]) => {
    const m = wasm.Model.fromMatrix(data, rows, cols, String(name), options ?? {});
    try {
      const [plan] = m.plan();
      if (!plan) throw new Error(`${name}: not a matrix`);
      if (plan.skip) throw new Error(`${name} (${rows}×${cols}) is not analysed: ${plan.skip}`);
      const [row] = m.analyze(Uint32Array.of(plan.index), true);
      if (row?.evals) row.evals = toF64(row.evals);
      return row;
    } finally {
      m.free();
    }
  },

  /** () → bytes of wasm memory now; memory never shrinks, so this is the high-water mark. */
  memoryBytes: () => wasmMemory?.buffer.byteLength ?? null,

  /** ('exportName', ...args) → whatever the export returns. */
  call: ([name, ...args]) => {
    const fn = wasm[name];
    if (typeof name !== 'string' || name === 'default' || name.startsWith('__') || typeof fn !== 'function') {
      throw new Error(`unknown engine export "${name}"`);
    }
    return fn(...args);
  },
};

// The panels' methods (web/engine/methods/*.js), imported at init by the full builds only; a name
// clash with a core method is a bug.
async function addPanelMethods() {
  const env = { wasm: () => wasm, blobReader, toF64, toU64, modelEvals };
  const [m, t, c] = await Promise.all([import('./methods/metrics.js'), import('./methods/transform.js'), import('./methods/compress.js')]);
  for (const extra of [m.metricsMethods(env), t.transformMethods(env), c.compressMethods(env)]) {
    for (const [name, fn] of Object.entries(extra)) {
      if (Object.hasOwn(METHODS, name)) throw new Error(`engine method "${name}" defined twice`);
      METHODS[name] = fn;
    }
  }
}

/**
 * Buffers of `value` that can be moved instead of copied: typed arrays that own a whole, non-shared
 * ArrayBuffer. Looks into plain objects and arrays (two levels).
 */
function transferables(value) {
  const out = new Set();
  const visit = (v, depth) => {
    if (ArrayBuffer.isView(v)) {
      const buf = v.buffer;
      const shared = typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer;
      // wasm-bindgen returns `.slice()` copies, which own their buffer; anything else stays copied.
      if (!shared && v.byteOffset === 0 && v.byteLength === buf.byteLength) out.add(buf);
    } else if (depth < 2 && v && typeof v === 'object') {
      for (const x of Array.isArray(v) ? v : Object.values(v)) visit(x, depth + 1);
    }
  };
  visit(value, 0);
  return [...out];
}

function errorMessage(err) {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : String(err);
}

/** A trap (a Rust panic under panic=abort, an allocation failure) may leave the instance unusable. */
const isFatal = (err) => err instanceof WebAssembly.RuntimeError;

async function handleCall({ id, method, args = [] }) {
  try {
    if (!initPromise) throw new Error('engine not initialised (send {type: "init"} first)');
    await initPromise;
    const fn = Object.hasOwn(METHODS, method) ? METHODS[method] : null;
    if (!fn) throw new Error(`unknown method "${method}"`);
    const ctx = { progress: (progress) => self.postMessage({ id, progress }) };
    const t0 = performance.now();
    currentCtx = ctx;
    const result = await fn(args, ctx);
    const ms = performance.now() - t0;
    self.postMessage({ id, result, ms }, transferables(result));
  } catch (err) {
    self.postMessage({ id, error: errorMessage(err), fatal: isFatal(err) || undefined });
  }
}

self.addEventListener('message', (event) => {
  const msg = event.data ?? {};
  if (msg.type === 'init') {
    if (initPromise) {
      self.postMessage({ id: msg.id, error: 'engine already initialised' });
      return;
    }
    const t0 = performance.now();
    injectedFault = typeof msg.fault === 'string' && msg.fault ? msg.fault : null;
    initPromise = init(msg.build, msg.threads, msg.module, msg.wasm);
    initPromise.then(
      (info) => self.postMessage({ id: msg.id, result: info, ms: performance.now() - t0 }),
      (err) => self.postMessage({ id: msg.id, error: `loading the ${msg.build} build failed: ${errorMessage(err)}` }),
    );
    return;
  }
  if (msg.id !== undefined) handleCall(msg);
});

// Errors outside any request (should not happen) still reach the page's console.
self.addEventListener('unhandledrejection', (e) => {
  console.error('[spectralab worker] unhandled rejection:', e.reason);
});

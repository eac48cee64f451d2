// Headless entry for Node (tests, users' CI): the wasm engine without a browser.
//
//   import { analyzeFile } from './web/engine/node.mjs';
//   const report = analyzeFile('model.safetensors', { mpFit: true, farms: true });
//   // → { layers: [...WeightWatcher columns...], skipped: [...], summary: {...} }
//
// The file is read tensor by tensor with fs.readSync (never whole). Loads the SIMD128 build
// (Node ≥ 16 has SIMD) or the baseline build with `init('baseline')`.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { fetchTransport, openRemote } from './hub.js';
import { writeCharts } from './node-charts.mjs';

let wasm = null;
let loadedBuild = null;
let memory = null;

/**
 * Bytes of the engine's wasm memory now. wasm memory never shrinks, so this is also the
 * high-water mark of the instance (what a model's analysis needed at its peak).
 */
export function wasmMemoryBytes() {
  return memory ? memory.buffer.byteLength : 0;
}

/** Instantiates a build once (`'simd'` or `'baseline'`; the threaded build needs Web Workers). */
export async function init(build = 'simd') {
  if (wasm) {
    if (build !== loadedBuild) throw new Error(`already initialised with the ${loadedBuild} build`);
    return wasm;
  }
  if (build !== 'simd' && build !== 'baseline') throw new Error(`build must be 'simd' or 'baseline', got ${build}`);
  const mod = await import(new URL(`../pkg/${build}/spectralab_wasm.js`, import.meta.url));
  const exports = mod.initSync({ module: readFileSync(new URL(`../pkg/${build}/spectralab_wasm_bg.wasm`, import.meta.url)) });
  memory = exports.memory;
  wasm = mod;
  loadedBuild = build;
  return mod;
}

/** Build information of the loaded module. */
export async function buildInfo() {
  return (await init()).buildInfo();
}

const MODEL_FILE = /(\.safetensors|\.npy|\.npz|\.bin|\.pt|\.pth|\.ckpt|\.gguf|\.index\.json)$/i;

/**
 * The files of a model: one file, a folder (its model files and *.index.json), or an index file
 * (with the model files beside it). Listed in name order; nothing is read here.
 */
export function modelFiles(path) {
  const paths = Array.isArray(path) ? path : [path];
  const out = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      const found = readdirSync(p).filter((f) => MODEL_FILE.test(f) && statSync(join(p, f)).isFile()).sort();
      if (!found.length) throw new Error(`${p}: the folder holds no model file (.safetensors, .npy, .npz, .bin, .pt, .gguf, *.index.json)`);
      out.push(...found.map((f) => join(p, f)));
    } else if (/\.index\.json$/i.test(p)) {
      const dir = dirname(p);
      out.push(p, ...readdirSync(dir).filter((f) => MODEL_FILE.test(f) && !/\.index\.json$/i.test(f)).sort().map((f) => join(dir, f)));
    } else out.push(p);
  }
  return [...new Set(out)];
}

/** Opens files for positioned reads: `[{name, length, readAt}]` and a closer. */
function openSources(paths, single) {
  const fds = [];
  try {
    const files = paths.map((p) => {
      const fd = openSync(p, 'r');
      fds.push(fd);
      const size = fstatSync(fd).size;
      const readAt = (offset, length) => {
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, buf, done, length - done, offset + done);
          if (n === 0) throw new Error(`${basename(p)}: unexpected end of file at byte ${offset + done}`);
          done += n;
        }
        return buf;
      };
      return { name: single ? basename(p) : p, length: size, readAt };
    });
    return { files, close: () => fds.forEach((fd) => closeSync(fd)) };
  } catch (err) {
    fds.forEach((fd) => closeSync(fd));
    throw err;
  }
}

/** Whether `path` names a remote model: `hf://org/name[@rev][/file]` or an http(s) URL. */
export const isRemote = (path) => typeof path === 'string' && /^(hf|https?):\/\//i.test(path.trim());

/** Seconds one range request may take before it is an error. */
const FETCH_TIMEOUT_MS = 120_000;

/**
 * A synchronous range-request transport for hub.js: a worker thread fetches while this thread
 * waits on an Atomics cell (the wasm session's reads are synchronous). `close()` ends the thread.
 */
function threadTransport() {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./fetch-thread.mjs', import.meta.url), {
    workerData: { signal, port: port2, timeoutMs: FETCH_TIMEOUT_MS },
    transferList: [port2],
  });
  worker.unref();
  const transport = (url, start, end) => {
    Atomics.store(signal, 0, 0);
    worker.postMessage({ url, start, end });
    if (Atomics.wait(signal, 0, 0, FETCH_TIMEOUT_MS + 5000) === 'timed-out') throw new Error(`no answer in ${FETCH_TIMEOUT_MS / 1000} s`);
    const msg = receiveMessageOnPort(port1)?.message;
    if (!msg) throw new Error('the fetch thread gave no answer');
    if (msg.error) throw new Error(msg.error);
    return msg;
  };
  return { transport, close: () => worker.terminate() };
}

/**
 * Resolves a remote model (see web/engine/hub.js): `{label, files, stats, close}`. `endpoint`
 * defaults to $HF_ENDPOINT, then https://huggingface.co; `onFetch({requests, bytes, size})` is
 * called after every request.
 */
export async function openRemoteSources(spec, { endpoint, onFetch } = {}) {
  const t = threadTransport();
  try {
    const r = await openRemote(spec.trim(), { endpoint: endpoint ?? process.env.HF_ENDPOINT, transport: t.transport, openTransport: fetchTransport, onFetch });
    return { ...r, close: t.close };
  } catch (err) {
    t.close();
    throw err;
  }
}

/**
 * Opens a model (a file, a folder of shards, an index, an array of paths, or a remote model:
 * `hf://org/name[@rev]`, `hf://org/name/file`, an https `…/resolve/<rev>/<file>` URL) as one wasm
 * `Model`: headers are read once; `model.analyze(positions)`, `model.plan()`, `model.evals(i)`,
 * `model.info()`. Call `close()` when done (frees the handle and the file descriptors).
 * Remote models are read by HTTP range requests (only the bytes the analysis needs);
 * `options.endpoint` (default $HF_ENDPOINT or https://huggingface.co) and `options.onFetch`
 * (see openRemoteSources) apply to them; the returned `download()` gives
 * `{requests, bytes, size}` so far (null for local files).
 */
export async function openModel(path, options = {}) {
  const mod = await init(loadedBuild ?? 'simd');
  const { endpoint, onFetch, ...opts } = options;
  let files;
  let close;
  let download = () => null;
  if (isRemote(path)) {
    const r = await openRemoteSources(path, { endpoint, onFetch });
    files = r.files;
    close = r.close;
    download = () => ({ requests: r.stats.requests, bytes: r.stats.bytes, size: r.stats.size });
  } else {
    const paths = modelFiles(path);
    ({ files, close } = openSources(paths, paths.length === 1));
  }
  try {
    const model = new mod.Model(files, opts);
    return {
      model,
      download,
      close: () => {
        model.free();
        close();
      },
    };
  } catch (err) {
    close();
    throw err;
  }
}

/** Elements of a planned tensor (its work and read size, up to the element width). */
const planSize = (p) => (p.shape ?? []).reduce((a, b) => a * b, 1);

/**
 * Eigenspectrum analysis of a model: a file, a folder of shards (with its *.index.json), or an
 * index file, or a remote model (`hf://org/name`, an https URL: see openModel). `options`: {farms, mpFit, randomize, seed, fixFingers, fit, layers, xmax, fast,
 * minEvals, maxEvals, maxN}. `onProgress(done, total, layerName, {doneSize, totalSize})` is
 * called before each layer and once at the end; `doneSize/totalSize` weighs layers by their
 * element counts (use it for ETAs: one big embedding outweighs many small layers). It may return
 * false to stop early; an exception it throws propagates (the model is closed first). Throws an
 * Error with a readable message on bad files. Returns {layers, skipped, summary} (remote models: and `download`, {requests, bytes, size}); with
 * `{csv: true}` as the fourth argument, also `csv` (the native CLI's CSV of the same report);
 * with `{plot: DIR}`, also `charts` (`writeModelCharts`: the native `--plot DIR` SVG files).
 */
export async function analyzeFile(path, options = {}, onProgress = undefined, { csv = false, plot } = {}) {
  const { model, close, download } = await openModel(path, options);
  try {
    const plan = model.plan();
    const todo = plan.filter((p) => !p.skip);
    const sizes = todo.map(planSize);
    const totalSize = sizes.reduce((a, b) => a + b, 0);
    let done = 0;
    let doneSize = 0;
    for (const [i, p] of todo.entries()) {
      if (onProgress && onProgress(i, todo.length, p.name, { doneSize, totalSize }) === false) break;
      model.analyze(Uint32Array.of(p.index), false);
      done++;
      doneSize += sizes[i];
    }
    if (onProgress) onProgress(done, todo.length, '', { doneSize, totalSize });
    const report = model.report();
    if (csv) report.csv = model.reportCsv();
    if (plot !== undefined) report.charts = await writeModelCharts(model, plot);
    const dl = download();
    if (dl) report.download = dl;
    return report;
  } finally {
    close();
  }
}

/**
 * Writes the SVG charts of an opened model's analysis into `dir`, as the native `spectralab
 * analyze --plot DIR` does (crate/cli/src/plot.rs): `alpha.svg` and, per analysed layer,
 * `esd_<layer>.svg` and `rank_<layer>.svg` (`<layer>`: the name with every character outside
 * `[A-Za-z0-9._-]` replaced by `_`). Call it after `model.analyze(…)` of every layer to chart.
 * Returns `{files, problems}` (paths written; one line per chart that could not be drawn).
 */
export async function writeModelCharts(model, dir) {
  const mod = await init(loadedBuild ?? 'simd');
  const report = model.report();
  const todo = model.todo();
  const layers = report.layers.map((l, i) => ({ ...l, evals: model.evals(todo[i]) ?? undefined }));
  return writeCharts(mod, layers, dir);
}

/**
 * Compares two models (files, folders of shards or index files), layers paired by name:
 * `{layers, unmatched, skipped, summary, notes}` with ΔW metrics, α shifts and intruder
 * dimensions (see crate/core/src/compare). `options`: `{k, eps, alpha, farms, layers,
 * maxElements}`. `onProgress(done, total, layer)` is called before each layer pair.
 */
export async function compareModels(base, other, options = {}, onProgress = undefined) {
  const a = await openModel(base, {});
  try {
    const b = await openModel(other, {});
    try {
      return a.model.compare(b.model, options, onProgress);
    } finally {
      b.close();
    }
  } finally {
    a.close();
  }
}

/**
 * Compares a base model with itself plus a PEFT LoRA adapter folder (`adapter_config.json` +
 * `adapter_model.safetensors`), without forming ΔW where it is not needed. Same result and
 * options and progress callback as `compareModels`.
 */
export async function compareAdapter(base, adapterDir, options = {}, onProgress = undefined) {
  const a = await openModel(base, {});
  const paths = readdirSync(adapterDir)
    .filter((f) => /^adapter_(config\.json|model\.(safetensors|bin))$/.test(f))
    .map((f) => join(adapterDir, f));
  const { files, close } = openSources(paths, false);
  try {
    return a.model.compareAdapter(files, options, onProgress);
  } finally {
    close();
    a.close();
  }
}

/** Opens one local file for positioned reads: `{name, length, readAt, close}`. */
function openFile(path) {
  const { files, close } = openSources([path], false);
  return { ...files[0], close };
}

/** A usage-level problem of an API option (the CLI turns `options: …` into exit 3 + usage). */
const optionError = (msg) => new Error(`options: ${msg}`);

/** Rust's `str::parse::<f64>` accepts these; JS's Number() also takes '', '0x10', … */
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const parseFloatText = (s) => {
  const t = String(s).trim();
  if (/^[+-]?(inf|infinity|∞)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return FLOAT.test(t) ? Number(t) : NaN;
};

/**
 * An embedding matrix: `.npy`, `.npz`, `.safetensors` (rows = items; leading dimensions
 * flattened; `tensor` picks one, default the first of ≥ 2 dimensions), or a CSV/TSV table
 * (`.csv`, `.tsv`, `.txt`; header optional). → `{data: Float32Array, rows, cols, tensor}`.
 */
export async function loadEmbeddingFile(path, { tensor } = {}) {
  const mod = await init(loadedBuild ?? 'simd');
  if (/\.(csv|tsv|txt)$/i.test(path)) {
    const text = readFileSync(path, 'utf8');
    let t;
    try {
      t = mod.parseTable(text);
    } catch (err) {
      throw new Error(`${path}: ${err.message}`);
    }
    return { data: t.data, rows: t.rows, cols: t.cols, tensor: 'table' };
  }
  const f = openFile(path);
  try {
    const m = mod.loadEmbeddings(f.length, f.readAt, path, tensor === undefined ? {} : { tensor });
    return { data: m.data, rows: m.rows, cols: m.cols, tensor: m.tensor };
  } finally {
    f.close();
  }
}

/**
 * The entropy and diversity table of a set of embeddings, as the native `spectralab metrics`
 * computes it (`crate/cli/src/metrics.rs`): Vendi of `kernel` at every order of `q`, the one-shot
 * metrics table (`spectralab_core::metrics::MetricsReport`) and, with `labels` (a 1-D integer
 * `.npy`/`.npz`/`.safetensors`), Vendi (q = 1) per class. `options = {tensor, labels,
 * q = [0, 0.5, 1, 2, Infinity], kernel: 'cosine' | 'linear' | 'rbf', bandwidth: number |
 * 'median'}` (`rbf` needs a bandwidth; `'median'`: median pairwise distance of the first 2000
 * rows; a bandwidth also adds the RBF rows of the table). Returns `{file, tensor, kernel,
 * bandwidth, vendi: [{q, score}], report, per_class}` (`q` as text: `'0.5'`, `'inf'`).
 */
export async function embeddingMetrics(path, options = {}) {
  const mod = await init(loadedBuild ?? 'simd');
  const { tensor, labels, q = [0, 0.5, 1, 2, Infinity], kernel = 'cosine', bandwidth, ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length) throw optionError(`unknown option ${unknown[0]} (tensor, labels, q, kernel, bandwidth)`);
  const qs = (Array.isArray(q) ? q : String(q).split(',')).map((v) => (typeof v === 'number' ? v : parseFloatText(v)));
  const badQ = qs.findIndex((v) => !(v >= 0));
  if (badQ >= 0) throw optionError(`--q: \`${Array.isArray(q) ? q[badQ] : String(q).split(',')[badQ].trim()}\` is not an order ≥ 0 (or inf)`);
  let x;
  try {
    x = await loadEmbeddingFile(path, { tensor });
  } catch (err) {
    // As the native CLI: a --tensor that is not in the file is a usage error.
    const m = /: no tensor `(.*)` \(has: (.*)\)$/.exec(err.message ?? '');
    throw m ? optionError(`--tensor: no \`${m[1]}\` in ${path} (has: ${m[2]})`) : err;
  }
  let h = null;
  if (kernel === 'rbf' && bandwidth === undefined) throw optionError('--kernel rbf needs --bandwidth S (or median)');
  if (bandwidth === 'median') h = mod.medianPairwiseDistance(x.data, x.rows, x.cols, 2000);
  else if (bandwidth !== undefined) {
    h = typeof bandwidth === 'number' ? bandwidth : parseFloatText(bandwidth);
    if (!(h > 0 && Number.isFinite(h))) throw optionError(`--bandwidth: \`${bandwidth}\` is not a positive number`);
  }
  if (!['cosine', 'linear', 'rbf'].includes(kernel)) throw optionError(`--kernel: unknown \`${kernel}\` (cosine|linear|rbf)`);
  const report = mod.metricsReport(x.data, x.rows, x.cols, h === null ? {} : { rbfBandwidth: h });
  const vopts = kernel === 'rbf' ? { kernel, bandwidth: h } : { kernel };
  let profile;
  try {
    profile = mod.vendiProfile(x.data, x.rows, x.cols, { ...vopts, qs });
  } catch (err) {
    throw new Error(`${path}: vendi (${kernel}): ${err.message}`);
  }
  let perClass = null;
  if (labels !== undefined) {
    const f = openFile(labels);
    let l;
    try {
      l = mod.readLabels(f.length, f.readAt, labels);
    } finally {
      f.close();
    }
    try {
      perClass = mod.vendiPerClass(x.data, x.rows, x.cols, l, vopts);
    } catch (err) {
      throw new Error(`${labels}: ${err.message}`);
    }
  }
  // Orders as the native CLI names them (Rust's `{}` of an f64: ∞ → `inf`).
  const qName = rustNumber;
  return {
    file: path,
    tensor: x.tensor,
    kernel,
    bandwidth: h,
    vendi: qs.map((v, i) => ({ q: qName(v), score: profile.vendi[i] })),
    report,
    per_class: perClass,
  };
}

/** A number as Rust's `{}` (f64 Display: shortest round-trip digits, never an exponent). */
export function rustNumber(x) {
  if (typeof x !== 'number') return String(x);
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Object.is(x, -0)) return '-0';
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, d0, frac = '', e] = m;
  const exp = Number(e);
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${d0}${frac}`;
  return `${sign}${d0}${frac}${'0'.repeat(Math.max(0, exp - frac.length))}`;
}

const PRECISION_BYTES = { f32: 4, f16: 2, int8: 1, int4: 0.5 };

/** `'50%'` → a fraction of the dense parameters; a plain count → bytes at `dtype`. */
function compressTarget(budget, error, dtype) {
  if (budget !== undefined && error !== undefined) throw optionError('give either --budget or --error, not both');
  if (error !== undefined) {
    const e = typeof error === 'number' ? error : parseFloatText(error);
    if (Number.isNaN(e)) throw optionError(`--error: \`${error}\` is not a valid number`);
    if (!(Number.isFinite(e) && e >= 0)) throw optionError(`--error: ${e} must be ≥ 0`);
    return { kind: 'error', value: e, precision: dtype };
  }
  if (budget === undefined) return { kind: 'fraction', value: 0.5, precision: dtype };
  const text = String(budget);
  const bad = () => optionError(`--budget: \`${text}\` (e.g. 50% or a byte count)`);
  if (text.endsWith('%')) {
    const f = parseFloatText(text.slice(0, -1));
    if (Number.isNaN(f)) throw bad();
    if (!(f > 0 && f <= 100)) throw optionError(`--budget: ${f}% is not in (0, 100]`);
    return { kind: 'fraction', value: f / 100, precision: dtype };
  }
  if (!/^\+?\d+$/.test(text.trim())) throw bad();
  return { kind: 'bytes', value: Number(text.trim()), precision: dtype };
}

/**
 * A per-layer rank plan for a model file under a budget, as the native `spectralab compress`
 * (`crate/cli/src/compress.rs`): the ESD of every dense 2-D weight the analysis walk accepts
 * (eigenvalues of the smaller Gram matrix, in f64), then `spectralab_core::compress::budget`.
 * `options = {budget: '50%' | bytes (default '50%'), error: E (instead of a budget: the fewest
 * parameters with model-level relative Frobenius error ≤ E), method: 'uniform' | 'energy' |
 * 'greedy' (default) | 'welore', objective: 'absolute' (default) | 'relative', dtype: 'f32' |
 * 'f16' (default) | 'int8' | 'int4'}`. `onProgress(done, total, layerName)` is called before
 * each layer and once at the end; an exception it throws propagates. Returns the native CLI's
 * JSON (`{method, objective, knob, budget_params, layers: [{name, rows, cols, rank, dense,
 * params, rel_fro_error}], params, dense_params, model_rel_error, rms_layer_rel_error,
 * objective_value, dtype, bytes, dense_bytes, plan: {tensor: rank}}`), plus `skipped: [{name,
 * reason}]`, `methods` (every method's totals at the same target) and `planJson` (the `--plan`
 * file's text).
 */
export async function compressFile(path, options = {}, onProgress = undefined) {
  const mod = await init(loadedBuild ?? 'simd');
  const { budget, error, method = 'greedy', objective = 'absolute', dtype = 'f16', ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length) throw optionError(`unknown option ${unknown[0]} (budget, error, method, objective, dtype)`);
  if (!(dtype in PRECISION_BYTES)) throw optionError(`--dtype: \`${dtype}\` (f32|f16|int8|int4)`);
  const target = compressTarget(budget, error, dtype);
  if (!['uniform', 'energy', 'greedy', 'welore'].includes(method)) throw optionError(`--method: \`${method}\` (uniform|energy|greedy|welore)`);
  if (objective !== 'absolute' && objective !== 'relative') throw optionError(`--objective: \`${objective}\` (absolute|relative)`);
  const { model, close } = await openModel(path, {});
  const f = openFile(path);
  let planner = null;
  try {
    const plans = model.plan();
    const skipped = [];
    const layers = [];
    const dense = plans.filter((p) => {
      if (p.kind === 'conv2d') skipped.push({ name: p.name, reason: 'conv weights are not planned' });
      return p.kind === 'dense';
    });
    for (const [i, p] of dense.entries()) {
      onProgress?.(i, dense.length, p.name);
      if ((p.shape ?? []).length !== 2) {
        skipped.push({ name: p.name, reason: `shape error: expected 2-D, found ${JSON.stringify(p.shape)}` });
        continue;
      }
      try {
        // A layer the session analyses: its ESD read by row blocks (memory O(M² + block·M)).
        // One its size gates skip: the whole tensor, in f64 (as the native CLI reads every layer).
        let evals = null;
        if (!p.skip) {
          const [row] = model.analyze(Uint32Array.of(p.index), false);
          evals = model.evals(p.index) ?? null;
          if (!evals && row?.status === 'error') throw new Error(row.reason ?? 'error');
        }
        if (!evals) {
          const m = mod.loadEmbeddings(f.length, f.readAt, path, { tensor: p.name });
          evals = mod.gramEigenvaluesF64(Float64Array.from(m.data), m.rows, m.cols);
        }
        layers.push({ name: p.name, rows: p.shape[0], cols: p.shape[1], evals });
      } catch (err) {
        skipped.push({ name: p.name, reason: err.message.replace(`${path}: `, '') });
      }
    }
    onProgress?.(dense.length, dense.length, '');
    if (!layers.length) throw new Error(`${path}: no 2-D weight tensor to plan`);
    planner = new mod.CompressPlanner(layers);
    let a;
    try {
      a = planner.allocate(target, method, objective);
    } catch (err) {
      throw new Error(`${path}: ${err.message}`);
    }
    let methods = [];
    try {
      methods = planner.compare(target, objective);
    } catch {
      methods = [];
    }
    const planJson = planner.planJson();
    const { bytes, dense_bytes: denseBytes, precision, ...alloc } = a;
    const plan = Object.fromEntries(alloc.layers.map((l) => [l.name, l.rank]).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
    return { ...alloc, dtype: precision, bytes: bytes[precision], dense_bytes: denseBytes[precision], plan, skipped, methods, planJson };
  } finally {
    planner?.free();
    f.close();
    close();
  }
}

/**
 * A llama.cpp quantization type per 2-D weight of a model (a file, a folder of shards, an index)
 * under a size budget, as the native `spectralab compress --quant-plan` (each weight quantized →
 * dequantized with every type; the plan minimises the model-level error). `budget`: bits per
 * weight (`4.8`, `'4.8bpw'`) or `{bytes: N}`. `onProgress(done, total, layer)` is called before
 * each layer and once at the end; an exception it throws propagates. Returns the native JSON:
 * `{plan, recipes, curve, min_bits_per_weight, max_bits_per_weight, layers, file_mix, plan_json,
 * tensor_type_args}`, plus `format` (the model's file format).
 */
export async function quantPlanFile(path, budget, onProgress = undefined) {
  let bpw;
  let bytes;
  if (typeof budget === 'object' && budget !== null && 'bytes' in budget) bytes = Number(budget.bytes);
  else {
    const t = String(budget).trim();
    bpw = parseFloatText(t.endsWith('bpw') ? t.slice(0, -3) : Number.NaN);
  }
  if (bytes !== undefined ? !(Number.isSafeInteger(bytes) && bytes >= 0) : !(Number.isFinite(bpw) && bpw > 0)) {
    throw optionError(`--quant-plan: \`${bytes ?? budget}\` (e.g. 4.8bpw or a byte count)`);
  }
  const { model, close } = await openModel(path, {});
  try {
    const plans = model.plan();
    const positions = [...model.quantPositions()];
    for (const [i, p] of positions.entries()) {
      onProgress?.(i, positions.length, plans[p].name);
      model.quantMeasure(Uint32Array.of(p));
    }
    onProgress?.(positions.length, positions.length, '');
    if (bytes !== undefined) {
      // The core's byte budget of `b` bits per weight is ⌊b·numel/8⌋: (bytes + ½)·8/numel gives
      // exactly `bytes` (numel: the elements of the measured layers).
      const all = model.quantPlan(1024, 2);
      const numel = all.layers.filter((l) => l.error === null || l.error === undefined).reduce((s, l) => s + l.rows * l.cols, 0);
      bpw = ((bytes + 0.5) * 8) / Math.max(1, numel);
    }
    const s = model.quantPlan(bpw, 33);
    s.format = model.info().format;
    return s;
  } finally {
    close();
  }
}

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
 * `{csv: true}` as the fourth argument, also `csv` (the native CLI's CSV of the same report).
 */
export async function analyzeFile(path, options = {}, onProgress = undefined, { csv = false } = {}) {
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
    const dl = download();
    if (dl) report.download = dl;
    return report;
  } finally {
    close();
  }
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

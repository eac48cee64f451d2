// The engines every widget on a page shares: memoised Workers running the single-threaded SIMD
// build (baseline without SIMD128). Embedding pages are not cross-origin isolated, so the
// threaded build is never asked for. Two modules of that build:
//   spectrum  pkg/spectrum-<build>/ (model session for safetensors/.npy/.npz, ESD analysis,
//             charts): the esd and layers widgets' engine and the charts of every widget. The page
//             compiles it once (spectrumWasm) and hands the compiled module to the worker, so
//             the .wasm is downloaded and compiled once for both.
//   full      pkg/<build>/ (every export): started only by the widgets that need compare,
//             compression, transforms or embedding metrics (compare, tradeoff, transform,
//             vendi), and for GGUF / PyTorch files, which the spectrum module does not read.
// Where pkg/spectrum-<build>/ is absent (the unpackaged web/ tree), the full build stands in.
//
// The worker may live on another origin than the page (widgets served from a CDN or a docs
// host): `new Worker(url)` refuses cross-origin URLs, so the worker is then started from a
// same-origin blob whose only line imports the absolute worker URL (module scripts are fetched
// with CORS, so the serving host must send Access-Control-Allow-Origin). Every URL below is
// resolved against this module (import.meta.url), never against the page.
import { createEngine } from '../../engine/client.js';
import { detectFeatures, wasmUrl, workerUrl } from '../../engine/loader.js';

// Shared across copies of this module (e.g. the script included twice from different URLs).
const KEY = Symbol.for('spectralab.widgets.engine');
const state = (globalThis[KEY] ??= { engines: {}, spectrum: null, blobs: new Map(), models: {} });

/** 'simd' where the engine validates SIMD128, else 'baseline'. */
export function widgetBuild() {
  return detectFeatures().simd ? 'simd' : 'baseline';
}

/** A Worker URL that also works when this module comes from another origin. */
export function bootstrapWorkerUrl(url = workerUrl()) {
  const here = globalThis.location?.origin;
  if (here && here !== 'null' && new URL(url).origin === here) return url;
  const src = `import ${JSON.stringify(url)};\n`;
  return URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
}

/** Compiles a .wasm (streaming where the server sends application/wasm). */
async function compile(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  if (WebAssembly.compileStreaming && /application\/wasm/.test(res.headers.get('content-type') ?? '')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

/**
 * The spectrum module of this page's build, compiled once: resolves to `{module, wasm}` where
 * `module` is the pkg module name for the loader ('spectrum', or '' when the full build stands
 * in) and `wasm` the compiled WebAssembly.Module.
 */
export function spectrumWasm() {
  return (state.spectrum ??= (async () => {
    const build = widgetBuild();
    try {
      return { module: 'spectrum', wasm: await compile(wasmUrl(build, 'spectrum')) };
    } catch {
      return { module: '', wasm: await compile(wasmUrl(build)) };
    }
  })());
}

/**
 * A shared engine (started on first use): `'spectrum'` (default) runs the spectrum module with
 * the module the page compiled; `'full'` runs the full build (compression, transforms, metrics).
 */
export function sharedEngine(kind = 'spectrum') {
  if (kind !== 'spectrum' && kind !== 'full') throw new Error(`unknown engine "${kind}"`);
  if (!state.engines[kind]) {
    const opts = { build: widgetBuild(), workerUrl: bootstrapWorkerUrl(), fallback: false };
    if (kind === 'spectrum') {
      // The module name must be known before the worker starts: wait for the compile.
      const shared = spectrumWasm();
      state.engines[kind] = lazyEngine(shared.then((s) => createEngine({ ...opts, module: s.module, wasm: () => s.wasm })));
    } else {
      state.engines[kind] = createEngine({ ...opts, fallback: true });
    }
  }
  return state.engines[kind];
}

/** An engine-shaped object over a promise of an engine (calls wait for it). */
function lazyEngine(p) {
  let inner = null;
  p.then((e) => (inner = e), () => {});
  const ready = p.then((e) => e.ready);
  ready.catch(() => {});
  return {
    // The engine's own `ready` once it exists: it changes when the worker is restarted.
    get ready() {
      return inner ? inner.ready : ready;
    },
    request: (...a) => p.then((e) => e.request(...a)),
    call: (...a) => p.then((e) => e.call(...a)),
    cancel: (...a) => p.then((e) => e.cancel(...a)),
    dispose: () => p.then((e) => e.dispose()),
  };
}

/**
 * Fetches `url` (absolute) once per page and keeps the Blob: several widgets on one model share
 * it, and the worker reads it slice by slice. A failed fetch is forgotten so that it can be retried.
 */
export function fetchBlob(url) {
  let p = state.blobs.get(url);
  if (!p) {
    p = fetch(url).then(async (res) => {
      if (!res.ok) throw new Error(`could not fetch ${shortName(url)}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      return res.blob();
    }, (err) => {
      throw new Error(`could not fetch ${shortName(url)}: ${err.message}`);
    });
    state.blobs.set(url, p);
    p.catch(() => state.blobs.delete(url));
  }
  return p;
}

/** The file name of a URL (for messages and the engine's format detection). */
export function shortName(url) {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').pop() || 'model');
  } catch {
    return String(url);
  }
}

/**
 * Runs `fn(plan, engine)` with `blob` as the open model of an engine's worker. Each worker holds
 * one open model (openModel → analyzeLayer), so model work of all widgets is serialised here
 * (one chain per engine), and the model is re-opened only when another blob or option set was
 * open in between. `kind`: the engine ('spectrum', or 'full' for compare). A file the spectrum
 * module does not read (GGUF, PyTorch checkpoints) is handed to the full engine instead.
 */
export function withModel(blob, name, options, fn, kind = 'spectrum') {
  const engine = sharedEngine(kind);
  const key = JSON.stringify(options ?? {});
  const slot = (state.models ??= {})[kind] ??= { chain: Promise.resolve(), open: null };
  const run = slot.chain.then(async () => {
    try {
      if (!slot.open || slot.open.blob !== blob || slot.open.key !== key || slot.open.engine !== engine.ready) {
        slot.open = null;
        const plan = await engine.call('openModel', blob, name, options ?? {});
        slot.open = { blob, key, plan, engine: engine.ready };
      }
      return await fn(slot.open.plan, engine);
    } catch (err) {
      slot.open = null;
      throw err;
    }
  });
  slot.chain = run.catch(() => {});
  if (kind !== 'spectrum') return run;
  return run.catch((err) => {
    if (!/is not read by this build/.test(err?.message ?? '')) throw err;
    return withModel(blob, name, options, fn, 'full');
  });
}

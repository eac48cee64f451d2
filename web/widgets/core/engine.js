// The one engine every widget on a page shares: a memoised Worker running the single-threaded
// SIMD build (baseline without SIMD128). Embedding pages are not cross-origin isolated, so the
// threaded build is never asked for.
//
// The worker may live on another origin than the page (widgets served from a CDN or a docs
// host): `new Worker(url)` refuses cross-origin URLs, so the worker is then started from a
// same-origin blob whose only line imports the absolute worker URL (module scripts are fetched
// with CORS, so the serving host must send Access-Control-Allow-Origin). Every URL below is
// resolved against this module (import.meta.url), never against the page.
import { createEngine } from '../../engine/client.js';
import { detectFeatures, workerUrl } from '../../engine/loader.js';

// Shared across copies of this module (e.g. the script included twice from different URLs).
const KEY = Symbol.for('spectralab.widgets.engine');
const state = (globalThis[KEY] ??= { engine: null, blobs: new Map(), chain: Promise.resolve(), open: null });

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

/** The shared engine (started on first use). */
export function sharedEngine() {
  if (!state.engine) state.engine = createEngine({ build: widgetBuild(), workerUrl: bootstrapWorkerUrl() });
  return state.engine;
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
 * Runs `fn(plan)` with `blob` as the worker's open model. The worker holds one open model
 * (openModel → analyzeLayer), so model work of all widgets is serialised here, and the model is
 * re-opened only when another blob or option set was open in between.
 */
export function withModel(blob, name, options, fn) {
  const engine = sharedEngine();
  const key = JSON.stringify(options ?? {});
  const run = state.chain.then(async () => {
    try {
      if (!state.open || state.open.blob !== blob || state.open.key !== key || state.open.engine !== engine.ready) {
        state.open = null;
        const plan = await engine.call('openModel', blob, name, options ?? {});
        state.open = { blob, key, plan, engine: engine.ready };
      }
      return await fn(state.open.plan, engine);
    } catch (err) {
      state.open = null;
      throw err;
    }
  });
  state.chain = run.catch(() => {});
  return run;
}

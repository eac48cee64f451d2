// Page-side client of the engine worker (web/engine/worker.js): promise-based RPC, cancel by
// terminate-and-respawn, progress forwarding.
//
//   const engine = createEngine({ build: 'threads' });
//   const info = await engine.ready;                  // {build, version, simd, threads, threadCount, …}
//   const ev = await engine.call('gramEigenvaluesF32', data, rows, cols, true);
//   engine.cancel();                                  // rejects pending calls with CancelledError
import { BUILDS, workerUrl as defaultWorkerUrl } from './loader.js';

/** The rejection of calls stopped by {@link Engine.cancel} (message 'cancelled'). */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A call that the engine answered with an error (the wasm message, e.g. a validation error). */
export class EngineError extends Error {
  constructor(message, { method, fatal = false } = {}) {
    super(message);
    this.name = 'EngineError';
    this.method = method;
    this.fatal = fatal;
  }
}

/** `?engineFault=<layer name>` on the page: the crash-recovery tests' injected trap (see worker.js). */
function injectedFault() {
  try {
    return new URLSearchParams(globalThis.location?.search ?? '').get('engineFault') || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts an engine worker running `build`.
 * @param {object} [options]
 * @param {'threads'|'simd'|'baseline'} [options.build='simd'] build to load (see loader.chooseBuild)
 * @param {number} [options.threads] rayon pool size for the threads build (default: hardwareConcurrency)
 * @param {boolean} [options.fallback=true] if the build fails to load, try the next lower one
 * @param {(progress: any, call: {id: number, method: string}) => void} [options.onProgress]
 * @param {string|URL} [options.workerUrl] the worker module (default: web/engine/worker.js)
 * @param {string} [options.module] a reduced module of the build (`'spectrum'`: pkg/spectrum-<build>/)
 * @param {(build: string) => Promise<WebAssembly.Module|null>} [options.wasm] the build's module,
 *   compiled by the page (shared with the page's own instance: the .wasm is downloaded once)
 */
export function createEngine({
  build = 'simd',
  threads,
  fallback = true,
  onProgress,
  workerUrl = defaultWorkerUrl(),
  module,
  wasm,
} = {}) {
  if (!BUILDS.includes(build)) throw new Error(`unknown build "${build}"`);
  const candidates = fallback ? BUILDS.slice(BUILDS.indexOf(build)) : [build];

  let worker = null;
  let generation = 0; // bumps on every (re)spawn; replies of older workers are ignored
  let loadedBuild = null; // the build that actually loaded (after fallback)
  let ready = null;
  let disposed = false;
  let nextId = 1;
  /** id → {resolve, reject, method, onProgress, t0} */
  const pending = new Map();

  function rejectAll(err) {
    const calls = [...pending.values()];
    pending.clear();
    for (const p of calls) p.reject(err);
  }

  function onMessage(gen, event) {
    if (gen !== generation) return;
    const msg = event.data ?? {};
    const p = pending.get(msg.id);
    if (!p) return;
    if ('progress' in msg && !('result' in msg) && !('error' in msg)) {
      const cb = p.onProgress ?? onProgress;
      try {
        cb?.(msg.progress, { id: msg.id, method: p.method });
      } catch (err) {
        console.error('[spectralab] onProgress callback threw', err);
      }
      return;
    }
    pending.delete(msg.id);
    if ('error' in msg) {
      p.reject(new EngineError(msg.error, { method: p.method, fatal: Boolean(msg.fatal) }));
      // A trapped wasm instance must not serve more calls: start over with a fresh worker.
      if (msg.fatal) restart(new EngineError(`engine restarted after a crash in ${p.method}`));
    } else {
      p.resolve({ result: msg.result, ms: msg.ms, roundTripMs: performance.now() - p.t0 });
    }
  }

  function onError(gen, event) {
    if (gen !== generation) return;
    event.preventDefault?.();
    const detail = event.message || 'the worker script failed to load or threw';
    rejectAll(new EngineError(`engine worker error: ${detail}`));
  }

  /** Sends the init message to a fresh worker; resolves to the worker's buildInfo. */
  function initWorker(gen, b) {
    const w = new Worker(workerUrl, { type: 'module', name: `spectralab-${b}` });
    worker = w;
    w.addEventListener('message', (e) => onMessage(gen, e));
    w.addEventListener('error', (e) => onError(gen, e));
    w.addEventListener('messageerror', () => onError(gen, { message: 'a message could not be deserialised' }));
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: ({ result }) => resolve(result), reject, method: 'init', t0: performance.now() });
      const compiled = wasm ? Promise.resolve(wasm(b)).catch(() => null) : Promise.resolve(null);
      compiled.then((m) => {
        if (gen === generation) w.postMessage({ type: 'init', id, build: b, threads, module, wasm: m ?? undefined, fault: injectedFault() });
      });
    });
  }

  /** (Re)starts the worker, trying `builds` in order; sets `ready`. */
  function spawn(builds) {
    const gen = ++generation;
    ready = (async () => {
      let lastError = null;
      for (const b of builds) {
        if (gen !== generation) throw new CancelledError();
        try {
          const t0 = performance.now();
          const info = await initWorker(gen, b);
          loadedBuild = b;
          const out = { ...info, build: b, requested: build, initMs: performance.now() - t0 };
          if (b !== build) out.fallbackFrom = build;
          return out;
        } catch (err) {
          if (gen !== generation || err instanceof CancelledError) throw err;
          lastError = err;
          worker?.terminate();
          if (b !== builds.at(-1)) console.warn(`[spectralab] ${err.message}; trying the next build`);
        }
      }
      throw lastError;
    })();
    ready.catch(() => {}); // callers see the rejection; no unhandled-rejection noise
  }

  function restart(err) {
    worker?.terminate();
    worker = null;
    rejectAll(err);
    if (!disposed) spawn(loadedBuild ? [loadedBuild] : candidates);
  }

  /**
   * Calls `method` with `args`; resolves to `{result, ms, roundTripMs}` (`ms`: time in the worker).
   * `transfer` lists buffers of the arguments to move instead of copy (they become detached here).
   */
  function request(method, args = [], { transfer = [], onProgress: onCallProgress } = {}) {
    if (disposed) return Promise.reject(new Error('engine disposed'));
    const id = nextId++;
    const gen = generation;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, method, onProgress: onCallProgress, t0: performance.now() });
      ready.then(
        () => {
          // Cancelled, disposed or restarted in the meantime: already rejected.
          if (!pending.has(id) || gen !== generation) return;
          try {
            worker.postMessage({ id, method, args }, transfer);
          } catch (err) {
            pending.delete(id);
            reject(err);
          }
        },
        (err) => {
          if (pending.delete(id)) reject(err);
        },
      );
    });
  }

  spawn(candidates);

  return {
    /** Resolves to `{build, version, simd, threads, gramKernel, threadCount, initMs, …}`. */
    get ready() {
      return ready;
    },
    /** The build that loaded (null until ready). */
    get build() {
      return loadedBuild;
    },
    /** Bumps on every (re)start of the worker: state kept in the worker is gone when it changes. */
    get generation() {
      return generation;
    },
    /** Calls in flight. */
    get pendingCount() {
      return pending.size;
    },
    request,
    /** `call('demoSpectrum', 2000, 500, 50, 1n)` → Promise of the result. */
    call: (method, ...args) => request(method, args).then((r) => r.result),
    /** Stops all work: terminates the worker, rejects pending calls, starts a fresh worker. */
    cancel(reason = 'cancelled') {
      if (disposed) return Promise.reject(new Error('engine disposed'));
      restart(new CancelledError(reason));
      return ready;
    },
    /** Terminates the worker for good; pending and later calls reject. */
    dispose() {
      if (disposed) return;
      disposed = true;
      generation++;
      worker?.terminate();
      worker = null;
      rejectAll(new Error('engine disposed'));
    },
  };
}

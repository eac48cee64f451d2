// The page's store: the one owner of the open model, the lab's rows and selection, and the page's
// two engine workers. Panels read the store and subscribe to its events; no panel reads another
// panel's DOM, and no panel starts a worker of its own.
//
//   store.engine   the interactive engine (the lab's build: threads where the page is cross-origin
//                  isolated). It holds the open model: analysis, the layers' ESDs, compress
//                  curves and planner. The lab's Cancel restarts it (then 'restart' is emitted).
//   store.jobs     the job runner over the second engine (same build, started on first use). It
//                  runs one long, cancellable job at a time, in order: the demo, compare,
//                  quantization measurements, structured fits, metrics, transforms. Cancelling
//                  a job restarts only this engine; models a job opened are opened again (same
//                  Blob/Files) by the next job that needs them.
//   store.model    the open model {files, blob, name, kind} (null before the first open)
//   store.rows     the lab's analysed rows (no ESDs: those stay in the engine)
//   store.selected the selected layer's plan index (or null)
//
// Events (`store.on(name, fn)` → unsubscribe):
//   'model'    {model}                      a model was opened (a new run starts)
//   'layers'   {runId, rows, done}          a batch of rows finished (with `index`, `shape`; their
//                                           ESDs stay in the engine: `layerEvals`, or by index)
//   'select'   {index, name}                the lab's selection changed
//   'cancel'   {runId}                      the lab's run was cancelled (no last batch follows)
//   'compare'  {base, other}                the Compare panel started comparing this pair
import { CancelledError, createEngine } from '../engine/client.js';

/**
 * @param {{build: string, threads: number}} o the lab's build and its thread count
 */
export function createStore({ build, threads }) {
  const listeners = new Map();
  const emit = (name, detail) => {
    for (const fn of listeners.get(name) ?? []) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`[spectralab] a '${name}' listener threw`, err);
      }
    }
  };
  /** Progress of the interactive engine's calls without their own callback (remote downloads). */
  let engineProgress = null;
  const engine = createEngine({ build, threads, onProgress: (p, call) => engineProgress?.(p, call) });

  const store = {
    engine,
    jobs: createJobRunner(() => createEngine({ build, threads })),
    model: null,
    rows: [],
    selected: null,
    /**
     * Settles once the open model is open in the interactive engine (again, after a restart):
     * panels await it before calls that read the model's layers.
     */
    modelReady: Promise.resolve(),
    /** Wall time of the lab's last finished run (ms), or null. */
    analysisMs: null,
    on(name, fn) {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(fn);
      return () => listeners.get(name).delete(fn);
    },
    /** Routes the interactive engine's uncallbacked progress (one consumer: the lab). */
    onEngineProgress(fn) {
      engineProgress = fn;
    },
    /** The lab opened `model` ({files, blob, name, kind}): rows and selection start over. */
    setModel(model) {
      store.model = model;
      store.rows = [];
      store.selected = null;
      store.analysisMs = null;
      emit('model', { model });
    },
    /** The lab finished a batch of `rows` (no ESDs). */
    addRows(runId, rows, done) {
      store.rows.push(...rows);
      emit('layers', { runId, rows, done });
    },
    select(index) {
      if (index === store.selected) return;
      store.selected = index;
      const row = store.rows.find((r) => r.index === index);
      emit('select', { index, name: row?.name ?? null });
    },
    cancelled(runId) {
      emit('cancel', { runId });
    },
    /** The Compare panel compares `base` ({files, name}) with `other` (a label). */
    comparing(base, other) {
      emit('compare', { base, other });
    },
  };
  return store;
}

/**
 * One engine for long jobs, one job at a time. `run(owner, fn)` queues `fn(job)` and resolves to
 * its result; `job` has `call`/`request` (rejecting once the job is cancelled) and
 * `open(key, files, name, options, {fresh})`, which opens a model under `key` in the engine (→ `{opened:
 * true, plan}`), or only selects it when this worker already opened the same files (→ `{opened:
 * false}`: what a job computed into that model before is still there; `fresh` always opens). `cancel(owner)` drops the owner's
 * queued jobs and, if its job is running, restarts the engine (the job rejects with CancelledError).
 * @param {() => ReturnType<typeof createEngine>} make starts the engine (called on first use)
 */
export function createJobRunner(make) {
  let engine = null;
  const queue = [];
  let running = null;
  /** key → {files, generation}: models open in the current worker. */
  const opened = new Map();
  const get = () => (engine ??= make());

  function pump() {
    if (running || !queue.length) return;
    const job = queue.shift();
    running = job;
    const e = get();
    const guard = () => {
      if (job.cancelled) throw new CancelledError();
    };
    const api = {
      engine: e,
      call: (method, ...args) => api.request(method, args).then((r) => r.result),
      request: async (method, args, opts) => {
        guard();
        const r = await e.request(method, args, opts);
        guard();
        return r;
      },
      open: async (key, files, name, options = {}, { fresh = false } = {}) => {
        const o = opened.get(key);
        if (!fresh && o && o.files === files && o.generation === e.generation) {
          await api.call('selectModel', key);
          return { opened: false };
        }
        const plan = await api.call('openModel', files, name, options, key);
        opened.set(key, { files, generation: e.generation });
        return { opened: true, plan };
      },
    };
    (async () => {
      await e.ready;
      guard();
      return job.fn(api);
    })()
      .then(job.resolve, job.reject)
      .finally(() => {
        running = null;
        pump();
      });
  }

  return {
    /** The job engine (started now if it is not yet). */
    get engine() {
      return get();
    },
    /** The owner of the running job, or null. */
    get runningOwner() {
      return running?.owner ?? null;
    },
    /** Queued jobs (not the running one). */
    get queued() {
      return queue.length;
    },
    run(owner, fn) {
      return new Promise((resolve, reject) => {
        queue.push({ owner, fn, resolve, reject, cancelled: false });
        pump();
      });
    },
    /** Cancels the owner's jobs; resolves once the engine is ready again. */
    cancel(owner) {
      for (let i = queue.length - 1; i >= 0; i--) {
        if (queue[i].owner !== owner) continue;
        const [job] = queue.splice(i, 1);
        job.reject(new CancelledError());
      }
      if (running?.owner !== owner) return Promise.resolve();
      running.cancelled = true;
      opened.clear();
      return engine.cancel().catch(() => {});
    },
  };
}

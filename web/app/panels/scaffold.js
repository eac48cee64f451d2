// The scaffold the job panels share (metrics, transforms): status line, progress bar, Cancel,
// the latest-run guard, the busy state the tests wait on (`state.runId` / `state.doneId`), and
// engine calls as jobs on the store's job engine, each timed into `state.timings`.
//
//   const job = createJobScaffold({ store, owner: 'metrics', section, state, ui, controls });
//   await job.run('Computing…', async () => { const r = await job.call('metricsReport', [...]); … });
import { CancelledError } from '../../engine/client.js';

/**
 * @param {object} o
 * @param {ReturnType<import('../store.js').createStore>} o.store
 * @param {string} o.owner the job owner (Cancel stops only this panel's jobs)
 * @param {HTMLElement} o.section the panel (gets aria-busy)
 * @param {{status: string, message: string, runId: number, doneId: number, timings: object, lastError: string|null}} o.state
 * @param {{status: HTMLElement, progress: HTMLProgressElement, cancel: HTMLButtonElement}} o.ui
 * @param {(busy: boolean) => void} [o.controls] enables/disables the panel's own inputs
 * @param {(p: object) => string|null} [o.progressText] status text for a progress message
 */
export function createJobScaffold({ store, owner, section, state, ui, controls = () => {}, progressText = () => null }) {
  function setStatus(text, kind = '') {
    state.message = text;
    ui.status.textContent = text;
    ui.status.dataset.kind = kind;
  }

  /** `end`: the status after a run ('idle' | 'error'); runId/doneId let tests wait for a run. */
  function setBusy(busy, end = null) {
    if (busy) {
      state.status = 'computing';
      state.runId++;
    } else {
      state.status = end ?? (state.status === 'computing' ? 'idle' : state.status);
      state.doneId = state.runId;
    }
    controls(busy);
    ui.cancel.disabled = !busy;
    ui.progress.hidden = !busy;
    if (busy) ui.progress.removeAttribute('value');
    section.setAttribute('aria-busy', String(busy));
  }

  const onProgress = (p) => {
    if (!p || typeof p !== 'object' || !Number.isFinite(p.total) || p.total <= 0) return;
    ui.progress.max = p.total;
    ui.progress.value = p.done;
    const text = progressText(p);
    if (text) ui.status.textContent = text;
  };

  /** Calls `method` as a job of this panel; resolves to its result. */
  async function call(method, args) {
    const t0 = performance.now();
    const { result } = await store.jobs.run(owner, (job) => job.request(method, args, { onProgress }));
    state.timings[method] = performance.now() - t0;
    return result;
  }

  /** One run: a CancelledError ends it quietly, another error is shown; → 'idle' | 'error'. */
  async function attempt(text, work, onError) {
    state.lastError = null;
    setStatus(text);
    try {
      await work();
      return 'idle';
    } catch (err) {
      if (err instanceof CancelledError) {
        state.cancelCount = (state.cancelCount ?? 0) + 1;
        setStatus('Cancelled; the engine was restarted.', 'cancelled');
        return 'idle';
      }
      state.lastError = err?.message ?? String(err);
      setStatus(`Error: ${state.lastError}`, 'error');
      onError(err);
      return 'error';
    }
  }

  let active = null; // the running loop's promise
  let queued = null; // the latest run asked for while busy: [text, work, onError]
  /**
   * Runs `work` with the panel busy; `onError(err)` may add to the page (e.g. re-render). Latest
   * run wins: a run asked for while one is running waits for it (only the latest waiting one
   * runs; runs never interleave their engine calls), and the panel stays busy in between.
   * Resolves to the end status ('idle' | 'error').
   */
  function run(text, work, { onError = () => {} } = {}) {
    queued = [text, work, onError];
    if (active) return active;
    active = (async () => {
      setBusy(true);
      let end = 'idle';
      while (queued) {
        const [t, w, e] = queued;
        queued = null;
        end = await attempt(t, w, e);
        if (queued) state.runId++;
      }
      await store.jobs.engine.ready.catch(() => {});
      setBusy(false, end);
      active = null;
      return end;
    })();
    return active;
  }

  ui.cancel.addEventListener('click', () => store.jobs.cancel(owner));
  return { setStatus, setBusy, call, run, onProgress };
}

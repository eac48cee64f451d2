// In-browser bench page: runs bench-worker.js for one wasm build and shows the medians.
//
//   /bench/?build=simd|baseline|threads&reps=5&warmup=2&threads=2&ops=id,id&autorun=1
//
// For the driver (scripts/bench.mjs): `window.benchDone` is a promise of the result object
// (rejects on error); `window.benchResult` holds it once settled; progress lines go to the
// console and to the page.

const params = new URLSearchParams(location.search);
const opts = {
  build: params.get('build') ?? 'simd',
  reps: Number(params.get('reps') ?? 5),
  warmup: Number(params.get('warmup') ?? 2),
  threads: Number(params.get('threads') ?? 2),
  ops: params.get('ops') ? params.get('ops').split(',') : null,
};
const log = document.getElementById('log');
const out = document.getElementById('out');
const statusEl = document.getElementById('status');

function line(text) {
  console.log(`[bench] ${text}`);
  log.textContent += `${text}\n`;
}

function render(result) {
  const rows = Object.entries(result.ops).map(([id, r]) =>
    `<tr><td>${id}</td><td>${r.median_ms.toFixed(1)}</td><td>${r.min_ms.toFixed(1)}</td>` +
    `<td>${r.check_rel_err.toExponential(1)}</td><td><code>${r.code}</code></td></tr>`);
  out.innerHTML =
    `<p>build <b>${result.build}</b> (${JSON.stringify(result.buildInfo)}), ` +
    `${result.threads} thread(s), median of ${result.reps} after ${result.warmup} warm-up</p>` +
    '<table><thead><tr><th>op</th><th>median ms</th><th>min ms</th><th>check</th><th>call</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`;
}

function start() {
  statusEl.textContent = `running ${opts.build}…`;
  window.benchDone = new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./bench-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (e) => {
      const msg = e.data;
      if (msg.type === 'progress') {
        line(msg.message);
      } else if (msg.type === 'done') {
        window.benchResult = msg.result;
        render(msg.result);
        statusEl.textContent = 'done';
        worker.terminate();
        resolve(msg.result);
      } else if (msg.type === 'error') {
        window.benchResult = { error: msg.message };
        statusEl.textContent = `error: ${msg.message}`;
        line(msg.stack);
        worker.terminate();
        reject(new Error(msg.message));
      }
    };
    worker.onerror = (e) => {
      const m = e.message || 'worker failed to load';
      window.benchResult = { error: m };
      statusEl.textContent = `error: ${m}`;
      reject(new Error(m));
    };
    worker.postMessage(opts);
  });
  window.benchDone.catch(() => {}); // reported on the page; the driver awaits it itself
}

for (const a of document.querySelectorAll('nav a[data-build]')) {
  if (a.dataset.build === opts.build) a.setAttribute('aria-current', 'page');
}
document.getElementById('isolated').textContent = String(self.crossOriginIsolated);
const runButton = document.getElementById('run');
if (params.get('autorun') !== '0') {
  runButton.hidden = true;
  start();
} else {
  runButton.addEventListener('click', () => { runButton.disabled = true; start(); }, { once: true });
}

// First-paint benchmark of the widgets in headless Chromium: a page without isolation headers
// with one <spectral-esd> given a 384×384 Float32Array inline (`matrix` property); measures the
// time from the module script's first statement to the widget's first `spectral-render`, cold
// (fresh profile) and warm (the same page loaded again: HTTP cache and V8's wasm code cache).
//   node scripts/bench-widgets.mjs [--src /web/widgets/ | /dist/] [--runs 5]
// Download size: every unique URL the cold load fetched (page, workers), its body gzip -9'd
// (the gzip CLI, as `gzip -9c`) and summed; the page's own HTML is left out. Target (issue 17): ≤ 400 KB.
// Prints one JSON line per load, the per-file sizes and a summary.
import { spawnSync } from 'node:child_process';
import { startServer } from './serve.mjs';
import { launchBrowser, newPage } from '../tests/e2e/browser.mjs';

const args = process.argv.slice(2);
const arg = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const base = arg('--src', '/dist/');
const runs = Number(arg('--runs', 5));

const PAGE = (entry) => `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>widget bench</title>
<spectral-esd id="w" style="width:480px;height:360px"></spectral-esd>
<script type="module">
  const t0 = performance.now();
  globalThis.bench = { t0 };
  const el = document.getElementById('w');
  el.addEventListener('spectral-render', (e) => {
    globalThis.bench.paint ??= performance.now() - t0;
    globalThis.bench.detail ??= e.detail;
    if (el.getAttribute('state') === 'ready') globalThis.bench.done = performance.now() - t0; // + FARMS
  });
  el.addEventListener('spectral-error', (e) => { globalThis.bench.error = e.detail.message; });
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const a = new Float32Array(384 * 384);
  for (let i = 0; i < a.length; i++) a[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  globalThis.bench.genMs = performance.now() - t0;
  el.matrix = { data: a, rows: 384, cols: 384, name: 'bench 384×384' };
  const mod = await import(${JSON.stringify(entry)});
  globalThis.bench.importMs = performance.now() - t0;
  mod.sharedEngine().ready.then(() => { globalThis.bench.engineReadyMs = performance.now() - t0; });
  mod.loadCharts().then(() => { globalThis.bench.chartsMs = performance.now() - t0; });
</script>`;

const srv = await startServer({ isolation: false });
const browser = await launchBrowser();
const results = { cold: [], warm: [] };
let downloads = null;
try {
  for (let r = 0; r < runs; r++) {
    const tab = await newPage(browser);
    const url = `${srv.url}/__bench.html`;
    await tab.page.route(url, (route) => route.fulfill({ contentType: 'text/html', body: PAGE(`${base}spectralab-widgets.js`) }));
    for (const kind of ['cold', 'warm']) {
      await tab.page.goto(url);
      await tab.page.waitForFunction(() => globalThis.bench && ((globalThis.bench.paint && globalThis.bench.chartsMs && globalThis.bench.engineReadyMs && globalThis.bench.done) || globalThis.bench.error), null, { timeout: 60_000 });
      const b = await tab.page.evaluate(() => globalThis.bench);
      if (b.error) throw new Error(b.error);
      results[kind].push(b.paint);
      results[`${kind}Done`] = [...(results[`${kind}Done`] ?? []), b.done];
      console.log(JSON.stringify({ run: r, kind, paintMs: Math.round(b.paint), withFarmsMs: Math.round(b.done), importMs: Math.round(b.importMs), engineReadyMs: Math.round(b.engineReadyMs), chartsMs: Math.round(b.chartsMs), drawMs: Math.round(b.detail.drawMs) }));
    }
    if (r === 0) downloads = await measureDownloads(tab.requests, url);
    await tab.close();
  }
} finally {
  await browser.close();
  await srv.close();
}
/** Bytes of `gzip -9c` of `body`. */
function gzip9(body) {
  const r = spawnSync('gzip', ['-9c'], { input: body, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`gzip -9c failed: ${r.stderr}`);
  return r.stdout.length;
}

/** {url: {raw, gzip}} of the unique http(s) URLs fetched (bodies re-fetched from the server). */
async function measureDownloads(requests, pageUrl) {
  const out = {};
  for (const u of new Set(requests)) {
    if (!/^https?:/.test(u) || u === pageUrl) continue;
    const res = await fetch(u);
    const body = Buffer.from(await res.arrayBuffer());
    out[u.replace(srv.url, '')] = { status: res.status, raw: body.length, gzip: gzip9(body) };
  }
  return out;
}

const files = Object.entries(downloads ?? {}).sort((a, b) => b[1].gzip - a[1].gzip);
for (const [u, d] of files) console.log(`${String(d.gzip).padStart(8)} B gzip ${String(d.raw).padStart(9)} B raw  ${u}${d.status === 200 ? '' : ` (HTTP ${d.status})`}`);
const total = files.reduce((a, [, d]) => a + d.gzip, 0);
const wasmFiles = files.filter(([u]) => u.endsWith('.wasm'));
const wasmGz = wasmFiles.reduce((a, [, d]) => a + d.gzip, 0);
console.log(`# one <spectral-esd> page downloads ${files.length} files, ${total} B gzip (${(total / 1000).toFixed(1)} KB, ${(total / 1024).toFixed(1)} KiB): wasm ${wasmFiles.length} file(s) ${wasmGz} B, JS ${total - wasmGz} B`);
const med = (v) => v.slice().sort((a, b) => a - b)[v.length >> 1];
console.log(`# first widget painted (384×384 inline, ${base}): cold median ${Math.round(med(results.cold))} ms, warm median ${Math.round(med(results.warm))} ms (min ${Math.round(Math.min(...results.warm))}); with FARMS: warm median ${Math.round(med(results.warmDone))} ms; ${runs} runs, load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`);

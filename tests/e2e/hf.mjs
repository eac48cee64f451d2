// End-to-end: a public model opened by its id in the lab, read by HTTP range requests from the
// local Hub imitation (tests/hub-server.mjs, another origin: never the real internet).
//   node tests/e2e/hf.mjs
// The page opens the MiniLM example from its own site first (the local reference). Then the id
// `test/minilm` is pasted: the same table and the same α row for row, the download progress
// shown, every request answered 206 from the CDN after one redirect, no CORS preflight, and no
// request to any other origin. A layer filter re-runs the model fetching a small part of it;
// a server that ignores Range and a gated model give clear errors.
import { startServer } from '../../scripts/serve.mjs';
import { startHub } from '../hub-server.mjs';
import { foreignRequests, launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const RUN_TIMEOUT_MS = Number(process.env.SPECTRALAB_RUN_TIMEOUT_MS ?? 120_000);

async function waitRun(page, after) {
  await page.waitForFunction(
    (n) => {
      const l = window.spectralabLab;
      return l && l.runId > n && ['done', 'error', 'cancelled'].includes(l.status);
    },
    after,
    { timeout: RUN_TIMEOUT_MS },
  );
  return page.evaluate(() => {
    const l = window.spectralabLab;
    return {
      status: l.status,
      error: l.error,
      shownError: document.querySelector('#lab-error').hidden ? '' : document.querySelector('#lab-error').textContent,
      done: l.done,
      total: l.total,
      rows: l.rows.map((r) => ({ name: r.name, alpha: r.alpha, status: r.status })),
      tableRows: document.querySelectorAll('#lab-tbody tr').length,
      download: l.download,
      downloadText: document.querySelector('#lab-download').hidden ? '' : document.querySelector('#lab-download').textContent,
      source: document.querySelector('#lab-source').textContent,
    };
  });
}

async function openId(page, id) {
  const before = await page.evaluate(() => window.spectralabLab.runId);
  await page.fill('#lab-hub-id', id);
  await page.click('#lab-hub-open');
  return waitRun(page, before);
}

async function main() {
  const hub = await startHub();
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  try {
    const { page, requests, errors } = await newPage(browser);
    await page.goto(`${server.url}/?hub=${encodeURIComponent(hub.url)}`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.spectralabLab && ['done', 'error'].includes(window.spectralabLab.status), null, { timeout: RUN_TIMEOUT_MS });
    const local = await page.evaluate(() => window.spectralabLab.rows.map((r) => ({ name: r.name, alpha: r.alpha })));
    report('the example (local reference) was analysed', local.length > 30, `${local.length} rows`);
    report('nothing was fetched from the hub before the user asked', hub.stats.requests === 0, JSON.stringify(hub.stats.statuses));

    const t0 = Date.now();
    const s = await guarded('test/minilm opens by id', () => openId(page, 'test/minilm'));
    if (s) {
      info(`hub model: ${s.done}/${s.total} layers in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${s.downloadText}; server: ${hub.stats.requests} requests (${hub.stats.cdn} ranged), ${hub.stats.bytes} bytes`);
      report('the table is filled, no error', s.status === 'done' && s.done === s.total && s.tableRows >= s.total && s.total === local.length, JSON.stringify({ status: s.status, error: s.error, done: s.done, total: s.total }));
      const same = s.rows.length === local.length && s.rows.every((r, k) => r.name === local[k].name && r.alpha === local[k].alpha);
      report('same α as the local file, row for row', same, JSON.stringify(s.rows.slice(0, 2)));
      const d = s.download ?? {};
      // Every byte of the file once, plus the body of the 404 for the missing index.
      report('download progress shown (bytes fetched of the model size)', /downloaded [\d.]+ MiB of 20\.3 MiB \(\d+ requests\)/.test(s.downloadText) && d.bytes >= d.size && d.bytes < d.size + 1024, `${s.downloadText} ${JSON.stringify(d)}`);
      report('ranged reads only: one redirect, 206s, no 200, no preflight', hub.stats.statuses['302'] === 1 && !hub.stats.statuses['200'] && hub.stats.preflights === 0 && hub.stats.bytes <= d.size, JSON.stringify(hub.stats));
    }
    const hubOrigin = new URL(hub.url).origin;
    const foreign = foreignRequests(requests, new URL(server.url).origin);
    report('the only other origin contacted is the hub', foreign.length > 0 && foreign.every((u) => new URL(u).origin === hubOrigin), foreign.filter((u) => new URL(u).origin !== hubOrigin).slice(0, 3).join(' '));

    // A layer filter re-runs the open model: only those layers' bytes are fetched.
    hub.reset();
    const before = await page.evaluate(() => window.spectralabLab.runId);
    await page.fill('#lab-opt-layers', 'layer.2.attention.self.query');
    await page.dispatchEvent('#lab-opt-layers', 'change');
    const sub = await guarded('layer filter re-runs the hub model', () => waitRun(page, before));
    if (sub) {
      const ref = local.find((r) => r.name === sub.rows[0]?.name);
      report('one layer analysed, same α', sub.status === 'done' && sub.rows.length === 1 && ref && sub.rows[0].alpha === ref.alpha, JSON.stringify(sub.rows));
      report('a small part of the model was fetched', hub.stats.bytes < sub.download.size / 20, `${hub.stats.bytes} of ${sub.download.size} bytes, ${sub.download.requests} requests`);
      info(`one layer: ${sub.download.requests} requests, ${hub.stats.bytes} bytes of ${sub.download.size}`);
    }
    await page.fill('#lab-opt-layers', '');

    hub.reset();
    const nr = await guarded('test/no-range runs', () => openId(page, 'test/no-range'));
    if (nr) {
      report('a server ignoring Range: clear error', nr.status === 'error' && /ignored the byte range \(HTTP 200 instead of 206\)/.test(nr.shownError), nr.shownError);
      // The file is resolved with fetch, which hangs up on the 200 before the body is sent.
      report('… and the whole file was not sent', hub.stats.bytes < 21237848, `${hub.stats.bytes} bytes`);
      info(`Range ignored: ${hub.stats.bytes} bytes written before the page hung up`);
    }
    const gated = await guarded('test/gated runs', () => openId(page, 'test/gated'));
    if (gated) report('a gated model: clear error', gated.status === 'error' && /HTTP 401: the model is gated or private/.test(gated.shownError), gated.shownError);
    const missing = await guarded('test/missing runs', () => openId(page, 'test/missing'));
    if (missing) report('an unknown model: clear error', missing.status === 'error' && /none of model\.safetensors\.index\.json/.test(missing.shownError), missing.shownError);
    const pageErrors = errors.filter((e) => !/Failed to load resource/.test(e));
    report('no page errors', pageErrors.length === 0, pageErrors.slice(0, 3).join(' | '));
  } finally {
    await browser.close();
    await server.close();
    await hub.close();
  }
}

main().then(finish, (err) => {
  report('e2e hf', false, err.message);
  finish();
});

// End-to-end test of the Compare panel in headless Chromium.
//   node tests/e2e/compare.mjs
// The LoRA demo (synthetic base + PEFT adapter, static/examples/compare/): the strongly updated
// layers show intruder dimensions and are highlighted, the weak one is not; the demo model against
// itself gives zero change; an unrelated model gives a clear error; CSV/JSON exports. Writes
// tests/artifacts/compare.png (gitignored).
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { download, foreignRequests, launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const GOLDEN = JSON.parse(readFileSync(join(ROOT, 'tests', 'goldens', 'compare', 'golden.json'), 'utf8'));

const snapshot = (page) =>
  page.evaluate(() => {
    const c = window.spectralabCompare;
    return {
      status: c.status,
      runs: c.runs,
      error: c.error,
      ms: c.ms,
      text: document.querySelector('#compare-status').textContent,
      summary: c.report?.summary ?? null,
      layers: c.report?.layers.map((l) => ({ name: l.name, intruders: l.intruders, rel: l.delta_rel_fro, sn: l.delta_spectral_norm })) ?? [],
      highlighted: [...document.querySelectorAll('#compare-body tr.intruder td:first-child')].map((td) => td.textContent),
      rows: document.querySelectorAll('#compare-body tr').length,
      unmatched: document.querySelectorAll('#compare-unmatched li').length,
      charts: document.querySelectorAll('#compare-sweep-chart svg, #compare-alpha-chart svg').length,
    };
  });

async function waitDone(page, before, timeout = 60_000) {
  await page.waitForFunction((n) => window.spectralabCompare.runs > n, before.runs, { timeout });
  return snapshot(page);
}

async function main() {
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tab = await newPage(browser);
  const { page } = tab;
  try {
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    report('the compare panel is shown', await page.isVisible('#compare-panel'));
    await guarded('the lab’s model reaches the panel', () => page.waitForFunction(() => window.spectralabCompare?.status === 'ready', null, { timeout: 60_000 }));

    // 1. The demo model against itself: nothing changed.
    let before = await snapshot(page);
    await page.setInputFiles('#compare-other', join(ROOT, 'static', 'examples', 'minilm-l6-encoder-f16.safetensors'));
    const self = await guarded('MiniLM against itself', () => waitDone(page, before));
    if (self) {
      info(`MiniLM F16 vs itself: ${self.summary?.layers} layers in ${(self.ms / 1000).toFixed(1)} s`);
      report('a model against itself: every layer paired, ΔW = 0, no intruders', self.status === 'done' && self.summary.layers >= 36 && self.summary.intruders === 0 && self.layers.every((l) => l.rel === 0), JSON.stringify({ status: self.status, error: self.error, summary: self.summary && { layers: self.summary.layers, intruders: self.summary.intruders } }));
    }

    // 2. The LoRA demo: intruders where the update is strong, highlighted.
    before = await snapshot(page);
    await page.click('#compare-demo');
    const d = await guarded('the LoRA demo', () => waitDone(page, before));
    if (d) {
      const by = Object.fromEntries(d.layers.map((l) => [l.name, l]));
      const name = (part) => Object.keys(by).find((n) => n.includes(part));
      info(`LoRA demo: ${d.layers.map((l) => `${l.name}: ${l.intruders}`).join(', ')}; total ${d.summary?.intruders}`);
      report('strong update (q_proj) has intruders, weak one (v_proj) has none', d.status === 'done' && by[name('q_proj')]?.intruders > 0 && by[name('v_proj')]?.intruders === 0, JSON.stringify({ status: d.status, error: d.error, text: d.text }));
      report('layers with intruders are highlighted in the table', d.highlighted.length === d.layers.filter((l) => l.intruders > 0).length && d.highlighted.length > 0, d.highlighted.join(', '));
      // The page's numbers are the core's: the numpy reference of tests/goldens/compare.
      const g = GOLDEN.layers ?? GOLDEN;
      const qName = name('q_proj');
      const gq = Array.isArray(g) ? g.find((l) => l.name === qName) : g[qName];
      if (gq && Number.isFinite(gq.delta_rel_fro)) report('q_proj ΔW/W matches the numpy reference (1e-6)', Math.abs(by[qName].rel - gq.delta_rel_fro) <= 1e-6 * Math.abs(gq.delta_rel_fro), `${by[qName].rel} vs ${gq.delta_rel_fro}`);
      report('the intruder-vs-ε and Δα charts are drawn', d.charts === 2, String(d.charts));
      const csv = await guarded('CSV export', () => download(page, '#compare-export-csv'));
      if (csv) report('CSV: a header and one row per layer', csv.text.trim().split('\n').length === d.rows + 1 && csv.text.startsWith('name,other_name,shape'), csv.text.split('\n')[0]);
      const json = await guarded('JSON export', () => download(page, '#compare-export-json'));
      if (json) report('JSON export has layers, unmatched and summary', ['layers', 'unmatched', 'summary'].every((k) => k in JSON.parse(json.text)));
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('#compare-panel').screenshot({ path: join(ARTIFACTS, 'compare.png') });
    }

    // 3. Two unrelated models: a clear message, not an empty table.
    before = await snapshot(page);
    await page.setInputFiles('#compare-other', join(ROOT, 'static', 'examples', 'minilm-l6-encoder-f16.safetensors'));
    const u = await guarded('unrelated models', () => waitDone(page, before));
    if (u) report('unrelated models: a clear error', u.status === 'error' && /unrelated|no layer/i.test(u.error ?? ''), JSON.stringify({ status: u.status, error: u.error }));

    const offenders = foreignRequests(tab.requests, server.url);
    report(`all ${tab.requests.length} requests went to the page's own origin`, offenders.length === 0, offenders.join(', '));
    report('no console errors or page errors', tab.errors.length === 0, tab.errors.join(' | '));
  } finally {
    await browser.close();
    await server.close();
  }
  finish();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

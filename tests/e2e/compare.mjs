// End-to-end test of the Compare panel in headless Chromium.
//   node tests/e2e/compare.mjs
// The LoRA demo (synthetic base + PEFT adapter, static/examples/compare/): the strongly updated
// layers show intruder dimensions and are highlighted, the weak one is not; the demo model against
// itself gives zero change; an unrelated model gives a clear error; CSV/JSON exports; per-layer
// progress; a row click shows both ESDs and the |⟨u_j, u_i⟩| heatmap; the F32-vs-F16 demo
// (static/examples/minilm-l6-encoder-f32.safetensors, made by scripts/setup.sh) shows
// quantization noise: high SQNR, no intruders. Writes tests/artifacts/compare.png (gitignored).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
      selected: document.querySelector('#compare-body tr.selected td')?.textContent ?? null,
      detailTitle: document.querySelector('#compare-detail-title')?.textContent ?? '',
      esdSvg: document.querySelector('#compare-esd-chart svg')?.outerHTML ?? '',
      heatSvg: document.querySelector('#compare-heatmap-chart svg')?.outerHTML ?? '',
      progress: window.__compareProgress ?? [],
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
    await page.goto(`${server.url}/#compare`, { waitUntil: 'domcontentloaded' });
    report('the compare panel is shown', await page.isVisible('#compare-panel'));
    await guarded('the lab’s model reaches the panel', () => page.waitForFunction(() => window.spectralabCompare?.status === 'ready', null, { timeout: 60_000 }));
    // Record the per-layer progress lines the status shows.
    await page.evaluate(() => {
      window.__compareProgress = [];
      const s = document.querySelector('#compare-status');
      new MutationObserver(() => {
        const m = /layer (\d+)\/(\d+)/.exec(s.textContent);
        if (m) window.__compareProgress.push([Number(m[1]), Number(m[2])]);
      }).observe(s, { childList: true, characterData: true, subtree: true });
    });

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
      const steps = d.progress.filter(([, n]) => n === d.layers.length);
      report('per-layer progress: "layer k/n" for every compared layer', steps.length >= d.layers.length && steps.some(([k]) => k === 1) && steps.some(([k]) => k === d.layers.length), JSON.stringify(d.progress));
      // The first layer with intruders is selected: its ESDs and heatmap are drawn.
      const detail = await guarded('the selected layer’s charts', async () => {
        await page.waitForFunction(() => document.querySelector('#compare-esd-chart svg') && document.querySelector('#compare-heatmap-chart svg'), null, { timeout: 30_000 });
        return snapshot(page);
      });
      if (detail) {
        const first = d.layers.find((l) => l.intruders > 0)?.name;
        report('the first layer with intruders is selected', detail.selected?.startsWith(first) && detail.detailTitle.includes(first), `${detail.selected} / ${detail.detailTitle}`);
        report('its two ESDs are overlaid (base and other in the legend)', /ESD, base vs other/.test(detail.esdSvg) && /compare-demo base/.test(detail.esdSvg) && /adapter/.test(detail.esdSvg));
        report('its |⟨u_j, u_i⟩| heatmap is drawn with values in the cells', /top \d+/.test(detail.heatSvg) && /\d\.\d\d/.test(detail.heatSvg));
      }
      // Clicking another row shows that layer.
      const vName = name('v_proj');
      const vRow = d.layers.findIndex((l) => l.name === vName);
      await page.locator('#compare-body tr').nth(vRow).click();
      const v = await guarded('selecting v_proj', async () => {
        await page.waitForFunction((n) => document.querySelector('#compare-detail-title').textContent.includes(n) && document.querySelector('#compare-esd-chart svg')?.outerHTML.includes(n), vName, { timeout: 30_000 });
        return snapshot(page);
      });
      if (v) report('a row click selects that layer and redraws its charts', v.selected?.startsWith(vName), v.selected);
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

    // 4. The quantization demo: MiniLM F32 vs F16 (scripts/setup.sh extracts the F32 encoder).
    const f32 = join(ROOT, 'static', 'examples', 'minilm-l6-encoder-f32.safetensors');
    before = await snapshot(page);
    await page.click('#compare-demo-f16');
    if (existsSync(f32)) {
      const q = await guarded('the F32-vs-F16 demo', () => waitDone(page, before, 180_000));
      if (q) {
        info(`F32 vs F16: ${q.summary?.layers} layers, SQNR ${q.summary?.sqnr_db_total?.toFixed(2)} dB, ${q.summary?.intruders} intruders, ${(q.ms / 1000).toFixed(1)} s`);
        report('F32 vs F16: 36 layers, no intruders, SQNR 60–90 dB (quantization noise)', q.status === 'done' && q.summary.layers === 36 && q.summary.intruders === 0 && q.summary.sqnr_db_total > 60 && q.summary.sqnr_db_total < 90, JSON.stringify({ status: q.status, error: q.error, s: q.summary && [q.summary.layers, q.summary.intruders, q.summary.sqnr_db_total] }));
      }
    } else {
      await page.waitForFunction(() => /Quantization demo:/.test(document.querySelector('#compare-status').textContent), null, { timeout: 30_000 });
      const t = await page.textContent('#compare-status');
      report('without the F32 file the demo says how to get it', /npm run setup/.test(t), t);
    }

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

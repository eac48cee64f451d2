// End-to-end test of the embeddable widgets in headless Chromium (Debian's, via playwright-core).
//   node tests/e2e/widgets.mjs
// Prints one line per check ("ok - …" / "not ok - …: detail"), exits 1 on any failure.
// Needs the packaged build in dist/ (`bash scripts/build-dist.sh`). Two servers: A serves the
// docs page (static/docs-example.html, no COOP/COEP) and dist/; B (another port = another
// origin) serves dist/ with Access-Control-Allow-Origin: *. The page is loaded with the widgets
// from A, then from B. Writes tests/artifacts/widgets.png (gitignored).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { download, launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const TOTAL_TIMEOUT_MS = 300_000;
const RENDER_TIMEOUT_MS = 120_000;
const TAGS = ['spectral-esd', 'spectral-layers', 'spectral-tradeoff', 'spectral-vendi', 'spectral-transform', 'spectral-compare'];
const MODEL = 'examples/minilm-l6-encoder-f16.safetensors';

/** Waits until every widget of the page is in a final state ('ready' or 'error'). */
async function waitWidgets(page, timeout = RENDER_TIMEOUT_MS) {
  await page.waitForFunction(
    (tags) => {
      const all = [...document.querySelectorAll(tags.join(','))];
      return all.length > 0 && all.every((e) => ['ready', 'error'].includes(e.getAttribute('state')));
    },
    TAGS,
    { timeout },
  );
}

/** What each widget shows: state, text alternative, and what its SVG contains. */
const widgetSummary = (page) =>
  page.evaluate((tags) => {
    return [...document.querySelectorAll(tags.join(','))].map((e) => {
      const svg = e.shadowRoot.querySelector('.chart svg');
      const texts = svg ? [...svg.querySelectorAll('text')].map((t) => t.textContent.trim()).filter(Boolean) : [];
      const shapes = svg ? svg.querySelectorAll('polyline, path, rect, circle, line, polygon').length : 0;
      const stateEl = e.shadowRoot.querySelector('.state');
      return {
        id: e.id,
        tag: e.localName,
        state: e.getAttribute('state'),
        label: e.getAttribute('aria-label') ?? '',
        role: e.getAttribute('role'),
        tabIndex: e.tabIndex,
        error: stateEl.hidden ? '' : stateEl.textContent,
        svg: Boolean(svg),
        width: svg ? Number(svg.getAttribute('width')) : 0,
        numbers: texts.filter((t) => /^[-−]?[\d.]+(e[-+]?\d+)?$/i.test(t)).length,
        texts: texts.length,
        shapes,
        svgBackground: svg ? getComputedStyle(svg).backgroundColor : '',
        timings: e.timings,
      };
    });
  }, TAGS);

/** Checks that every widget of the page drew a chart with axes, data and a text alternative. */
async function checkPage(tab, label) {
  const widgets = await widgetSummary(tab.page);
  const tags = new Set(widgets.map((w) => w.tag));
  report(`${label}: the page has every widget (${TAGS.join(', ')})`, TAGS.every((t) => tags.has(t)), [...tags].join(', '));
  for (const w of widgets) {
    const ok = w.state === 'ready' && w.svg && w.texts >= 6 && w.numbers >= 4 && w.shapes >= 10;
    report(`${label}: <${w.tag} id=${w.id}> rendered an SVG with axes and data`, ok, JSON.stringify({ state: w.state, error: w.error, texts: w.texts, numbers: w.numbers, shapes: w.shapes }));
  }
  const esd = widgets.filter((w) => w.tag === 'spectral-esd');
  report(`${label}: spectral-esd text alternatives give α, x_min and FARMS α`, esd.length >= 2 && esd.every((w) => /α = \d/.test(w.label) && /x_min = \d/.test(w.label) && /FARMS α = \d/.test(w.label)), esd.map((w) => w.label).join(' | '));
  const layers = widgets.find((w) => w.id === 'layers-model');
  report(`${label}: spectral-layers analysed every layer of the model`, /36 layers: median α = \d/.test(layers?.label ?? ''), layers?.label);
  report(`${label}: widgets are focusable images with a label`, widgets.every((w) => w.role === 'img' && w.tabIndex === 0 && w.label.length > 20));
  report(`${label}: page CSS does not leak into the widgets (shadow DOM)`, widgets.every((w) => w.svgBackground !== 'rgb(255, 105, 180)'), widgets.map((w) => w.svgBackground).join(', '));
  return widgets;
}

async function main() {
  const a = await startServer({ isolation: true }); // the lab server: isolates all but the docs page and dist/
  const b = await startServer({ isolation: false, cors: true }); // "another host" serving dist/
  const allowed = new Set([new URL(a.url).origin, new URL(b.url).origin]);
  const browser = await launchBrowser();
  try {
    if (!existsSync(join(ROOT, 'dist', 'spectralab-widgets.js'))) {
      report('dist/ is built (bash scripts/build-dist.sh)', false, 'dist/spectralab-widgets.js missing');
      return;
    }

    // --- 1. same origin, no isolation headers ---------------------------------------------
    const tab = await newPage(browser);
    const res = await tab.page.goto(`${a.url}/docs-example.html`, { waitUntil: 'domcontentloaded' });
    const h = res.headers();
    report('docs page is served without COOP/COEP', !h['cross-origin-opener-policy'] && !h['cross-origin-embedder-policy'], JSON.stringify(h));
    const distHead = await fetch(`${a.url}/dist/spectralab-widgets.js`);
    report('dist/ is served without COOP/COEP, with CORS', !distHead.headers.get('cross-origin-embedder-policy') && distHead.headers.get('access-control-allow-origin') === '*');
    const labHead = await fetch(`${a.url}/`);
    report('the lab page keeps its isolation headers', labHead.headers.get('cross-origin-embedder-policy') === 'require-corp');
    await guarded('docs page: loading state is visible before the first chart', async () => {
      await tab.page.waitForFunction(() => customElements.get('spectral-layers'), null, { timeout: 30_000 });
      const s = await tab.page.evaluate(() => {
        const e = document.getElementById('layers-model');
        const st = e.shadowRoot?.querySelector('.state');
        return { state: e.getAttribute('state'), visible: st && !st.hidden && st.textContent.trim().length > 0, text: st?.textContent };
      });
      report('docs page: loading state is visible before the first chart', ['loading', 'partial'].includes(s.state) && s.visible, JSON.stringify(s));
    });
    await guarded('same origin: every widget finished', () => waitWidgets(tab.page));
    const docs = await tab.page.evaluate(() => ({ isolated: crossOriginIsolated, source: window.spectralabDocs?.source }));
    report('docs page is not cross-origin isolated and uses dist/', docs.isolated === false && docs.source === '/dist/', JSON.stringify(docs));
    const widgets = await checkPage(tab, 'same origin');
    const esdInline = widgets.find((w) => w.id === 'esd-inline');
    if (esdInline) info(`inline 384×384 ESD: load ${Math.round(esdInline.timings.loadMs)} ms, draw ${Math.round(esdInline.timings.drawMs)} ms (incl. FARMS pass)`);
    const engine = await tab.page.evaluate(async () => {
      const { sharedEngine } = await import('/dist/spectralab-widgets.js');
      const e = sharedEngine();
      const i = await e.ready;
      const res = performance.getEntriesByType('resource').map((r) => r.name);
      return { build: i.build, module: i.module, workers: res.filter((u) => u.endsWith('/engine/worker.js')).length };
    });
    report('one shared engine, single-threaded SIMD build of the spectrum module', engine.build === 'simd' && engine.module === 'spectrum', JSON.stringify(engine));
    const wasmFetches = tab.requests.filter((u) => u.endsWith('.wasm'));
    const spectrumFetches = wasmFetches.filter((u) => u.endsWith('/dist/pkg/spectrum-simd/spectralab_wasm_bg.wasm'));
    report('the spectrum .wasm is fetched once for the worker and the charts', spectrumFetches.length === 1, wasmFetches.join(', '));
    mkdirSync(ARTIFACTS, { recursive: true });
    await tab.page.screenshot({ path: join(ARTIFACTS, 'widgets.png'), fullPage: true });

    // --- 2. reactive attributes, theme, resize, focus --------------------------------------
    await guarded('changing tensor re-renders', async () => {
      const r = await tab.page.evaluate(async () => {
        const e = document.getElementById('esd-model');
        const done = new Promise((ok) => e.addEventListener('spectral-render', (ev) => e.getAttribute('state') === 'ready' && ok(ev.detail), { once: false }));
        e.setAttribute('tensor', 'encoder.layer.1.attention.self.key.weight');
        const d = await done;
        return { summary: d.summary, label: e.getAttribute('aria-label') };
      });
      report('changing tensor re-renders', /encoder\.layer\.1\.attention\.self\.key\.weight/.test(r.label) && /FARMS α = \d/.test(r.label), r.label);
    });
    await guarded('theme="dark" redraws with the dark theme', async () => {
      const r = await tab.page.evaluate(async () => {
        const e = document.getElementById('vendi-inline');
        const before = e.shadowRoot.querySelector('svg').outerHTML;
        const done = new Promise((ok) => e.addEventListener('spectral-render', (ev) => ok(ev.detail), { once: true }));
        e.setAttribute('theme', 'dark');
        const d = await done;
        const frame = e.shadowRoot.querySelector('.frame');
        return { theme: d.theme, frameDark: frame.classList.contains('dark'), bg: getComputedStyle(frame).backgroundColor, changed: before !== e.shadowRoot.querySelector('svg').outerHTML };
      });
      report('theme="dark" redraws with the dark theme', r.theme === 'dark' && r.frameDark && r.changed && r.bg !== 'rgb(255, 255, 255)', JSON.stringify(r));
    });
    await guarded('prefers-color-scheme: dark applies without a theme attribute', async () => {
      await tab.page.emulateMedia({ colorScheme: 'dark' });
      const r = await tab.page.waitForFunction(() => document.getElementById('transform-inline').shadowRoot.querySelector('.frame').classList.contains('dark'), null, { timeout: 5000 }).then(() => true, () => false);
      await tab.page.emulateMedia({ colorScheme: 'light' });
      report('prefers-color-scheme: dark applies without a theme attribute', r);
    });
    await guarded('resizing redraws at the new size', async () => {
      const r = await tab.page.evaluate(async () => {
        const e = document.getElementById('tradeoff-inline');
        // Other redraws (e.g. the colour-scheme change above) may still arrive: wait for the resized one.
        const done = new Promise((ok) => {
          e.addEventListener('spectral-render', (ev) => ev.detail.width <= 420 && ok(ev.detail));
          setTimeout(() => ok({ width: NaN, timeout: true }), 10_000);
        });
        e.style.width = '420px';
        e.style.height = '300px';
        const d = await done;
        return { width: d.width, height: d.height, svgWidth: Number(e.shadowRoot.querySelector('svg').getAttribute('width')) };
      });
      report('resizing redraws at the new size', r.width <= 420 && r.width >= 400 && r.svgWidth === r.width && r.height < 300, JSON.stringify(r));
    });
    await guarded('Tab reaches the widgets', async () => {
      await tab.page.evaluate(() => document.getElementById('theme').focus());
      await tab.page.keyboard.press('Tab');
      const id = await tab.page.evaluate(() => document.activeElement?.id);
      report('Tab reaches the widgets', id === 'esd-model', `focused ${id}`);
    });

    // --- 2b. chart interaction: hover read-out, zoom, keyboard, export ----------------------
    await guarded('chart interaction', async () => {
      const id = 'esd-model';
      await tab.page.evaluate((i) => document.getElementById(i).scrollIntoView({ block: 'center' }), id);
      /** Client point at fractions (fx, fy) of the plot area (from the top left). */
      const plotPoint = (fx, fy) =>
        tab.page.evaluate(([i, a, b]) => {
          const e = document.getElementById(i);
          const svg = e.shadowRoot.querySelector('.chart-stage svg');
          const r = svg.getBoundingClientRect();
          const w = Number(svg.getAttribute('width')) || r.width;
          const s = r.width / w;
          const p = e._view.view.plot;
          return { x: r.left + (p.left + a * (p.right - p.left)) * s, y: r.top + (p.top + b * (p.bottom - p.top)) * s };
        }, [id, fx, fy]);
      const look = () =>
        tab.page.evaluate((i) => {
          const e = document.getElementById(i);
          const c = e.shadowRoot.querySelector('.chart');
          const svg = c.querySelector('svg');
          return {
            readout: c.querySelector('[part="readout"]')?.textContent ?? null,
            zoomed: c.dataset.zoomed,
            ticks: svg ? [...svg.querySelectorAll('text')].map((t) => t.textContent).join('|') : '',
            x: e._view?.view?.x,
            parts: [...e.shadowRoot.querySelectorAll('[part]')].map((x) => x.getAttribute('part')).join(','),
          };
        }, id);
      const p = await plotPoint(0.5, 0.5);
      await tab.page.mouse.move(p.x, p.y);
      const hover = await look();
      report('hover shows a read-out of λ and density under the pointer', /^λ = [\d.e+-]+, density = [\d.e+-]+$/.test(hover.readout ?? ''), JSON.stringify(hover.readout));
      report('toolbar, buttons and read-out are exposed as parts', ['toolbar', 'button reset-button', 'button svg-button', 'button png-button', 'readout', 'zoom-box', 'caption'].every((x) => hover.parts.split(',').includes(x)), hover.parts);
      await tab.page.mouse.wheel(0, -300);
      await tab.page.waitForTimeout(200);
      const wheel = await look();
      report('wheel zooms in around the pointer (narrower x range, new ticks)', wheel.zoomed === 'true' && wheel.x.max / wheel.x.min < hover.x.max / hover.x.min && wheel.ticks !== hover.ticks, JSON.stringify({ before: hover.x, after: wheel.x }));
      await tab.page.mouse.dblclick(p.x, p.y);
      const reset1 = await look();
      report('double-click resets the zoom', reset1.zoomed === 'false' && reset1.ticks === hover.ticks, reset1.zoomed);
      const a0 = await plotPoint(0.3, 0.3);
      const a1 = await plotPoint(0.7, 0.7);
      await tab.page.mouse.move(a0.x, a0.y);
      await tab.page.mouse.down();
      await tab.page.mouse.move((a0.x + a1.x) / 2, (a0.y + a1.y) / 2, { steps: 3 });
      await tab.page.mouse.move(a1.x, a1.y, { steps: 3 });
      await tab.page.mouse.up();
      const dragged = await look();
      report('drag-box zoom shows the selected range', dragged.zoomed === 'true' && dragged.x.min > hover.x.min && dragged.x.max < hover.x.max, JSON.stringify(dragged.x));
      await tab.page.focus(`#${id}`);
      await tab.page.keyboard.press('Escape');
      const esc = await look();
      report('Escape on the focused widget resets the zoom', esc.zoomed === 'false', esc.zoomed);
      await tab.page.keyboard.press('+');
      const plus = await look();
      await tab.page.keyboard.press('ArrowRight');
      const right = await look();
      await tab.page.keyboard.press('0');
      const zero = await look();
      report('keyboard on the focused widget: + zooms, arrows pan, 0 resets', plus.zoomed === 'true' && right.x.min > plus.x.min && zero.zoomed === 'false', JSON.stringify({ plus: plus.x, right: right.x, zero: zero.zoomed }));
      const svgFile = await download(tab.page, `#${id} [part~="svg-button"]`);
      report('SVG export downloads the chart', /^spectral-esd-.*\.svg$/.test(svgFile.name) && svgFile.text.startsWith('<svg') && /<\/svg>\s*$/.test(svgFile.text), `${svgFile.name} ${svgFile.text.length} chars`);
      const [dl] = await Promise.all([tab.page.waitForEvent('download', { timeout: 15_000 }), tab.page.click(`#${id} [part~="png-button"]`)]);
      const png = readFileSync(await dl.path());
      report('PNG export downloads a PNG image', dl.suggestedFilename().endsWith('.png') && png.length > 2000 && png.subarray(1, 4).toString() === 'PNG', `${dl.suggestedFilename()} ${png.length} B`);
      const hidden = await tab.page.evaluate((i) => {
        const st = document.createElement('style');
        st.textContent = `#${i}::part(toolbar) { display: none; }`;
        document.head.append(st);
        const tb = document.getElementById(i).shadowRoot.querySelector('[part="toolbar"]');
        const out = getComputedStyle(tb).display;
        st.remove();
        return out;
      }, id);
      report('the page can hide the toolbar with ::part(toolbar)', hidden === 'none', hidden);
    });

    // --- 3. errors and inline data ----------------------------------------------------------
    await guarded('error states', async () => {
      const r = await tab.page.evaluate(async (model) => {
        const add = (html) => {
          const t = document.createElement('template');
          t.innerHTML = html;
          const e = t.content.firstElementChild;
          e.style.height = '240px';
          document.querySelector('main').append(e);
          return e;
        };
        const settle = (e) => new Promise((ok) => {
          const check = () => ['ready', 'error'].includes(e.getAttribute('state')) && ok({ state: e.getAttribute('state'), text: e.shadowRoot.querySelector('.state').textContent, label: e.getAttribute('aria-label'), blank: !e.shadowRoot.querySelector('svg') && e.shadowRoot.querySelector('.state').hidden });
          e.addEventListener('spectral-render', check);
          e.addEventListener('spectral-error', check);
          check();
        });
        const missing = add('<spectral-esd id="bad-src" src="no-such-model.safetensors" tensor="w"></spectral-esd>');
        const loadingAtStart = { state: missing.getAttribute('state'), visible: !missing.shadowRoot.querySelector('.state').hidden };
        const badTensor = add(`<spectral-esd id="bad-tensor" src="${model}" tensor="no.such.weight"></spectral-esd>`);
        const notModel = add('<spectral-layers id="bad-file" src="docs-example.html"></spectral-layers>');
        const badJson = add('<spectral-vendi id="bad-json"><script type="application/json">{"q": [1, 2], </script></spectral-vendi>');
        const transform = add('<spectral-transform id="engine-transform" signal="chirp" n="4096" kind="dct"></spectral-transform>');
        const vendi = add('<spectral-vendi id="engine-vendi" src="no-embeddings.npy"></spectral-vendi>');
        const out = { loadingAtStart };
        for (const e of [missing, badTensor, notModel, badJson, transform, vendi]) out[e.id] = await settle(e);
        // Fixing the attribute recovers.
        missing.setAttribute('src', model);
        missing.setAttribute('tensor', 'encoder.layer.0.attention.self.value.weight');
        out.fixed = await new Promise((ok) => missing.addEventListener('spectral-render', () => missing.getAttribute('state') === 'ready' && ok({ state: 'ready', label: missing.getAttribute('aria-label') })));
        return out;
      }, MODEL);
      report('an inserted widget starts in a visible loading state', r.loadingAtStart.state === 'loading' && r.loadingAtStart.visible, JSON.stringify(r.loadingAtStart));
      report('invalid src shows a readable error state', r['bad-src'].state === 'error' && /could not fetch no-such-model\.safetensors: HTTP 404/.test(r['bad-src'].text) && /error/.test(r['bad-src'].label), r['bad-src'].text);
      report('unknown tensor: the error names it and suggests tensors', r['bad-tensor'].state === 'error' && /no tensor "no\.such\.weight".*encoder\.layer\.0/.test(r['bad-tensor'].text), r['bad-tensor'].text);
      report('a file that is not a model shows the engine error', r['bad-file'].state === 'error' && r['bad-file'].text.length > 40, r['bad-file'].text);
      report('invalid inline JSON shows an error', r['bad-json'].state === 'error' && /not valid JSON/.test(r['bad-json'].text), r['bad-json'].text);
      report('transform from attributes: the engine renders a DCT chart', r['engine-transform'].state === 'ready' && /DCT-II .*chirp/.test(r['engine-transform'].label ?? ''), `${r['engine-transform'].state} ${r['engine-transform'].text} ${r['engine-transform'].label}`);
      info(`engine-path transform: ${r['engine-transform'].state} ${r['engine-transform'].text}`);
      report('vendi with a missing src: a clear error', r['engine-vendi'].state === 'error' && /HTTP 404/.test(r['engine-vendi'].text), r['engine-vendi'].text);
      report('no widget is ever a blank box', Object.values(r).every((x) => !x.blank));
      report('fixing src re-renders the widget', r.fixed.state === 'ready' && /self\.value\.weight.*α = \d/.test(r.fixed.label), r.fixed.label);
    });
    await guarded('engine paths of the vendi and tradeoff widgets', async () => {
      const r = await tab.page.evaluate(async (model) => {
        const main = document.querySelector('main');
        const settle = (e) => new Promise((ok) => {
          e.addEventListener('spectral-render', () => e.getAttribute('state') === 'ready' && ok({ state: 'ready', label: e.getAttribute('aria-label'), svg: Boolean(e.shadowRoot?.querySelector('svg path, svg polyline')) }));
          e.addEventListener('spectral-error', (ev) => ok({ state: 'error', text: ev.detail.message }));
        });
        const vendi = Object.assign(document.createElement('spectral-vendi'), { id: 'engine-vendi-ok' });
        vendi.setAttribute('src', 'examples/digits.npy');
        const tradeoff = Object.assign(document.createElement('spectral-tradeoff'), { id: 'engine-tradeoff-ok' });
        tradeoff.setAttribute('src', model);
        tradeoff.setAttribute('tensor', 'encoder.layer.0.attention.self.query.weight');
        const done = [settle(vendi), settle(tradeoff)];
        main.append(vendi, tradeoff);
        const [v, t] = await Promise.all(done);
        return { v, t };
      }, MODEL);
      report('vendi from src (digits.npy) computes and draws the q-profile', r.v.state === 'ready' && r.v.svg, JSON.stringify(r.v));
      report('tradeoff from src (a model tensor) computes and draws the method curves', r.t.state === 'ready' && r.t.svg, JSON.stringify(r.t));
    });
    await guarded('spectral-compare', async () => {
      const r = await tab.page.evaluate(async () => {
        const main = document.querySelector('main');
        const settle = (e) => new Promise((ok) => {
          const check = () => ['ready', 'error'].includes(e.getAttribute('state')) && ok({ state: e.getAttribute('state'), label: e.getAttribute('aria-label'), text: e.shadowRoot.querySelector('.state').textContent, points: e.shadowRoot.querySelectorAll('svg circle, svg path, svg polyline').length });
          e.addEventListener('spectral-render', check);
          e.addEventListener('spectral-error', check);
        });
        const mk = (id, attrs) => {
          const e = document.createElement('spectral-compare');
          e.id = id;
          e.style.height = '260px';
          for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
          return e;
        };
        const base = 'examples/compare/base.safetensors';
        const els = [
          mk('compare-same', { 'src-a': base, 'src-b': base }),
          mk('compare-alpha', { 'src-a': base, adapter: 'examples/compare/adapter', view: 'delta-alpha' }),
          mk('compare-weak', { 'src-a': base, adapter: 'examples/compare/adapter/', tensor: 'model.layers.0.self_attn.v_proj.weight' }),
          mk('compare-both', { 'src-a': base, 'src-b': base, adapter: 'examples/compare/adapter/' }),
          mk('compare-tensor', { 'src-a': base, 'src-b': base, tensor: 'no.such.weight' }),
        ];
        const waits = els.map(settle);
        main.append(...els);
        const out = {};
        for (const [i, e] of els.entries()) out[e.id] = await waits[i];
        out.docs = { label: document.getElementById('compare-adapter').getAttribute('aria-label') };
        return out;
      });
      report('spectral-compare (base + LoRA adapter, one tensor): the intruder curve and its count', /q_proj\.weight.*: [1-9]\d* intruders? at ε = 0\.5/.test(r.docs.label ?? ''), r.docs.label);
      report('spectral-compare of a model with itself: no intruders, ΔW = 0', r['compare-same'].state === 'ready' && /sum over \d+ layers.*: 0 intruders at ε = 0\.5, ‖ΔW‖\/‖W‖ = 0,/.test(r['compare-same'].label), JSON.stringify(r['compare-same']));
      report('spectral-compare view="delta-alpha" draws Δα per layer', r['compare-alpha'].state === 'ready' && /α shift per layer.*mean Δα = /.test(r['compare-alpha'].label), JSON.stringify(r['compare-alpha']));
      report('spectral-compare of a weakly updated tensor', r['compare-weak'].state === 'ready' && /v_proj\.weight.*: 0 intruders at ε = 0\.5/.test(r['compare-weak'].label), JSON.stringify(r['compare-weak']));
      report('spectral-compare with both src-b and adapter: a clear error', r['compare-both'].state === 'error' && /either src-b or adapter/.test(r['compare-both'].text), r['compare-both'].text);
      report('spectral-compare with an unknown tensor: the error names it', r['compare-tensor'].state === 'error' && /no paired layer "no\.such\.weight"/.test(r['compare-tensor'].text), r['compare-tensor'].text);
    });
    // The spectrum module leaves GGUF/PyTorch/.npz reading out; such a file goes to the full
    // engine. Checked where dist/ holds the real spectrum module (not a copy of the full build,
    // as with DIST_WASM_FROM).
    if (existsSync(join(ROOT, 'dist', 'pkg', 'spectrum-simd', 'COPIED_FROM'))) {
      info('GGUF/.npz fallback to the full engine: skipped (dist/pkg/spectrum-simd is a copy of the full build)');
    } else {
      await guarded('GGUF and .npz files fall back to the full engine', async () => {
        for (const [path, file] of [['/__fixtures/tiny.gguf', 'tests/goldens/gguf/tiny.gguf'], ['/__fixtures/compressed.npz', 'tests/fixtures/formats/compressed.npz']]) {
          const body = readFileSync(join(ROOT, file));
          await tab.page.route(`${a.url}${path}`, (route) => route.fulfill({ body, contentType: 'application/octet-stream' }));
        }
        const r = await tab.page.evaluate(async () => {
          const out = {};
          for (const src of ['/__fixtures/tiny.gguf', '/__fixtures/compressed.npz']) {
            const e = document.createElement('spectral-esd');
            e.style.height = '240px';
            e.setAttribute('src', src);
            const done = new Promise((ok) => {
              e.addEventListener('spectral-render', () => e.getAttribute('state') === 'ready' && ok({ state: 'ready', label: e.getAttribute('aria-label') }));
              e.addEventListener('spectral-error', (ev) => ok({ state: 'error', text: ev.detail.message }));
            });
            document.querySelector('main').append(e);
            out[src] = await done;
          }
          return out;
        });
        for (const [src, v] of Object.entries(r)) {
          // Drawn, or an analysis message from the full engine, never the spectrum module's refusal.
          const ok = (v.state === 'ready' && /α = /.test(v.label)) || (v.state === 'error' && !/not read by this build/.test(v.text));
          report(`${src.split('/').pop()} in <spectral-esd>: read by the full engine`, ok, JSON.stringify(v));
        }
      });
    }
    await guarded('inline data: JSON rows and JS properties', async () => {
      const r = await tab.page.evaluate(async () => {
        const main = document.querySelector('main');
        const ready = (e) => new Promise((ok, fail) => {
          e.addEventListener('spectral-render', () => e.getAttribute('state') === 'ready' && ok(e.getAttribute('aria-label')));
          e.addEventListener('spectral-error', (ev) => fail(new Error(`${e.id}: ${ev.detail.message}`)));
        });
        const layersJson = document.createElement('spectral-layers');
        layersJson.id = 'layers-json';
        layersJson.innerHTML = '<script type="application/json">{"layers":[{"name":"a","alpha":2.5,"farms":{"alpha":3.1}},{"name":"b","alpha":4.2,"farms_alpha":3.8},{"name":"c","alpha":7.1}]}</script>';
        const layersProp = document.createElement('spectral-layers');
        layersProp.id = 'layers-prop';
        layersProp.layers = [{ name: 'x', alpha: 3 }, { name: 'y', alpha: 5 }];
        // An ESD row with its eigenvalues (e.g. exported from the lab or the CLI).
        const evals = Array.from({ length: 200 }, (_, i) => 0.01 * (1 + i) + (i > 190 ? 50 * (i - 190) : 0));
        const esdRow = document.createElement('spectral-esd');
        esdRow.id = 'esd-row';
        esdRow.innerHTML = `<script type="application/json">${JSON.stringify({ name: 'exported', N: 200, M: 300, num_evals: 200, alpha: 2.9, xmin: 1.2, evals })}</script>`;
        const vendiProp = document.createElement('spectral-vendi');
        vendiProp.id = 'vendi-prop';
        vendiProp.profile = { q: new Float64Array([0.5, 1, 2]), vendi: new Float64Array([9, 6, 4]) };
        const transformProp = document.createElement('spectral-transform');
        transformProp.id = 'transform-prop';
        transformProp.spectrum = { magnitude: Float64Array.from({ length: 64 }, (_, i) => 1 / (1 + i)) };
        const tradeoffProp = document.createElement('spectral-tradeoff');
        tradeoffProp.id = 'tradeoff-prop';
        tradeoffProp.curves = { series: [{ method: 'svd', bytes: new Float64Array([1e3, 1e4, 1e5]), error: new Float64Array([0.5, 0.2, 0.01]) }] };
        const all = [layersJson, layersProp, esdRow, vendiProp, transformProp, tradeoffProp];
        for (const e of all) e.style.height = '260px';
        const waits = all.map(ready);
        main.append(...all);
        const labels = await Promise.all(waits);
        // Reassigning a data property re-renders.
        const again = ready(transformProp);
        transformProp.spectrum = { magnitude: Float64Array.from({ length: 32 }, (_, i) => 2 + Math.sin(i)) };
        labels.push(await again);
        // Editing the inline JSON re-renders.
        const edited = ready(layersJson);
        layersJson.querySelector('script').textContent = '{"layers":[{"name":"a","alpha":3},{"name":"b","alpha":3.5}]}';
        labels.push(await edited);
        return labels;
      });
      report('spectral-layers from inline JSON', /3 layers: median α = 4\.2, median FARMS α = 3\.45, 1 outside 2–6/.test(r[0]), r[0]);
      report('spectral-layers from the layers property', /2 layers: median α = 4/.test(r[1]), r[1]);
      report('spectral-esd from an inline row with evals', /exported \(200×300\): α = 2\.9, x_min = 1\.2/.test(r[2]), r[2]);
      report('spectral-vendi from the profile property', /VS at q = 1: 6/.test(r[3]), r[3]);
      report('spectral-transform from the spectrum property', /n = 64/.test(r[4]), r[4]);
      report('spectral-tradeoff from the curves property', /svd: error 0\.5 at 1000 B/.test(r[5]), r[5]);
      report('reassigning a data property re-renders', /n = 32/.test(r[6]), r[6]);
      report('editing the inline JSON re-renders', /2 layers: median α = 3\.25/.test(r[7]), r[7]);
    });
    const errs = tab.errors.filter((e) => !/status of 404/.test(e));
    report('same origin: no console errors (other than the expected 404s)', errs.length === 0, errs.join(' | '));
    const foreign = tab.requests.filter((u) => !u.startsWith('data:') && !allowed.has(u.startsWith('blob:') ? new URL(u.slice(5)).origin : new URL(u).origin));
    report('same origin: no request leaves the test servers', foreign.length === 0, foreign.join(', '));
    await tab.close();

    // --- 4. widgets from a second origin (dist/ on B with CORS; the page on A) --------------
    const tab2 = await newPage(browser);
    const distB = `${b.url}/dist/`;
    await tab2.page.goto(`${a.url}/docs-example.html?widgets=${encodeURIComponent(distB)}`, { waitUntil: 'domcontentloaded' });
    await guarded('second origin: every widget finished', () => waitWidgets(tab2.page));
    const src2 = await tab2.page.evaluate(() => window.spectralabDocs?.source);
    report('second origin: the widgets came from the other origin', src2 === distB, src2);
    await checkPage(tab2, 'second origin');
    const fromB = tab2.requests.filter((u) => u.startsWith(b.url));
    report('second origin: worker, glue and wasm were fetched from B', ['/dist/engine/worker.js', '/dist/pkg/spectrum-simd/spectralab_wasm.js', '/dist/pkg/spectrum-simd/spectralab_wasm_bg.wasm'].every((p) => fromB.some((u) => u.endsWith(p))), fromB.filter((u) => /worker|pkg/.test(u)).join(', '));
    report('second origin: the worker started from a same-origin blob bootstrap', tab2.requests.some((u) => u.startsWith(`blob:${new URL(a.url).origin}/`)));
    const errs2 = tab2.errors;
    report('second origin: no console errors', errs2.length === 0, errs2.join(' | '));
    const foreign2 = tab2.requests.filter((u) => !u.startsWith('data:') && !allowed.has(u.startsWith('blob:') ? new URL(u.slice(5)).origin : new URL(u).origin));
    report('second origin: no request goes to any origin but the two test servers', foreign2.length === 0, foreign2.join(', '));
    await tab2.close();
  } finally {
    await browser.close();
    await a.close();
    await b.close();
  }
}

const timer = setTimeout(() => {
  console.log(`not ok - widget tests finished within ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
try {
  await main();
} catch (err) {
  report('widget tests ran', false, err?.stack ?? String(err));
}
clearTimeout(timer);
finish();

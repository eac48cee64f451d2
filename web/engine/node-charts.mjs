// SVG charts in Node: the wasm chart exports (crate/wasm/src/charts.rs, drawn by crate/plot)
// with text measured from DejaVu Sans metrics instead of a browser DOM.
//
// plotters measures text, on wasm32, through `document.body` (a span's offsetWidth/Height). Node
// has no DOM, so while a chart is drawn this module puts a minimal `window`/`document` on the
// global object that answers those two questions as the native charts do (plotters' ab_glyph
// backend over the committed DejaVu Sans: width = Σ advance + legacy kerning, in units of the
// font's ascender − descender; height = size / 1.24), from node-font.json (written by
// scripts/gen-font-metrics.mjs). The globals are removed as soon as the chart is drawn.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let font = null;
const metrics = () => (font ??= JSON.parse(readFileSync(new URL('./node-font.json', import.meta.url), 'utf8')));

/** Width and height in pixels of `text` at `size` px, as plotters' native (ab_glyph) backend. */
export function measureText(text, size) {
  const f = metrics();
  const scale = Math.fround(size / f.height);
  let x = 0;
  let prev = null;
  for (const ch of text) {
    const c = ch.codePointAt(0);
    x = Math.fround(x + Math.fround((f.advances[c] ?? f.missing) * scale));
    if (prev !== null) x = Math.fround(x + Math.fround((f.kern[`${prev},${c}`] ?? 0) * scale));
    prev = c;
  }
  return { width: Math.trunc(x), height: Math.trunc(size / 1.24) };
}

/** Runs `draw()` with the DOM that plotters' text measurement needs, then removes it. */
function withTextDom(draw) {
  const names = ['window', 'document', 'Window', 'HTMLElement'];
  const saved = names.map((n) => [n, Object.getOwnPropertyDescriptor(globalThis, n)]);
  class Span {
    textContent = '';
    size = 12;
    setAttribute(name, value) {
      const m = name === 'style' && /font-size:\s*([\d.eE+-]+)px/.exec(value);
      if (m) this.size = Number(m[1]);
    }
    get offsetWidth() {
      return measureText(this.textContent ?? '', this.size).width;
    }
    get offsetHeight() {
      return measureText(this.textContent ?? '', this.size).height;
    }
    remove() {}
  }
  const body = { append() {}, appendChild() {} };
  const define = (name, value) => Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  define('document', { body, createElement: () => new Span() });
  define('window', globalThis);
  define('Window', class { static [Symbol.hasInstance](o) { return o === globalThis; } });
  define('HTMLElement', class { static [Symbol.hasInstance](o) { return o instanceof Span; } });
  try {
    return draw();
  } finally {
    for (const [n, d] of saved) {
      if (d) Object.defineProperty(globalThis, n, d);
      else delete globalThis[n];
    }
  }
}

/** File-name-safe form of a layer name (as the native CLI's `plot::sanitize`). */
export function sanitize(name) {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' || s.startsWith('.') ? `_${s}` : s;
}

/**
 * Writes the native CLI's `--plot DIR` charts (crate/cli/src/plot.rs) of an analysis into `dir`
 * (created if needed): `alpha.svg` (α per layer) and, per analysed layer, `esd_<name>.svg` and
 * `rank_<name>.svg`. `wasm`: the engine module (node.mjs `init()`); `layers`: the report's
 * rows, each with its `evals` (ascending ESD). Returns `{files, problems}`: the paths written and
 * one line per chart that could not be drawn.
 */
export function writeCharts(wasm, layers, dir) {
  mkdirSync(dir, { recursive: true });
  const files = [];
  const problems = [];
  const write = (name, draw) => {
    let chart;
    try {
      chart = withTextDom(draw);
    } catch (err) {
      problems.push(`${name}: ${err.message}`);
      return;
    }
    const p = join(dir, name);
    writeFileSync(p, chart.svg);
    files.push(p);
  };
  write('alpha.svg', () => wasm.alphaChart(layers));
  const used = new Set();
  for (const l of layers) {
    let stem = sanitize(l.name);
    for (let k = 2; used.has(stem); k++) stem = `${sanitize(l.name)}_${k}`;
    used.add(stem);
    write(`esd_${stem}.svg`, () => wasm.esdChart(l));
    write(`rank_${stem}.svg`, () => wasm.rankChart(l));
  }
  return { files, problems };
}

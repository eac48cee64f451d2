// <spectral-layers>: α per layer of a model (classic KS-scan α and FARMS α), drawn as layers
// finish. <spectral-layers src="model.safetensors">, or inline rows:
//   <script type="application/json">{"layers":[{"name":…,"alpha":3.4,"farms":{"alpha":3.9}}, …]}</script>
//   el.layers = [{name, alpha, farms: {alpha}} | {name, alpha, farms_alpha}, …]
// `max-layers` limits how many matrices of a file are analysed (file order).
import { SpectralWidget, define, fmt } from './core/base.js';
import { fetchBlob, shortName, withModel } from './core/engine.js';

const OPTIONS = { farms: true };
const BATCH = 4; // layers per engine call: rows stream in, and other widgets' calls interleave

export class SpectralLayers extends SpectralWidget {
  static dataAttributes = ['src', 'max-layers'];
  static axes = { x: 'layer', y: 'α' };
  static dataProperties = ['layers'];

  loadingText() {
    return 'Analysing layers…';
  }

  async load({ stale, progress, partial }) {
    const inline = this.layers ?? this.inlineJson();
    if (inline) return normalise(Array.isArray(inline) ? inline : inline.layers);
    const url = this.srcUrl();
    if (!url) throw new Error('no data: set src, the layers property, or an inline JSON child');
    const name = shortName(url);
    progress(`Fetching ${name}…`);
    const blob = await fetchBlob(url);
    if (stale()) return null;
    const max = Number(this.getAttribute('max-layers')) || Infinity;
    const plan = await withModel(blob, name, OPTIONS, async (p) => p);
    const todo = plan.filter((p) => !p.skip).slice(0, max);
    if (!todo.length) throw new Error(`${name}: no analysable weight matrix (${plan.length} tensor(s), all skipped)`);
    const rows = [];
    for (let i = 0; i < todo.length; i += BATCH) {
      if (stale()) return null;
      if (!rows.length) progress(`Analysing layer 1/${todo.length}…`);
      const group = todo.slice(i, i + BATCH);
      const got = await withModel(blob, name, OPTIONS, (_, eng) => eng.call('analyzeLayers', group.map((p) => p.index), false));
      rows.push(...got);
      if (i + BATCH < todo.length) partial({ rows: rows.slice(), total: todo.length, name });
    }
    return { rows, total: todo.length, name };
  }

  draw(charts, { rows, total, name }, o) {
    const ok = rows.filter((r) => r.status !== 'error');
    const out = charts.alphaChart(ok, o);
    if (!out) return null;
    const classic = ok.map((r) => r.alpha).filter(Number.isFinite);
    const farms = ok.map((r) => r.farms?.alpha).filter(Number.isFinite);
    const outside = classic.filter((a) => a < 2 || a > 6).length;
    const parts = [`median α = ${fmt(median(classic))}`];
    if (farms.length) parts.push(`median FARMS α = ${fmt(median(farms))}`);
    parts.push(`${outside} outside 2–6`);
    const done = rows.length < total ? `${rows.length}/${total} layers` : `${rows.length} layers`;
    return {
      ...out,
      caption: `${done}: ${parts.join(', ')}`,
      summary: `α per layer${name ? ` of ${name}` : ''}, ${done}: ${parts.join(', ')}; α from ${fmt(Math.min(...classic))} to ${fmt(Math.max(...classic))}.`,
    };
  }
}

function normalise(layers) {
  if (!Array.isArray(layers) || !layers.length) throw new Error('inline layers must be a non-empty array (or {"layers": [...]})');
  const rows = layers.map((l, i) => {
    const farms = l.farms ?? (Number.isFinite(l.farms_alpha) ? { alpha: l.farms_alpha } : null);
    return { status: 'success', warning: '', N: 0, M: 0, num_evals: 0, ...l, name: String(l.name ?? `layer ${i}`), farms };
  });
  return { rows, total: rows.length, name: null };
}

function median(v) {
  if (!v.length) return NaN;
  const s = v.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

define('spectral-layers', SpectralLayers);

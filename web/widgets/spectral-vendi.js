// <spectral-vendi>: the Vendi-score profile (effective number of distinct items against the
// order q) of a set of embeddings. <spectral-vendi src="emb.npy" [tensor="…"] [qs="0.5,1,2,4"]>,
// or inline:
//   <script type="application/json">{"q":[0.5,1,2],"vendi":[40.1,31.7,20.2]}</script>  (a profile)
//   el.profile = {q, vendi}                  el.data = {data: Float32Array, rows, cols}  (embeddings)
// Engine: loadEmbeddings([blob, name, {tensor?}]) → {data, rows, cols};
//         vendiProfile([data, rows, cols, {kernel: 'cosine', qs?}]) → {q, vendi}.
import { SpectralWidget, define, fmt, toNumbers } from './core/base.js';
import { fetchBlob, sharedEngine, shortName } from './core/engine.js';

export class SpectralVendi extends SpectralWidget {
  static dataAttributes = ['src', 'tensor', 'qs'];
  static axes = { x: 'q', y: 'VS' };
  static dataProperties = ['profile', 'data'];

  loadingText() {
    return 'Computing the Vendi profile…';
  }

  async load({ stale, progress }) {
    const inline = this.profile ?? this.inlineJson();
    if (inline && 'vendi' in inline) return normalise(inline);
    const engine = sharedEngine('full');
    const qs = (this.getAttribute('qs') ?? '').split(/[\s,]+/).filter(Boolean).map(Number);
    const opts = { kernel: 'cosine', ...(qs.length ? { qs } : {}) };
    let emb = this.data ?? (inline && 'data' in inline ? inline : null);
    let label = emb?.name ?? null;
    if (!emb) {
      const url = this.srcUrl();
      if (!url) throw new Error('no data: set src, the profile or data property, or an inline JSON child');
      progress(`Fetching ${shortName(url)}…`);
      const blob = await fetchBlob(url);
      if (stale()) return null;
      const tensor = this.getAttribute('tensor');
      emb = await engine.call('loadEmbeddings', blob, shortName(url), tensor ? { tensor } : {});
      label = tensor ?? shortName(url);
      if (stale()) return null;
    }
    const data = emb.data instanceof Float32Array ? emb.data : Float32Array.from(emb.data ?? [], Number);
    progress(`Vendi profile of ${emb.rows} items…`);
    const r = await engine.call('vendiProfile', data, Number(emb.rows), Number(emb.cols), opts);
    return normalise({ ...r, items: emb.rows, label });
  }

  draw(charts, { q, vendi, items, label }, o) {
    const pts = [...q].map((x, i) => [x, vendi[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const xLog = pts.every(([x]) => x > 0) && Math.max(...q) / Math.min(...q) > 20;
    const spec = {
      title: label ? `Vendi profile: ${label}` : 'Vendi profile',
      xLabel: 'order q',
      yLabel: 'Vendi score (effective count)',
      xLog,
      series: [{ name: 'VS_q', x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), style: 'both' }],
    };
    const out = charts.seriesChart(spec, o);
    if (!out) return null;
    const at1 = pts.find(([x]) => x === 1);
    const ys = pts.map((p) => p[1]);
    const parts = [];
    if (at1) parts.push(`VS at q = 1: ${fmt(at1[1])}`);
    parts.push(`from ${fmt(Math.max(...ys))} at q = ${fmt(pts[ys.indexOf(Math.max(...ys))][0])} to ${fmt(Math.min(...ys))} at q = ${fmt(pts[ys.indexOf(Math.min(...ys))][0])}`);
    if (items) parts.push(`${items} items`);
    return { ...out, caption: parts.join(', '), summary: `Vendi score against order q${label ? ` for ${label}` : ''}: ${parts.join(', ')}.` };
  }
}

function normalise(v) {
  const q = toNumbers(v.q, '"q"');
  const vendi = toNumbers(v.vendi, '"vendi"');
  if (q.length !== vendi.length || !q.length) throw new Error('"q" and "vendi" must be non-empty and of equal length');
  return { q, vendi, items: v.items ?? null, label: v.label ?? v.name ?? null };
}

define('spectral-vendi', SpectralVendi);

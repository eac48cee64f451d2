// <spectral-tradeoff>: reconstruction error against stored bytes of one matrix, one curve per
// compression method. <spectral-tradeoff src="model.safetensors" tensor="…">, or inline curves:
//   <script type="application/json">{"series":[{"method":"svd","bytes":[…],"error":[…]}, …]}</script>
//   el.curves = {series: [{method, bytes: Float64Array, error: Float64Array}]}
// Engine: tradeoffCurves([blob, name, tensor, {}]) → {series: [{method, bytes, error}]}.
import { SpectralWidget, define, fmt, fmtBytes, toNumbers } from './core/base.js';
import { fetchBlob, sharedEngine, shortName } from './core/engine.js';

export class SpectralTradeoff extends SpectralWidget {
  static dataAttributes = ['src', 'tensor'];
  static axes = { x: 'bytes', y: 'error' };
  static dataProperties = ['curves'];

  loadingText() {
    return 'Computing the size/error trade-off…';
  }

  async load({ stale, progress }) {
    const inline = this.curves ?? this.inlineJson();
    const tensor = this.getAttribute('tensor') ?? '';
    if (inline) return normalise(inline, tensor);
    const url = this.srcUrl();
    if (!url) throw new Error('no data: set src and tensor, the curves property, or an inline JSON child');
    progress(`Fetching ${shortName(url)}…`);
    const blob = await fetchBlob(url);
    if (stale()) return null;
    progress(`Compressing ${tensor || shortName(url)}…`);
    const r = await sharedEngine('full').call('tradeoffCurves', blob, shortName(url), tensor, {});
    return normalise(r, tensor);
  }

  draw(charts, { series, tensor }, o) {
    const yLog = series.every((s) => s.error.every((e) => e > 0));
    const spec = {
      title: tensor ? `Error vs size: ${tensor}` : 'Error vs size',
      xLabel: 'stored bytes',
      yLabel: 'relative error',
      xLog: true,
      yLog,
      series: series.map((s) => ({ name: s.method, x: s.bytes, y: s.error, style: 'both' })),
    };
    const out = charts.seriesChart(spec, o);
    if (!out) return null;
    const per = series.map((s) => {
      const i = s.bytes.indexOf(Math.min(...s.bytes));
      const j = s.bytes.indexOf(Math.max(...s.bytes));
      return `${s.method}: error ${fmt(s.error[i])} at ${fmtBytes(s.bytes[i])} to ${fmt(s.error[j])} at ${fmtBytes(s.bytes[j])}`;
    });
    return {
      ...out,
      caption: per.join('; '),
      summary: `Reconstruction error against size${tensor ? ` for ${tensor}` : ''}, ${series.length} method(s). ${per.join('; ')}.`,
    };
  }
}

function normalise(v, tensor) {
  const list = Array.isArray(v) ? v : v?.series;
  if (!Array.isArray(list) || !list.length) throw new Error('trade-off data must be {"series": [{"method", "bytes", "error"}, …]}');
  const series = list.map((s, i) => {
    const bytes = toNumbers(s.bytes, `series ${i} "bytes"`);
    const error = toNumbers(s.error, `series ${i} "error"`);
    if (bytes.length !== error.length || !bytes.length) throw new Error(`series ${i}: "bytes" and "error" must be non-empty and of equal length`);
    return { method: String(s.method ?? s.name ?? `method ${i + 1}`), bytes, error };
  });
  return { series, tensor: v?.tensor ?? tensor };
}

define('spectral-tradeoff', SpectralTradeoff);

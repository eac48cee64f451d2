// <spectral-compare>: what a change did to a model's layers (Model.compare / compareAdapter of the
// engine: layers paired by name, ΔW metrics, intruder dimensions; see crate/core/src/compare).
//
//   <spectral-compare src-a="base.safetensors" src-b="tuned.safetensors" tensor="…q_proj.weight">
//   <spectral-compare src-a="base.safetensors" adapter="lora-adapter/">   (a PEFT adapter folder:
//        adapter_config.json + adapter_model.safetensors are fetched from it)
//   optional: k="10" (top-k singular vectors tested), eps="0.5" (the intruder threshold ε),
//             view="intruders" (default: intruder count against ε) | view="delta-alpha" (Δα per layer)
// With `tensor`, the intruder curve is that layer's (and the caption gives its ΔW metrics);
// without it, the sum over every paired layer. The chance level √(2 ln m / m) is drawn beside ε.
import { SpectralWidget, define, fmt } from './core/base.js';
import { fetchBlob, shortName, withModel } from './core/engine.js';

const EPS_SWEEP = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const VIEWS = ['intruders', 'delta-alpha'];

export class SpectralCompare extends SpectralWidget {
  static dataAttributes = ['src-a', 'src-b', 'adapter', 'tensor', 'k', 'eps', 'view'];
  static dataProperties = ['report'];
  static axes = { x: 'ε', y: 'intruders' };

  loadingText() {
    return 'Comparing…';
  }

  async load({ stale, progress }) {
    const view = (this.getAttribute('view') ?? 'intruders').toLowerCase();
    if (!VIEWS.includes(view)) throw new Error(`view must be one of ${VIEWS.join(', ')} (got "${view}")`);
    const tensor = this.getAttribute('tensor');
    if (this.report) return pick(this.report, tensor, view);
    const a = this.srcUrl('src-a');
    const b = this.srcUrl('src-b');
    const adapter = this.srcUrl('adapter');
    if (!a) throw new Error('no base model: set src-a (and src-b or adapter), or the report property');
    if (!b && !adapter) throw new Error('nothing to compare with: set src-b (a second model) or adapter (a PEFT adapter folder)');
    if (b && adapter) throw new Error('set either src-b or adapter, not both');
    const options = { k: intAttr(this, 'k', 10, 1, 256), eps: numAttr(this, 'eps', 0.5, 0, 1) };
    if (tensor) options.layers = [tensor];
    progress(`Fetching ${shortName(a)}…`);
    const baseBlob = await fetchBlob(a);
    if (stale()) return null;
    let other;
    if (adapter) {
      const dir = adapter.endsWith('/') ? adapter : `${adapter}/`;
      progress('Fetching the adapter…');
      const [cfg, weights] = await Promise.all([fetchBlob(`${dir}adapter_config.json`), fetchBlob(`${dir}adapter_model.safetensors`)]);
      other = { kind: 'adapter', files: [new File([cfg], 'adapter_config.json'), new File([weights], 'adapter_model.safetensors')], label: `${shortName(a)} + adapter` };
    } else {
      progress(`Fetching ${shortName(b)}…`);
      other = { kind: 'model', blob: await fetchBlob(b), label: `${shortName(a)} vs ${shortName(b)}` };
    }
    if (stale()) return null;
    progress(`Comparing ${tensor ?? 'every layer'}…`);
    // Compare runs in the full engine (the spectrum module leaves compare out).
    const report = await withModel(
      baseBlob,
      shortName(a),
      {},
      (_, eng) => (other.kind === 'adapter' ? eng.call('compareAdapter', other.files, options) : eng.call('compareWith', other.blob, shortName(b), options)),
      'full',
    );
    if (stale()) return null;
    return pick(report, tensor, view, other.label);
  }

  draw(charts, d, o) {
    if (d.view === 'delta-alpha') return this.drawDeltaAlpha(charts, d, o);
    const s = d.layer ?? d.report.summary;
    const sweep = d.layer ? d.layer.intruder_sweep : s.intruder_sweep;
    if (!sweep?.length) throw new Error('the report has no intruder sweep');
    const what = d.layer ? d.layer.name : `sum over ${s.layers} layers`;
    const series = [{ name: `intruders (${what}, top ${d.report.summary.k})`, x: EPS_SWEEP.slice(0, sweep.length), y: Array.from(sweep, Number), style: 'both', color: '#D62728' }];
    const chance = d.layer ? d.layer.chance_level : mean(d.report.layers.map((l) => l.chance_level));
    const top = Math.max(1, ...sweep);
    if (Number.isFinite(chance)) series.push({ name: `chance level √(2 ln m / m) = ${fmt(chance)}`, x: [chance, chance], y: [0, top], style: 'line', dashed: true, color: '#7F7F7F' });
    const eps = d.report.summary.eps;
    series.push({ name: `ε = ${fmt(eps)}`, x: [eps, eps], y: [0, top], style: 'line', dashed: true, color: '#2F6DB5' });
    const out = charts.seriesChart({ title: `Intruder dimensions vs ε${d.label ? `: ${d.label}` : ''}`, xLabel: 'ε (cosine threshold)', yLabel: 'intruders', xLog: false, yLog: false, series }, o);
    if (!out) return null;
    const m = d.layer ?? s;
    const parts = [`${m.intruders} intruder${m.intruders === 1 ? '' : 's'} at ε = ${fmt(eps)}`, `‖ΔW‖/‖W‖ = ${fmt(m.delta_rel_fro)}`];
    if (Number.isFinite(m.sqnr_db)) parts.push(`SQNR ${fmt(m.sqnr_db)} dB`);
    if (Number.isFinite(m.delta_alpha)) parts.push(`Δα = ${fmt(m.delta_alpha)}`);
    if (!d.layer) parts.push(`${s.layers} layers paired, ${s.unmatched} unmatched`);
    return { ...out, caption: parts.join(', '), summary: `Intruder dimensions against ε for ${what}${d.label ? ` (${d.label})` : ''}: ${parts.join(', ')}.` };
  }

  drawDeltaAlpha(charts, d, o) {
    const layers = d.layer ? [d.layer] : d.report.layers;
    const idx = layers.map((_, i) => i).filter((i) => Number.isFinite(layers[i].delta_alpha));
    if (!idx.length) throw new Error('no layer has a Δα (the α fits failed or were turned off)');
    const series = [{ name: 'Δα = α(other) − α(base)', x: idx.map((i) => i + 1), y: idx.map((i) => layers[i].delta_alpha), style: 'both', color: '#2F6DB5' }];
    const hit = idx.filter((i) => layers[i].intruders > 0);
    if (hit.length) series.push({ name: 'layers with intruders', x: hit.map((i) => i + 1), y: hit.map((i) => layers[i].delta_alpha), style: 'points', color: '#D62728', highlight: true });
    const out = charts.seriesChart({ title: `α shift per layer${d.label ? `: ${d.label}` : ''}`, xLabel: 'layer (report order)', yLabel: 'Δα', xLog: false, yLog: false, series }, o);
    if (!out) return null;
    const parts = [`${idx.length} layers`, `mean Δα = ${fmt(mean(idx.map((i) => layers[i].delta_alpha)))}`, `${hit.length} with intruders`];
    return { ...out, caption: parts.join(', '), summary: `α shift per layer${d.label ? ` (${d.label})` : ''}: ${parts.join(', ')}.` };
  }
}

/** The data to draw: the report, the view, and the row of `tensor` (by base or other name). */
function pick(report, tensor, view, label = '') {
  if (!report || !Array.isArray(report.layers) || !report.summary) throw new Error('not a compare report ({layers, summary, …})');
  if (!report.layers.length && tensor) throw new Error(`no paired layer "${tensor}" in the two models (check the tensor name)`);
  if (!report.layers.length) {
    const n = report.unmatched?.length ?? 0;
    throw new Error(`no layer could be paired${n ? ` (${n} unmatched, e.g. ${report.unmatched.slice(0, 2).map((u) => u.name).join(', ')})` : ''}`);
  }
  let layer = null;
  if (tensor) {
    layer = report.layers.find((l) => l.name === tensor || l.other_name === tensor) ?? null;
    if (!layer) {
      const names = report.layers.map((l) => l.name);
      throw new Error(`no paired layer "${tensor}" (e.g. ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`);
    }
  }
  return { report, layer, view, label };
}

function intAttr(el, name, dflt, lo, hi) {
  const v = el.getAttribute(name);
  if (v === null) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${name} must be an integer in ${lo}..${hi} (got "${v}")`);
  return n;
}

function numAttr(el, name, dflt, lo, hi) {
  const v = el.getAttribute(name);
  if (v === null) return dflt;
  const n = Number(v);
  if (!(Number.isFinite(n) && n > lo && n < hi)) throw new Error(`${name} must be a number in (${lo}, ${hi}) (got "${v}")`);
  return n;
}

function mean(v) {
  const f = v.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
}

define('spectral-compare', SpectralCompare);

// <spectral-transform>: the magnitude spectrum of a test signal under a fast transform.
//   <spectral-transform signal="chirp|square|noise|tones" n="4096" kind="fft|dct|wht">
// or inline: <script type="application/json">{"index":[…],"magnitude":[…]}</script>,
//   el.spectrum = {index, magnitude}.
// Engine: transformSpectrum([{signal, n, kind}]) → {index, magnitude, signal}.
import { SpectralWidget, define, fmt, toNumbers } from './core/base.js';
import { sharedEngine } from './core/engine.js';

const SIGNALS = ['chirp', 'square', 'noise', 'tones'];
const KINDS = ['fft', 'dct', 'wht'];
const KIND_NAMES = { fft: 'FFT', dct: 'DCT-II', wht: 'Walsh–Hadamard' };

export class SpectralTransform extends SpectralWidget {
  static dataAttributes = ['signal', 'n', 'kind'];
  static axes = { x: 'index', y: 'magnitude' };
  static dataProperties = ['spectrum'];

  loadingText() {
    return 'Transforming…';
  }

  async load() {
    const kind = (this.getAttribute('kind') ?? 'fft').toLowerCase();
    const signal = (this.getAttribute('signal') ?? 'chirp').toLowerCase();
    const inline = this.spectrum ?? this.inlineJson();
    if (inline) return normalise(inline, inline.kind ?? kind, inline.signal ?? signal);
    const n = Number(this.getAttribute('n') ?? 1024);
    if (!SIGNALS.includes(signal)) throw new Error(`signal="${signal}": expected one of ${SIGNALS.join(', ')}`);
    if (!KINDS.includes(kind)) throw new Error(`kind="${kind}": expected one of ${KINDS.join(', ')}`);
    if (!(Number.isInteger(n) && n >= 2 && n <= 1 << 22)) throw new Error(`n="${this.getAttribute('n')}": expected an integer from 2 to 4194304`);
    const r = await sharedEngine('full').call('transformSpectrum', { signal, n, kind });
    return normalise(r, kind, signal);
  }

  draw(charts, { index, magnitude, kind, signal }, o) {
    // Log magnitude: zero coefficients (exact for WHT of a square wave) cannot be drawn there.
    const x = [];
    const y = [];
    for (let i = 0; i < magnitude.length; i++) {
      if (magnitude[i] > 0 && Number.isFinite(magnitude[i])) {
        x.push(index[i]);
        y.push(magnitude[i]);
      }
    }
    const name = KIND_NAMES[kind] ?? kind;
    const spec = {
      title: `${name} of a ${signal} signal (n = ${magnitude.length})`,
      xLabel: kind === 'wht' ? 'sequency index' : 'frequency index',
      yLabel: '|coefficient|',
      yLog: true,
      series: [{ name: `|${name}|`, x, y, style: 'line' }],
    };
    const out = charts.seriesChart(spec, o);
    if (!out) return null;
    let peak = 0;
    for (let i = 1; i < magnitude.length; i++) if (magnitude[i] > magnitude[peak]) peak = i;
    const sorted = Float64Array.from(magnitude, (v) => v * v).sort().reverse();
    const total = sorted.reduce((a, b) => a + b, 0);
    const k = Math.max(1, Math.round(sorted.length / 100));
    const top = total > 0 ? sorted.subarray(0, k).reduce((a, b) => a + b, 0) / total : NaN;
    const parts = [`peak |X| = ${fmt(magnitude[peak])} at index ${fmt(index[peak])}`, `top 1% of coefficients hold ${fmt(100 * top)}% of the energy`];
    return { ...out, caption: parts.join(', '), summary: `${name} magnitude spectrum of a ${signal} signal, n = ${magnitude.length}: ${parts.join(', ')}.` };
  }
}

function normalise(v, kind, signal) {
  const magnitude = toNumbers(v.magnitude, '"magnitude"');
  const index = v.index ? toNumbers(v.index, '"index"') : Float64Array.from(magnitude, (_, i) => i);
  if (!magnitude.length || index.length !== magnitude.length) throw new Error('"index" and "magnitude" must be non-empty and of equal length');
  return { index, magnitude, kind, signal };
}

define('spectral-transform', SpectralTransform);

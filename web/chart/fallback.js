// Stand-in charts with the same signature and return shape as crate/plot's wasm exports
// (`esdChart(layer, opts)`, `rankChart(layer, opts)`, `alphaChart(layers, opts)` →
// `{svg, plot, x, y}`), used only while the loaded wasm build lacks them. Plain SVG, no styling
// beyond the basics; the plotters charts replace these as soon as the build exports them.

const NS = 'http://www.w3.org/2000/svg';
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function axisOf(values, log, override) {
  if (override) return { min: override[0], max: override[1], log };
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  if (!v.length) return { min: log ? 1 : 0, max: log ? 10 : 1, log };
  let min = Math.min(...v);
  let max = Math.max(...v);
  if (log) {
    min /= 1.3;
    max *= 1.3;
  } else {
    const pad = (max - min || Math.abs(max) || 1) * 0.06;
    min -= pad;
    max += pad;
  }
  return { min, max, log };
}

function scale(axis, a, b) {
  const f = axis.log ? Math.log10 : (x) => x;
  const lo = f(axis.min);
  const hi = f(axis.max);
  return (v) => a + ((f(v) - lo) / (hi - lo)) * (b - a);
}

function ticks(axis) {
  if (axis.log) {
    const out = [];
    for (let e = Math.ceil(Math.log10(axis.min)); e <= Math.floor(Math.log10(axis.max)); e++) out.push(10 ** e);
    return out.length >= 2 ? out : [axis.min, axis.max];
  }
  const span = axis.max - axis.min;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const k = [1, 2, 5, 10].find((m) => span / (m * step) <= 6) * step;
  const out = [];
  for (let t = Math.ceil(axis.min / k) * k; t <= axis.max + 1e-12; t += k) out.push(Number(t.toPrecision(12)));
  return out;
}

const fmtTick = (v) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3))));

/** Draws `series` on axes; returns {svg, plot, x, y}. */
function frame({ width = 640, height = 360, title, xLabel, yLabel, x, y, series, legend = [] }) {
  const plot = { left: 62, top: 30, right: width - 14, bottom: height - 42 };
  const sx = scale(x, plot.left, plot.right);
  const sy = scale(y, plot.bottom, plot.top);
  const parts = [];
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-family="sans-serif">${esc(title)}</text>`);
  parts.push(`<clipPath id="c${width}x${height}"><rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}"/></clipPath>`);
  for (const t of ticks(x)) {
    const px = sx(t).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${plot.top}" y2="${plot.bottom}" stroke="#eee"/><text x="${px}" y="${plot.bottom + 15}" text-anchor="middle" font-size="11" font-family="sans-serif">${fmtTick(t)}</text>`);
  }
  for (const t of ticks(y)) {
    const py = sy(t).toFixed(1);
    parts.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${py}" y2="${py}" stroke="#eee"/><text x="${plot.left - 5}" y="${py}" dy="4" text-anchor="end" font-size="11" font-family="sans-serif">${fmtTick(t)}</text>`);
  }
  parts.push(`<g clip-path="url(#c${width}x${height})">`);
  for (const s of series) {
    if (s.type === 'bars') {
      for (const [x0, x1, v] of s.data) {
        const top = sy(Math.max(v, y.log ? y.min : 0));
        parts.push(`<rect x="${sx(x0).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(0.5, sx(x1) - sx(x0)).toFixed(1)}" height="${Math.max(0, plot.bottom - top).toFixed(1)}" fill="${s.color}" fill-opacity="0.6"/>`);
      }
    } else if (s.type === 'line') {
      const d = s.data.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)).map(([a, b], i) => `${i ? 'L' : 'M'}${sx(a).toFixed(1)},${sy(b).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    } else if (s.type === 'vline') {
      const px = sx(s.x).toFixed(1);
      parts.push(`<line x1="${px}" x2="${px}" y1="${plot.top}" y2="${plot.bottom}" stroke="${s.color}" stroke-dasharray="4 3"/>`);
    } else {
      for (const [a, b] of s.data) {
        if (Number.isFinite(a) && Number.isFinite(b)) parts.push(`<circle cx="${sx(a).toFixed(1)}" cy="${sy(b).toFixed(1)}" r="${s.r ?? 3}" fill="${s.color}"/>`);
      }
    }
  }
  parts.push('</g>');
  parts.push(`<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${(plot.left + plot.right) / 2}" y="${height - 6}" text-anchor="middle" font-size="12" font-family="sans-serif">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(plot.top + plot.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12" font-family="sans-serif">${esc(yLabel)}</text>`);
  legend.forEach(([label, color], i) => {
    const lx = plot.right - 150;
    const ly = plot.top + 14 + i * 16;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"/><text x="${lx + 15}" y="${ly}" font-size="11" font-family="sans-serif">${esc(label)}</text>`);
  });
  const svg = `<svg xmlns="${NS}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
  return { svg, plot, x, y };
}

/** Histogram of the layer's eigenvalues on log-spaced bins (log-log), with x_min marked. */
export function esdChart(layer, { width, height, xRange, yRange } = {}) {
  const ev = Array.from(layer.evals ?? []).filter((v) => v > 0);
  if (!ev.length) return null;
  const lo = Math.log10(Math.min(...ev));
  const hi = Math.log10(Math.max(...ev));
  const nb = 40;
  const w = (hi - lo || 1) / nb;
  const counts = new Array(nb).fill(0);
  for (const v of ev) counts[Math.min(nb - 1, Math.floor((Math.log10(v) - lo) / w))]++;
  const bars = counts.map((c, i) => [10 ** (lo + i * w), 10 ** (lo + (i + 1) * w), c]).filter((b) => b[2] > 0);
  const x = axisOf(ev, true, xRange);
  const y = axisOf(bars.map((b) => b[2]), true, yRange ?? [0.8, Math.max(...counts) * 1.5]);
  const series = [{ type: 'bars', data: bars, color: '#2f6db5' }];
  if (Number.isFinite(layer.xmin)) series.push({ type: 'vline', x: layer.xmin, color: '#b23a48' });
  return frame({ width, height, title: `ESD: ${layer.name}`, xLabel: 'eigenvalue λ', yLabel: 'count', x, y, series, legend: [['ESD', '#2f6db5'], ['x_min', '#b23a48']] });
}

/** Eigenvalues by rank (largest first), log-log. */
export function rankChart(layer, { width, height, xRange, yRange } = {}) {
  const ev = Array.from(layer.evals ?? []).filter((v) => v > 0).sort((a, b) => b - a);
  if (!ev.length) return null;
  const pts = ev.map((v, i) => [i + 1, v]);
  const x = axisOf(pts.map((p) => p[0]), true, xRange);
  const y = axisOf(ev, true, yRange);
  return frame({ width, height, title: `Rank plot: ${layer.name}`, xLabel: 'rank', yLabel: 'eigenvalue λ', x, y, series: [{ type: 'line', data: pts, color: '#2f6db5' }] });
}

/** α per layer: classic (KS scan) and FARMS. */
export function alphaChart(layers, { width, height, xRange, yRange } = {}) {
  const classic = layers.map((l, i) => [i, l.alpha]).filter((p) => Number.isFinite(p[1]) && p[1] > 0);
  const farms = layers.map((l, i) => [i, l.farms?.alpha]).filter((p) => Number.isFinite(p[1]) && p[1] > 0);
  if (!classic.length && !farms.length) return null;
  const x = axisOf([0, layers.length - 1], false, xRange);
  const y = axisOf([...classic, ...farms].map((p) => p[1]).concat([2, 6]), false, yRange);
  return frame({
    width, height, title: 'α per layer', xLabel: 'layer (file order)', yLabel: 'α', x, y,
    series: [
      { type: 'points', data: classic, color: '#2f6db5' },
      { type: 'points', data: farms, color: '#d9822b', r: 2.5 },
    ],
    legend: [['α (classic)', '#2f6db5'], ['α (FARMS)', '#d9822b']],
  });
}

const PALETTE = ['#1F77B4', '#FF7F0E', '#2CA02C', '#D62728', '#9467BD', '#8C564B', '#E377C2', '#7F7F7F', '#BCBD22', '#17BECF'];

/** Generic named x–y series (the shape of crate/plot's `seriesChart` spec). */
export function seriesChart(spec, { width, height, xRange, yRange } = {}) {
  const series = (spec?.series ?? []).map((s, i) => {
    const xs = Array.from(s.x ?? []);
    const ys = Array.from(s.y ?? []);
    const data = xs.map((a, j) => [a, ys[j]]).filter(([a, b]) => (!spec.xLog || a > 0) && (!spec.yLog || b > 0));
    return { ...s, data, color: s.color ?? PALETTE[i % PALETTE.length] };
  });
  const all = series.flatMap((s) => s.data);
  if (!all.length) return null;
  const x = axisOf(all.map((p) => p[0]), Boolean(spec.xLog), xRange);
  const y = axisOf(all.map((p) => p[1]), Boolean(spec.yLog), yRange);
  return frame({
    width, height, title: spec.title ?? '', xLabel: spec.xLabel ?? '', yLabel: spec.yLabel ?? '', x, y,
    series: series.flatMap((s) => (s.style === 'both' ? [{ ...s, type: 'line' }, { ...s, type: 'points' }] : [{ ...s, type: s.style === 'points' ? 'points' : 'line' }])),
    legend: series.filter((s) => s.name).map((s) => [s.name, s.color]),
  });
}

// SVG chart of the demo ESD: a density-normalised histogram with the Marchenko–Pastur density on
// top. Stand-in until crate/plot's ESD chart is exported to wasm (DESIGN.md: charts come from
// crate/plot, web/chart adds interaction). All numbers come from the engine (histogram, MP curve
// and bounds); this module only maps them to pixels, plus the count → density scaling per bin.

const SVG_NS = 'http://www.w3.org/2000/svg';
let chartCount = 0; // makes the clip-path id unique when several charts share a page

/** Chart geometry (viewBox units; the SVG scales to its container). */
const W = 760;
const H = 440;
const M = { top: 30, right: 24, bottom: 58, left: 72 };

const COLORS = {
  bar: '#7aa6d8',
  barEdge: '#4f7fb6',
  mp: '#d1495b',
  bounds: '#8a8f98',
  axis: '#333a45',
  grid: '#e4e7ec',
  text: '#222831',
};

/** Creates an SVG element with attributes (and optional text content). */
function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "Nice" tick values (1, 2, 5 × 10^k steps) covering [lo, hi] with about `count` ticks. */
export function niceTicks(lo, hi, count = 6) {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return { ticks: [lo], step: 1 };
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => span / s <= count) ?? 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return { ticks, step };
}

/** Formats a tick with as many decimals as the step needs (0.25 → 2, 0.5 → 1, 5 → 0). */
function fmtTick(v, step) {
  let decimals = 0;
  while (decimals < 8 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals++;
  return v.toFixed(decimals);
}

/** Linear map [d0, d1] → [r0, r1]. */
const scale = (d0, d1, r0, r1) => (v) => r0 + ((v - d0) / (d1 - d0 || 1)) * (r1 - r0);

/**
 * Draws the chart into `container` (replacing its content) and returns the SVG element.
 * @param {HTMLElement} container
 * @param {{rows:number, cols:number, eigenvalues:ArrayLike<number>, binEdges:ArrayLike<number>,
 *          counts:ArrayLike<number>, mpX:ArrayLike<number>, mpDensity:ArrayLike<number>,
 *          mpLower:number, mpUpper:number}} s   demoSpectrum() result
 */
export function renderEsdChart(container, s) {
  const n = s.eigenvalues.length;
  const nb = s.counts.length;
  // Histogram as a density: count / (n · bin width), so its area is 1 like the MP density.
  const density = Array.from(s.counts, (c, i) => {
    const width = s.binEdges[i + 1] - s.binEdges[i];
    return width > 0 && n > 0 ? c / (n * width) : 0;
  });

  // Domains: cover bins and MP support with a margin; y from 0 to the tallest of bars/curve.
  const lo = Math.min(s.binEdges[0], s.mpLower);
  const hi = Math.max(s.binEdges[nb], s.mpUpper);
  const pad = 0.04 * (hi - lo || 1);
  const x0 = lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
  const x1 = hi + pad;
  // The MP density diverges at 0 when rows ≈ cols: let the curve leave the top rather than
  // flatten the histogram (it is clipped to the plot area).
  const barMax = Math.max(0, ...density);
  const mpMax = Math.max(0, ...s.mpDensity);
  const yMax = (barMax > 0 ? Math.max(barMax, Math.min(mpMax, 1.5 * barMax)) : mpMax) * 1.12 || 1;

  const px = scale(x0, x1, M.left, W - M.right);
  const py = scale(0, yMax, H - M.bottom, M.top);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const q = Math.min(s.rows, s.cols) / Math.max(s.rows, s.cols);
  const gram = s.rows >= s.cols ? 'WᵀW' : 'WWᵀ';

  const svg = el('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'esd-chart',
    role: 'img',
    'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    'font-size': 13,
    fill: COLORS.text,
  });
  svg.append(
    el('title', {}, `Empirical spectral density of a ${s.rows}×${s.cols} Gaussian matrix with the Marchenko–Pastur density`),
  );
  const clipId = `esd-plot-area-${++chartCount}`;
  const defs = el('defs');
  const clip = el('clipPath', { id: clipId });
  clip.append(el('rect', { x: M.left, y: M.top, width: plotW, height: plotH }));
  defs.append(clip);
  svg.append(defs);

  // Grid and y ticks.
  const yt = niceTicks(0, yMax, 6);
  const gy = el('g', { class: 'axis axis-y' });
  for (const t of yt.ticks) {
    const y = py(t);
    gy.append(el('line', { x1: M.left, x2: W - M.right, y1: y, y2: y, stroke: COLORS.grid }));
    gy.append(el('line', { x1: M.left - 5, x2: M.left, y1: y, y2: y, stroke: COLORS.axis }));
    gy.append(el('text', { x: M.left - 8, y: y + 4, 'text-anchor': 'end' }, fmtTick(t, yt.step)));
  }
  gy.append(el('line', { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, stroke: COLORS.axis }));
  gy.append(
    el('text', { x: 0, y: 0, transform: `translate(18 ${M.top + plotH / 2}) rotate(-90)`, 'text-anchor': 'middle', 'font-size': 14 }, 'density'),
  );
  svg.append(gy);

  // Bars.
  const bars = el('g', { class: 'esd-bars', 'clip-path': `url(#${clipId})` });
  for (let i = 0; i < nb; i++) {
    const xa = px(s.binEdges[i]);
    const xb = px(s.binEdges[i + 1]);
    const y = py(density[i]);
    const bar = el('rect', {
      class: 'esd-bar',
      x: xa.toFixed(2),
      y: y.toFixed(2),
      width: Math.max(0, xb - xa).toFixed(2),
      height: Math.max(0, H - M.bottom - y).toFixed(2),
      fill: COLORS.bar,
      stroke: COLORS.barEdge,
      'stroke-width': 0.5,
    });
    bar.append(el('title', {}, `[${s.binEdges[i].toPrecision(4)}, ${s.binEdges[i + 1].toPrecision(4)}): ${s.counts[i]} eigenvalues`));
    bars.append(bar);
  }
  svg.append(bars);

  // MP support bounds λ− and λ+.
  const gb = el('g', { class: 'mp-bounds' });
  for (const [v, label] of [[s.mpLower, 'λ₋'], [s.mpUpper, 'λ₊']]) {
    const x = px(v);
    gb.append(el('line', { x1: x, x2: x, y1: M.top - 4, y2: H - M.bottom, stroke: COLORS.bounds, 'stroke-dasharray': '4 4' }));
    // Label outside the support (left of λ₋, right of λ₊) unless that would leave the plot.
    const left = label === 'λ₋' ? x - M.left > 24 : W - M.right - x < 24;
    gb.append(el('text', { x, y: M.top - 8, 'text-anchor': left ? 'end' : 'start', dx: left ? -4 : 4, fill: COLORS.axis, 'font-size': 13 }, label));
  }
  svg.append(gb);

  // MP density curve.
  let d = '';
  for (let i = 0; i < s.mpX.length; i++) {
    d += `${i ? 'L' : 'M'}${px(s.mpX[i]).toFixed(2)},${py(s.mpDensity[i]).toFixed(2)}`;
  }
  svg.append(
    el('path', { class: 'mp-curve', d, fill: 'none', stroke: COLORS.mp, 'stroke-width': 2.25, 'stroke-linejoin': 'round', 'clip-path': `url(#${clipId})` }),
  );

  // x axis.
  const xt = niceTicks(x0, x1, 8);
  const gx = el('g', { class: 'axis axis-x' });
  gx.append(el('line', { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, stroke: COLORS.axis }));
  for (const t of xt.ticks) {
    const x = px(t);
    gx.append(el('line', { x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 5, stroke: COLORS.axis }));
    gx.append(el('text', { x, y: H - M.bottom + 20, 'text-anchor': 'middle' }, fmtTick(t, xt.step)));
  }
  gx.append(
    el('text', { x: M.left + plotW / 2, y: H - 12, 'text-anchor': 'middle', 'font-size': 14 }, `eigenvalue λ of ${gram}   (W: ${s.rows}×${s.cols}, entries N(0, 1/${s.rows}))`),
  );
  svg.append(gx);

  // Legend (top right, inside the plot).
  const lg = el('g', { class: 'legend', transform: `translate(${W - M.right - 290} ${M.top + 10})` });
  lg.append(el('rect', { x: 0, y: 0, width: 280, height: 50, rx: 4, fill: '#ffffff', 'fill-opacity': 0.9, stroke: COLORS.grid }));
  lg.append(el('rect', { x: 10, y: 10, width: 18, height: 11, fill: COLORS.bar, stroke: COLORS.barEdge, 'stroke-width': 0.5 }));
  lg.append(el('text', { x: 36, y: 20 }, `ESD histogram (${n} eigenvalues)`));
  lg.append(el('line', { x1: 10, x2: 28, y1: 36, y2: 36, stroke: COLORS.mp, 'stroke-width': 2.25 }));
  lg.append(el('text', { x: 36, y: 40 }, `Marchenko–Pastur, q = ${+q.toPrecision(3)}`));
  svg.append(lg);

  container.replaceChildren(svg);
  return svg;
}

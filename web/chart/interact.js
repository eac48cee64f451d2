// Interaction on a chart SVG drawn by crate/plot: hover read-out, zoom
// (wheel or drag-box, double-click or "Reset" to undo), pan (Shift+drag, or the arrow keys when
// the chart has focus; +/− zoom, 0 resets) and export (SVG, PNG). No numerics: the
// chart's renderer returns `{svg, plot: {left, top, right, bottom}, x: {min, max, log}, y: {…}}`
// in SVG pixels, and this module only maps pixels ↔ values with that mapping.
import { downloadBlob, svgToPngBlob } from './export.js';

/** Value at fraction t ∈ [0, 1] of an axis {min, max, log}. */
function axisValue(axis, t) {
  if (axis.log) {
    const a = Math.log10(axis.min);
    const b = Math.log10(axis.max);
    return 10 ** (a + t * (b - a));
  }
  return axis.min + t * (axis.max - axis.min);
}

/** Short number for read-outs. */
export function formatValue(v) {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return v.toPrecision(4);
}

/**
 * Makes `container` an interactive chart.
 * @param {HTMLElement} container
 * @param {object} o
 * @param {(range: {xRange?: [number, number], yRange?: [number, number]}) => ({svg: string, plot: object, x: object, y: object}|null)} o.render
 *        draws the chart for a zoom range (empty object = the default view); null = nothing to draw
 * @param {string} o.name file name stem for exports
 * @param {string} [o.xLabel] / [o.yLabel] names in the hover read-out
 * @param {string} [o.placeholder] text when render returns null
 * @returns {{refresh(): void, reset(): void, readout(clientX, clientY): object|null, get view(): object|null}}
 */
export function createChartView(container, { render, name, xLabel = 'x', yLabel = 'y', placeholder = 'No data yet.' }) {
  container.classList.add('chart-view');
  const toolbar = document.createElement('div');
  toolbar.className = 'chart-toolbar';
  const mkButton = (text, title) => {
    const b = Object.assign(document.createElement('button'), { type: 'button', textContent: text, title });
    toolbar.append(b);
    return b;
  };
  const resetBtn = mkButton('Reset zoom', 'Back to the full view (or double-click the chart)');
  const svgBtn = mkButton('SVG', 'Download this chart as SVG');
  const pngBtn = mkButton('PNG', 'Download this chart as PNG');
  const stage = document.createElement('div');
  stage.className = 'chart-stage';
  const box = document.createElement('div');
  box.className = 'chart-zoom-box';
  box.hidden = true;
  const readoutEl = document.createElement('p');
  readoutEl.className = 'chart-readout';
  readoutEl.setAttribute('aria-live', 'off');
  readoutEl.textContent = '\u00a0';
  container.replaceChildren(toolbar, stage, readoutEl);

  let range = {};
  let view = null; // the last render result
  let drag = null;
  let pan = null; // {x, y, view} while Shift+dragging
  let panFrame = 0;
  stage.tabIndex = 0;
  stage.setAttribute('aria-label', `${name} chart: arrow keys pan, + and − zoom, 0 resets`);

  /** Axis range shifted by `t` (a fraction of its span; log axes shift in log10). */
  function shiftAxis(axis, t) {
    if (axis.log) {
      const a = Math.log10(axis.min);
      const b = Math.log10(axis.max);
      const d = t * (b - a);
      return [10 ** (a + d), 10 ** (b + d)];
    }
    const d = t * (axis.max - axis.min);
    return [axis.min + d, axis.max + d];
  }

  /** Axis range scaled by `f` around its centre. */
  function scaleAxis(axis, f) {
    if (axis.log) {
      const a = Math.log10(axis.min);
      const b = Math.log10(axis.max);
      const c = (a + b) / 2;
      return [10 ** (c + (a - c) * f), 10 ** (c + (b - c) * f)];
    }
    const c = (axis.min + axis.max) / 2;
    return [c + (axis.min - c) * f, c + (axis.max - c) * f];
  }

  /** Shift+drag: pans `pan.view` by the pointer's offset (one redraw per frame; `now` draws at once). */
  function panTo(clientX, clientY, now) {
    const p = toSvgPx(clientX, clientY);
    if (!pan || !p) return;
    const { plot } = pan.view;
    pan.tx = -((clientX - pan.x) / p.scale) / (plot.right - plot.left);
    pan.ty = ((clientY - pan.y) / p.scale) / (plot.bottom - plot.top);
    const apply = (state) => panBy(state.tx, state.ty, state.view);
    if (now) {
      if (panFrame) cancelAnimationFrame(panFrame);
      panFrame = 0;
      apply(pan);
    } else if (!panFrame) {
      const state = pan;
      panFrame = requestAnimationFrame(() => {
        panFrame = 0;
        apply(state);
      });
    }
  }

  /** Pans the current view by fractions (tx, ty) of the plot (positive = towards larger values). */
  function panBy(tx, ty, from = view) {
    if (!from) return;
    range = { xRange: shiftAxis(from.x, tx), yRange: shiftAxis(from.y, ty) };
    draw();
  }

  function draw() {
    let out = null;
    try {
      out = render(range);
    } catch (err) {
      console.warn(`[spectralab] chart ${name} failed:`, err);
      out = null;
      stage.replaceChildren(Object.assign(document.createElement('p'), { className: 'chart-placeholder', textContent: `Chart failed: ${err.message ?? err}` }));
      view = null;
      return;
    }
    view = out;
    if (!out) {
      stage.replaceChildren(Object.assign(document.createElement('p'), { className: 'chart-placeholder', textContent: placeholder }));
    } else {
      stage.innerHTML = out.svg;
      stage.append(box);
    }
    const zoomed = Boolean(range.xRange || range.yRange);
    resetBtn.disabled = !zoomed;
    svgBtn.disabled = pngBtn.disabled = !out;
    container.dataset.zoomed = String(zoomed);
  }

  /** SVG-pixel coordinates of a client point, or null when outside the drawing. */
  function toSvgPx(clientX, clientY) {
    const svg = stage.querySelector('svg');
    if (!svg || !view) return null;
    const r = svg.getBoundingClientRect();
    const vb = svg.viewBox?.baseVal;
    const w = vb && vb.width ? vb.width : Number(svg.getAttribute('width')) || r.width;
    const h = vb && vb.height ? vb.height : Number(svg.getAttribute('height')) || r.height;
    return { px: ((clientX - r.left) * w) / r.width, py: ((clientY - r.top) * h) / r.height, scale: r.width / w, r };
  }

  /** Data values under a client point: {x, y, inside}. */
  function readout(clientX, clientY) {
    const p = toSvgPx(clientX, clientY);
    if (!p) return null;
    const { left, top, right, bottom } = view.plot;
    const tx = (p.px - left) / (right - left);
    const ty = (bottom - p.py) / (bottom - top);
    const inside = tx >= 0 && tx <= 1 && ty >= 0 && ty <= 1;
    return { x: axisValue(view.x, tx), y: axisValue(view.y, ty), inside, px: p.px, py: p.py };
  }

  stage.addEventListener('pointermove', (e) => {
    const v = readout(e.clientX, e.clientY);
    if (pan) {
      panTo(e.clientX, e.clientY, false);
      return;
    }
    if (drag) {
      const x0 = Math.min(drag.x, e.clientX);
      const y0 = Math.min(drag.y, e.clientY);
      const sr = stage.getBoundingClientRect();
      Object.assign(box.style, {
        left: `${x0 - sr.left}px`,
        top: `${y0 - sr.top}px`,
        width: `${Math.abs(e.clientX - drag.x)}px`,
        height: `${Math.abs(e.clientY - drag.y)}px`,
      });
      box.hidden = false;
    }
    readoutEl.textContent = v && v.inside ? `${xLabel} = ${formatValue(v.x)}, ${yLabel} = ${formatValue(v.y)}` : '\u00a0';
  });
  stage.addEventListener('pointerleave', () => {
    readoutEl.textContent = '\u00a0';
  });
  stage.addEventListener('pointerdown', (e) => {
    if (!view || e.button !== 0) return;
    const v = readout(e.clientX, e.clientY);
    if (!v?.inside) return;
    if (e.shiftKey) {
      pan = { x: e.clientX, y: e.clientY, view };
      container.dataset.panning = 'true';
    } else {
      drag = { x: e.clientX, y: e.clientY, v };
    }
    stage.setPointerCapture?.(e.pointerId);
    e.preventDefault();
  });
  stage.addEventListener('pointerup', (e) => {
    if (pan) {
      panTo(e.clientX, e.clientY, true);
      pan = null;
      delete container.dataset.panning;
      return;
    }
    if (!drag) return;
    const start = drag;
    drag = null;
    box.hidden = true;
    if (Math.abs(e.clientX - start.x) < 6 || Math.abs(e.clientY - start.y) < 6) return; // a click
    const end = readout(e.clientX, e.clientY);
    if (!end) return;
    const order = (a, b) => (a < b ? [a, b] : [b, a]);
    range = { xRange: order(start.v.x, end.x), yRange: order(start.v.y, end.y) };
    draw();
  });
  stage.addEventListener('dblclick', () => reset());
  stage.addEventListener('keydown', (e) => {
    if (!view) return;
    const step = e.shiftKey ? 0.5 : 0.1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (moves[e.key]) {
      panBy(...moves[e.key]);
    } else if (e.key === '+' || e.key === '=' || e.key === '-') {
      const f = e.key === '-' ? 1.25 : 0.8;
      range = { xRange: scaleAxis(view.x, f), yRange: scaleAxis(view.y, f) };
      draw();
    } else if (e.key === '0') {
      reset();
    } else {
      return;
    }
    e.preventDefault();
  });
  stage.addEventListener(
    'wheel',
    (e) => {
      if (!view) return;
      const v = readout(e.clientX, e.clientY);
      if (!v?.inside) return;
      e.preventDefault();
      const f = e.deltaY > 0 ? 1.25 : 0.8; // out / in, around the cursor
      const zoomAxis = (axis, c) => {
        if (axis.log) {
          const lc = Math.log10(c);
          return [10 ** (lc + (Math.log10(axis.min) - lc) * f), 10 ** (lc + (Math.log10(axis.max) - lc) * f)];
        }
        return [c + (axis.min - c) * f, c + (axis.max - c) * f];
      };
      range = { xRange: zoomAxis(view.x, v.x), yRange: zoomAxis(view.y, v.y) };
      draw();
    },
    { passive: false },
  );

  function reset() {
    range = {};
    draw();
  }
  resetBtn.addEventListener('click', reset);
  svgBtn.addEventListener('click', () => {
    if (view) downloadBlob(new Blob([view.svg], { type: 'image/svg+xml' }), `${name}.svg`);
  });
  pngBtn.addEventListener('click', async () => {
    if (!view) return;
    try {
      downloadBlob(await svgToPngBlob(view.svg, 2), `${name}.png`);
    } catch (err) {
      readoutEl.textContent = `PNG export failed: ${err.message}`;
    }
  });

  draw();
  return {
    /** Redraws with the current zoom (e.g. new data). */
    refresh: draw,
    /** Back to the default view. */
    reset,
    /** Pans by fractions of the plot (as Shift+drag and the arrow keys do). */
    panBy,
    readout,
    get view() {
      return view;
    },
    get range() {
      return range;
    },
  };
}

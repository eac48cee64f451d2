// Base class of the Spectralab widgets: shadow DOM, loading / error / ready states, sizing
// (ResizeObserver, debounced), light/dark theme, reactive attributes, focus and a text
// alternative. A widget subclass implements two methods:
//
//   async load(ctx)        → data        (attributes/properties → engine; ctx.stale() after awaits)
//   draw(charts, data, o)  → {svg, plot, x, y, caption, summary}
//                          (o: {width, height, theme, xRange?, yRange?}: pass it to the chart call)
//
// and lists its data attributes in `static dataAttributes` (and its axis names for the hover
// read-out in `static axes`). The chart is interactive as in the lab (web/chart/interact.js): hover
// read-out, wheel zoom around the cursor, drag-box zoom, Shift+drag pan, double-click resets; with
// the widget focused, arrow keys pan, + / − zoom, 0 or Escape reset; SVG and PNG export buttons.
// Parts a page can style or hide with ::part(): frame, chart, toolbar, button, reset-button,
// svg-button, png-button, readout, zoom-box, caption, state. Events (bubbling, composed):
//   spectral-render  {detail: {summary, loadMs, drawMs}}   after every draw
//   spectral-error   {detail: {message}}                   when loading or drawing failed
import { createChartView } from '../../chart/interact.js';
import { loadCharts } from './charts.js';

const CSS = `
:host { display: block; position: relative; height: 360px; min-width: 220px; contain: content;
  --_bg: var(--spectral-bg, #ffffff); --_fg: var(--spectral-fg, #1d2330);
  --_muted: var(--spectral-muted, #5b6475); --_border: var(--spectral-border, #d5dae3);
  --_accent: var(--spectral-accent, #2f6db5); --_error: var(--spectral-error, #b3261e);
  --_error-bg: var(--spectral-error-bg, #fdecea); }
:host([hidden]) { display: none; }
.frame.dark { --_bg: var(--spectral-dark-bg, #16191f); --_fg: var(--spectral-dark-fg, #e3e7ee);
  --_muted: var(--spectral-dark-muted, #9aa3b2); --_border: var(--spectral-dark-border, #343a46);
  --_accent: var(--spectral-dark-accent, #7fb0ff); --_error: var(--spectral-dark-error, #ffb4ab);
  --_error-bg: var(--spectral-dark-error-bg, #3b1f1d); }
.frame { position: absolute; inset: 0; display: flex; flex-direction: column; box-sizing: border-box;
  background: var(--_bg); color: var(--_fg); border: 1px solid var(--_border);
  border-radius: var(--spectral-radius, 6px); overflow: hidden;
  font: var(--spectral-font-size, 13px)/1.4 var(--spectral-font, system-ui, -apple-system, "Segoe UI", sans-serif); }
:host(:focus-visible) .frame { outline: 2px solid var(--_accent); outline-offset: 2px; }
.chart { flex: 1 1 auto; min-height: 0; position: relative; }
.chart svg { display: block; width: 100%; height: 100%; }
.chart-stage { position: absolute; inset: 0; outline: none; touch-action: none; }
.chart-toolbar { position: absolute; top: 4px; right: 4px; z-index: 2; display: flex; gap: 4px;
  opacity: 0; transition: opacity 0.15s; }
:host(:hover) .chart-toolbar, :host(:focus-within) .chart-toolbar, :host(:focus) .chart-toolbar { opacity: 1; }
.chart-toolbar button { font: inherit; font-size: 0.85em; padding: 1px 7px; cursor: pointer;
  color: var(--_fg); background: var(--_bg); border: 1px solid var(--_border); border-radius: 4px; }
.chart-toolbar button:disabled { display: none; }
.chart-toolbar button:focus-visible { outline: 2px solid var(--_accent); }
.chart-readout { position: absolute; left: 6px; bottom: 2px; z-index: 2; margin: 0; padding: 0 4px;
  font-size: 0.85em; color: var(--_fg); background: var(--_bg); opacity: 0.9; pointer-events: none;
  font-variant-numeric: tabular-nums; }
.chart-zoom-box { position: absolute; z-index: 1; pointer-events: none; border: 1px dashed var(--_accent);
  background: color-mix(in srgb, var(--_accent) 12%, transparent); }
.chart-zoom-box[hidden] { display: none; }
.chart-placeholder { margin: 0; padding: 16px; color: var(--_muted); }
.caption { flex: none; margin: 0; padding: 4px 10px 6px; color: var(--_muted); font-size: 0.92em;
  border-top: 1px solid var(--_border); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.caption:empty { display: none; }
.state { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  gap: 10px; padding: 16px; text-align: center; background: var(--_bg); }
.state[hidden] { display: none; }
.state.loading { color: var(--_muted); }
.state.error { color: var(--_error); background: var(--_error-bg); flex-direction: column; }
.state.error strong { font-size: 1.05em; }
.state.error code { white-space: pre-wrap; word-break: break-word; font-size: 0.92em; }
.spinner { width: 18px; height: 18px; border-radius: 50%; border: 2px solid var(--_border);
  border-top-color: var(--_accent); animation: spin 0.9s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
`;

const DEBOUNCE_MS = 120;
const darkQuery = () => globalThis.matchMedia?.('(prefers-color-scheme: dark)');

export class SpectralWidget extends HTMLElement {
  /** Attributes that change the data (→ reload); `theme` only redraws. */
  static dataAttributes = [];
  /** Properties that carry inline data (→ reload when set). */
  static dataProperties = [];
  /** Axis names in the hover read-out. */
  static axes = { x: 'x', y: 'y' };

  static get observedAttributes() {
    return ['theme', ...this.dataAttributes];
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${CSS}</style><div class="frame" part="frame"><div class="chart" part="chart"></div><p class="caption" part="caption" aria-hidden="true"></p><div class="state loading" part="state" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span><span class="msg">Loading…</span></div></div>`;
    this._frame = root.querySelector('.frame');
    this._chart = root.querySelector('.chart');
    this._caption = root.querySelector('.caption');
    this._state = root.querySelector('.state');
    this._data = null;
    this._loadId = 0;
    this._size = null;
    this._queued = false;
    this._timer = null;
    this._view = null; // the interactive chart (web/chart/interact.js), made on the first draw
    this._charts = null;
    this._opts = null;
    this._drawError = null;
    // Keys on the focused widget drive the chart (the chart stage itself is not a tab stop).
    this.addEventListener('keydown', (e) => this._onKey(e));
    this._resize = new ResizeObserver((entries) => this._onResize(entries.at(-1).contentRect));
    this._onScheme = () => this._theme() !== this._drawnTheme && this._draw();
    // Inline JSON is reactive too: editing or replacing the <script type="application/json"> child reloads.
    this._children = new MutationObserver(() => this._queueLoad());
    /** Timings of the last load/draw (ms), for pages and tests. */
    this.timings = { loadMs: NaN, drawMs: NaN };
    for (const p of this.constructor.dataProperties) this._defineDataProperty(p);
  }

  connectedCallback() {
    if (!this.hasAttribute('tabindex')) this.tabIndex = 0;
    if (!this.hasAttribute('role')) this.setAttribute('role', 'img');
    this._resize.observe(this._chart);
    this._children.observe(this, { childList: true, subtree: true, characterData: true });
    darkQuery()?.addEventListener?.('change', this._onScheme);
    this._frame.classList.toggle('dark', this._theme() === 'dark');
    if (!this._data && this.state !== 'error') this._setState('loading', this.loadingText());
    this._queueLoad();
  }

  disconnectedCallback() {
    this._resize.disconnect();
    this._children.disconnect();
    darkQuery()?.removeEventListener?.('change', this._onScheme);
    clearTimeout(this._timer);
  }

  attributeChangedCallback(name, oldValue, value) {
    if (oldValue === value || !this.isConnected) return;
    if (name === 'theme') this._draw();
    else this._queueLoad();
  }

  /** 'loading' | 'partial' (drawn, more to come) | 'ready' | 'error' (the host's `state` attribute). */
  get state() {
    return this.getAttribute('state') ?? 'loading';
  }

  /** The text alternative of the current chart (also the host's aria-label). */
  get summary() {
    return this._summary ?? '';
  }

  /** Reloads the data (e.g. after mutating an inline data object in place). */
  refresh() {
    this._queueLoad();
  }

  // --- for subclasses ---------------------------------------------------------------------

  /** Text of the loading state. */
  loadingText() {
    return 'Loading…';
  }

  /** The JSON of a `<script type="application/json">` child, or null. Errors name the element. */
  inlineJson() {
    const s = this.querySelector(':scope > script[type="application/json"]');
    if (!s) return null;
    try {
      return JSON.parse(s.textContent);
    } catch (err) {
      throw new Error(`inline JSON of <${this.localName}> is not valid JSON: ${err.message}`);
    }
  }

  /** `src` resolved against the page (absolute URL), or null. */
  srcUrl(name = 'src') {
    const v = this.getAttribute(name);
    return v ? new URL(v, document.baseURI).href : null;
  }

  // --- internals --------------------------------------------------------------------------

  /** A reactive data property; keeps a value set before the element was upgraded. */
  _defineDataProperty(name) {
    const own = Object.getOwnPropertyDescriptor(this, name);
    let value = own && 'value' in own ? own.value : undefined;
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: true,
      get: () => value,
      set: (v) => {
        value = v;
        if (this.isConnected) this._queueLoad();
      },
    });
  }

  _theme() {
    const t = (this.getAttribute('theme') ?? 'auto').toLowerCase();
    if (t === 'dark' || t === 'light') return t;
    return darkQuery()?.matches ? 'dark' : 'light';
  }

  _setState(state, message = '') {
    this.setAttribute('state', state);
    this.setAttribute('aria-busy', String(state === 'loading' || state === 'partial'));
    const s = this._state;
    if (state === 'ready' || state === 'partial') {
      s.hidden = true;
      return;
    }
    s.hidden = false;
    s.className = `state ${state}`;
    if (state === 'loading') {
      s.setAttribute('role', 'status');
      s.innerHTML = '<span class="spinner" aria-hidden="true"></span><span class="msg"></span>';
      s.querySelector('.msg').textContent = message;
      if (!this._data) this.setAttribute('aria-label', `${this.localName}: ${message}`);
    } else {
      s.setAttribute('role', 'alert');
      s.innerHTML = '<strong></strong> <code></code>';
      s.querySelector('strong').textContent = 'This chart could not be drawn';
      s.querySelector('code').textContent = message;
      this.setAttribute('aria-label', `${this.localName}: error: ${message}`);
      this._caption.textContent = '';
      this._chart.replaceChildren();
      this._view = null;
    }
  }

  /** The interactive chart view (zoom state, read-out, export), made once per chart element. */
  _chartView() {
    if (this._view) return this._view;
    const { x, y } = this.constructor.axes;
    this._view = createChartView(this._chart, {
      name: this._exportName(),
      xLabel: x,
      yLabel: y,
      placeholder: '',
      render: (range) => this._render(range),
    });
    const parts = { 'chart-toolbar': 'toolbar', 'chart-readout': 'readout', 'chart-zoom-box': 'zoom-box' };
    for (const [cls, part] of Object.entries(parts)) this._chart.querySelector(`.${cls}`)?.setAttribute('part', part);
    const [reset, svgBtn, pngBtn] = this._chart.querySelectorAll('.chart-toolbar button');
    reset?.setAttribute('part', 'button reset-button');
    svgBtn?.setAttribute('part', 'button svg-button');
    pngBtn?.setAttribute('part', 'button png-button');
    const stage = this._chart.querySelector('.chart-stage');
    stage.tabIndex = -1;
    stage.removeAttribute('aria-label');
    return this._view;
  }

  /** File name stem of exports: the tag and, where set, the tensor. */
  _exportName() {
    const t = this.getAttribute('tensor');
    return `${this.localName}${t ? `-${t}` : ''}`.replace(/[^\w.-]+/g, '_').slice(0, 120);
  }

  /** The chart view's render callback: one draw at the current size, theme and zoom range. */
  _render(range) {
    if (!this._data || !this._charts || !this._opts) return null;
    try {
      const out = this.draw(this._charts, this._data, { ...this._opts, ...range });
      if (!out?.svg) throw new Error('nothing to draw (no data points)');
      if (!out.plot || !out.x || !out.y) throw new Error('the chart has no axis mapping');
      this._out = out;
      return out;
    } catch (err) {
      this._drawError = err;
      return null;
    }
  }

  _onKey(e) {
    if (e.target !== this || !this._view?.view || e.altKey || e.ctrlKey || e.metaKey) return;
    const key = e.key === 'Escape' ? '0' : e.key;
    if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', '+', '=', '-', '0'].includes(key)) return;
    const stage = this._chart.querySelector('.chart-stage');
    const fwd = new KeyboardEvent('keydown', { key, shiftKey: e.shiftKey, cancelable: true });
    stage?.dispatchEvent(fwd);
    if (fwd.defaultPrevented) e.preventDefault();
  }

  /** Coalesces attribute/property changes of one task into one load. */
  _queueLoad() {
    if (this._queued) return;
    this._queued = true;
    queueMicrotask(() => {
      this._queued = false;
      if (this.isConnected) this._load();
    });
  }

  async _load() {
    const id = ++this._loadId;
    this._dataId = id;
    const stale = () => id !== this._loadId;
    const t0 = performance.now();
    this._data = null;
    this._partial = false;
    this._setState('loading', this.loadingText());
    try {
      const [data] = await Promise.all([
        this.load({ stale, progress: (msg) => !stale() && this._setState('loading', msg), partial: (d) => !stale() && this._show(d, true) }),
        loadCharts(),
      ]);
      if (stale()) return;
      this.timings.loadMs = performance.now() - t0;
      this._show(data);
    } catch (err) {
      if (stale()) return;
      this._fail(err);
    }
  }

  /** `partial`: more data is coming (state 'partial': chart shown, still busy). */
  _show(data, partial = false) {
    this._data = data;
    this._partial = partial;
    this._draw();
  }

  _fail(err) {
    const message = (err?.message ?? String(err)) || 'unknown error';
    this._data = null;
    this._setState('error', message);
    this.dispatchEvent(new CustomEvent('spectral-error', { bubbles: true, composed: true, detail: { message } }));
  }

  _onResize(rect) {
    const size = { width: Math.floor(rect.width), height: Math.floor(rect.height) };
    if (this._size && size.width === this._size.width && size.height === this._size.height) return;
    const first = !this._size;
    this._size = size;
    clearTimeout(this._timer);
    if (first) this._draw();
    else this._timer = setTimeout(() => this._draw(), DEBOUNCE_MS);
  }

  async _draw() {
    if (!this._data || !this._size || !this.isConnected) return;
    const theme = this._theme();
    this._frame.classList.toggle('dark', theme === 'dark');
    const charts = await loadCharts();
    if (!this._data) return;
    const t0 = performance.now();
    // plotters' limits: 200..4000 × 150..4000 px.
    const width = Math.min(4000, Math.max(200, this._size.width || 200));
    const height = Math.min(4000, Math.max(150, this._size.height || 150));
    this._charts = charts;
    this._opts = { width, height, theme };
    this._drawError = null;
    this._out = null;
    const view = this._chartView();
    // New data (not a redraw of the same data: resize, theme, the FARMS pass) resets the zoom.
    if (this._zoomData !== this._dataId) {
      this._zoomData = this._dataId;
      view.reset();
    } else {
      view.refresh();
    }
    const out = this._out;
    if (this._drawError || !out) {
      this._fail(this._drawError ?? new Error('nothing to draw'));
      return;
    }
    const svg = this._chart.querySelector('.chart-stage svg');
    if (svg) {
      svg.setAttribute('aria-hidden', 'true');
      svg.setAttribute('focusable', 'false');
    }
    this._drawnTheme = theme;
    this._summary = out.summary ?? '';
    this._caption.textContent = out.caption ?? out.summary ?? '';
    this.setAttribute('aria-label', this._summary);
    this.timings.drawMs = performance.now() - t0;
    this._setState(this._partial ? 'partial' : 'ready');
    this.dispatchEvent(new CustomEvent('spectral-render', {
      bubbles: true,
      composed: true,
      detail: { summary: this._summary, loadMs: this.timings.loadMs, drawMs: this.timings.drawMs, width, height, theme },
    }));
  }
}

/** Defines `tag` unless it is already defined (the script may be included twice). */
export function define(tag, cls) {
  if (!customElements.get(tag)) customElements.define(tag, cls);
}

/** A number for read-outs: 4 significant digits, exponent form when very large/small. */
export function fmt(v, digits = 3) {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(digits)));
}

/** Bytes as B / kB / MB. */
export function fmtBytes(b) {
  if (!Number.isFinite(b)) return '—';
  if (b < 1024) return `${Math.round(b)} B`;
  if (b < 1024 ** 2) return `${(b / 1024).toPrecision(3)} kB`;
  return `${(b / 1024 ** 2).toPrecision(3)} MB`;
}

/** A numeric array (JSON array or typed array) as Float64Array; throws with `what` if invalid. */
export function toNumbers(v, what) {
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Float64Array.from(v, Number);
  throw new Error(`${what} must be an array of numbers`);
}

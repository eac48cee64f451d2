// <spectral-esd>: the eigenvalue spectrum (ESD) of one weight matrix with its power-law fit
// (classic α and x_min from the KS scan, FARMS α) and the Marchenko–Pastur bulk.
//
//   <spectral-esd src="model.safetensors" tensor="encoder.layer.0.attention.self.query.weight">
//   el.matrix = { data: Float32Array, rows, cols, name? }          a matrix in memory
//   <spectral-esd><script type="application/json">{"rows":2,"cols":2,"data":[…]}</script>
//   <spectral-esd><script type="application/json">{"name":…,"evals":[…],"alpha":…}</script>  (a row)
// Without `tensor`, the first analysable matrix of the file is shown.
import { SpectralWidget, define, fmt } from './core/base.js';
import { fetchBlob, sharedEngine, shortName, withModel } from './core/engine.js';

// Two passes: the classic fit (+ MP) paints first; FARMS (81 windowed spectra, ~3× the work)
// follows and redraws. Keeps the first paint of a 384×384 matrix fast.
const FIRST = { mpFit: true };
const OPTIONS = { farms: true, mpFit: true };

export class SpectralEsd extends SpectralWidget {
  static dataAttributes = ['src', 'tensor'];
  static axes = { x: 'λ', y: 'density' };
  static dataProperties = ['matrix', 'layer'];

  loadingText() {
    return this.getAttribute('tensor') ? `Analysing ${this.getAttribute('tensor')}…` : 'Analysing the spectrum…';
  }

  async load({ stale, progress, partial }) {
    const engine = sharedEngine();
    const inline = this.layer ?? this.inlineJson();
    const matrix = this.matrix ?? (inline && 'data' in inline && !('evals' in inline) ? inline : null);
    if (matrix) {
      partial(await analyzeMatrix(engine, matrix, FIRST));
      return stale() ? null : analyzeMatrix(engine, matrix, OPTIONS);
    }
    if (inline) return checkRow(inline);
    const url = this.srcUrl();
    if (!url) throw new Error('no data: set src (and tensor), the matrix property, or an inline JSON child');
    const tensor = this.getAttribute('tensor');
    progress(`Fetching ${shortName(url)}…`);
    const blob = await fetchBlob(url);
    if (stale()) return null;
    progress(`Analysing ${tensor ?? shortName(url)}…`);
    partial(await analyzeTensor(blob, url, tensor, FIRST, stale));
    return stale() ? null : analyzeTensor(blob, url, tensor, OPTIONS, stale);
  }

  draw(charts, row, o) {
    const out = charts.esdChart(row, o);
    if (!out) return null;
    const parts = [`α = ${fmt(row.alpha)}`, `x_min = ${fmt(row.xmin)}`];
    if (Number.isFinite(row.farms?.alpha)) parts.push(`FARMS α = ${fmt(row.farms.alpha)}`);
    if (Number.isFinite(row.D)) parts.push(`D = ${fmt(row.D)}`);
    const n = row.num_evals || row.evals?.length;
    const shape = row.N && row.M ? ` (${row.N}×${row.M})` : '';
    return {
      ...out,
      caption: `${parts.join(', ')}${n ? `; ${n} eigenvalues` : ''}`,
      summary: `Eigenvalue spectrum of ${row.name}${shape}: ${parts.join(', ')}${n ? `, ${n} eigenvalues` : ''}.`,
    };
  }
}

/** The row of `tensor` (or the first analysable matrix) of the file at `url`, with evals. */
function analyzeTensor(blob, url, tensor, options, stale) {
  return withModel(blob, shortName(url), options, async (plan, eng) => {
    const p = tensor ? plan.find((x) => x.name === tensor) : plan.find((x) => !x.skip);
    if (!p) {
      const names = plan.filter((x) => !x.skip).map((x) => x.name);
      const hint = names.length ? ` (e.g. ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})` : '';
      throw new Error(tensor ? `no tensor "${tensor}" in ${shortName(url)}${hint}` : `${shortName(url)} has no analysable matrix`);
    }
    if (p.skip) throw new Error(`${p.name} is not analysed: ${p.skip}`);
    if (stale()) return null;
    return checkRow(await eng.call('analyzeLayer', p.index, true));
  });
}

async function analyzeMatrix(engine, m, options) {
  const rows = Number(m.rows);
  const cols = Number(m.cols);
  const data = m.data instanceof Float32Array ? m.data : Float32Array.from(m.data ?? [], Number);
  // A copy is sent (structured clone), so the page keeps its array.
  return checkRow(await engine.call('analyzeMatrix', data, rows, cols, m.name ?? `matrix ${rows}×${cols}`, options));
}

function checkRow(row) {
  if (!row || typeof row !== 'object') throw new Error('no result');
  if (row.status === 'error') throw new Error(`${row.name}: ${row.reason ?? 'analysis failed'}`);
  if (!row.evals || !row.evals.length) throw new Error(`${row.name ?? 'layer'}: no eigenvalues (an inline row needs "evals")`);
  return row;
}

define('spectral-esd', SpectralEsd);

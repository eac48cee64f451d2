#!/usr/bin/env node
// `npx spectralab`: the npm package's command line. The wasm engine in Node (../engine/node.mjs),
// reading model files by ranges; same flags, columns, CSV/JSON output and exit codes as the
// native `spectralab` (crate/cli). Exit codes: 0 ok, 1 a --fail-if gate matched, 2 a layer could
// not be analysed (status=error; --allow-errors accepts them), 3 bad input (usage error,
// unreadable or malformed file).
import { existsSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { compareAdapter, compareModels, compressFile, embeddingMetrics, openModel, quantPlanFile, rustNumber, writeModelCharts } from '../engine/node.mjs';

// package.json is beside bin/ in the npm package, two levels up in the repository (web/bin/).
const VERSION = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(u)) return JSON.parse(readFileSync(u, 'utf8')).version;
  }
  return 'unknown';
})();

const USAGE = `usage:
  spectralab analyze FILE [--farms] [--mp-fit] [--randomize] [--seed N]
                          [--fix-fingers clip_xmax|xmin_peak] [--fit PL|TPL|E_TPL] [--xmax -K] [--fast]
                          [--layers NAME,…]
                          [--min-evals N] [--max-evals N] [--max-n N]
                          [--format csv|json] [--fail-if 'alpha>6']... [--allow-errors] [--plot DIR]
  spectralab compare BASE OTHER         [--k 10] [--eps 0.5] [--layers NAME,…] [--no-alpha] [--farms]
  spectralab compare BASE --adapter DIR [--format csv|json] [--fail-if 'intruders>0']...
                                        [--max-elements 16777216]
  spectralab compress FILE [--budget 50%|BYTES | --error E] [--method uniform|energy|greedy|welore]
                           [--objective absolute|relative] [--dtype f32|f16|int8|int4]
                           [--plan OUT.json] [--format csv|json]
  spectralab compress FILE --quant-plan 4.8bpw|BYTES [--plan OUT.json] [--format csv|json]
  spectralab metrics FILE [--tensor NAME] [--labels FILE.npy] [--q 0,0.5,1,2,inf]
                          [--kernel cosine|linear|rbf] [--bandwidth S|median] [--format csv|json]
  spectralab --version

FILE may also be hf://org/name[@revision][/file] or an http(s) URL of a model file: read by HTTP
range requests, only the analysed layers are fetched; hub endpoint $HF_ENDPOINT (default
https://huggingface.co).

--plot DIR writes SVG charts: alpha.svg, and esd_<layer>.svg and rank_<layer>.svg per layer.

Not yet in the npm CLI (use the native spectralab binary): demo.

--fail-if 'COLUMN OP VALUE' (repeatable; OP: > >= < <= == != =) fails the run when any analysed
layer matches, e.g. 'alpha<2', 'alpha>6', 'status==failed', 'warning==degenerate' (the warning
column lists WeightWatcher's over-trained/under-trained and degenerate:alpha-inf,
degenerate:few-tail, degenerate:entropy-range, degenerate:alpha-norm-inf, \`;\`-separated).

exit codes: 0 ok, 1 a --fail-if gate matched, 2 a layer could not be analysed (status=error;
--allow-errors accepts them), 3 bad input (usage error, unreadable or malformed file).`;

class Failure extends Error {
  constructor(code, message, showUsage = false) {
    super(message);
    this.code = code;
    this.showUsage = showUsage;
  }
}
/** A usage error: exit 3, message followed by the usage text. */
const usage = (msg) => new Failure(3, msg, true);

/** The native CLI's argument handling: flags and `--name value` pairs anywhere. */
class Args {
  constructor(list) {
    this.list = list;
  }
  flag(name) {
    const i = this.list.indexOf(name);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }
  value(name) {
    const i = this.list.indexOf(name);
    if (i < 0) return undefined;
    if (i + 1 >= this.list.length) throw usage(`${name} needs a value`);
    const [, v] = this.list.splice(i, 2);
    return v;
  }
  integer(name, { signed = false } = {}) {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (!(signed ? /^[+-]?\d+$/ : /^\+?\d+$/).test(v.trim())) throw usage(`${name}: \`${v}\` is not a valid number`);
    return Number(v);
  }
}

/** Parses `column op value` as the native CLI does (number, or text for == / !=). */
export function parseGate(text) {
  for (const op of ['>=', '<=', '==', '!=', '>', '<', '=']) {
    const at = text.indexOf(op);
    if (at < 0) continue;
    const column = text.slice(0, at).trim();
    const raw = text.slice(at + op.length).trim();
    if (!column) break;
    const n = raw === '' ? NaN : Number(raw.replace(/^inf$/i, 'Infinity'));
    let value;
    if (!Number.isNaN(n)) value = { number: n };
    else if (['==', '!=', '='].includes(op)) value = { text: raw };
    else throw usage(`--fail-if \`${text}\`: \`${raw}\` is not a number (text compares only with == or !=)`);
    return { column, op: op === '=' ? '==' : op, value, text };
  }
  throw usage(`--fail-if \`${text}\`: expected \`column op value\`, e.g. 'alpha>6' or 'warning==degenerate'`);
}

function cell(row, column) {
  const v = column === 'farms_alpha' ? row.farms?.alpha : row[column];
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : { number: v };
  if (typeof v === 'string') return { text: v };
  return undefined;
}

const hasTag = (list, tag) => list.split(';').map((t) => t.trim()).some((t) => t === tag || t.startsWith(`${tag}:`));

function holds(g, c) {
  if ('number' in g.value && 'number' in c) {
    const [x, v] = [c.number, g.value.number];
    return { '>': x > v, '>=': x >= v, '<': x < v, '<=': x <= v, '==': x === v, '!=': x !== v }[g.op];
  }
  if ('text' in g.value && 'text' in c) {
    const eq = g.column === 'warning' ? hasTag(c.text, g.value.text) : c.text === g.value.text;
    return g.op === '==' ? eq : !eq;
  }
  return undefined;
}

const show = (c) => ('number' in c ? (Number.isFinite(c.number) ? String(c.number) : c.number > 0 ? 'inf' : '-inf') : `\`${c.text}\``);

/** The verdict of an analysis, as the native CLI's `gate_and_errors`. */
export function verdict(report, gates, allowErrors) {
  const analysed = report.layers.filter((l) => l.status !== 'error');
  const hits = [];
  for (const g of gates) {
    let comparable = false;
    for (const l of analysed) {
      const c = cell(l, g.column);
      if (!c) continue;
      const h = holds(g, c);
      if (h === undefined) continue;
      comparable = true;
      if (h) hits.push(`${l.name}: ${g.column} = ${show(c)} (${g.text})`);
    }
    if (!comparable && analysed.length) {
      throw usage(`--fail-if \`${g.text}\`: no analysed layer has a ${'number' in g.value ? 'numeric' : 'text'} column \`${g.column}\``);
    }
  }
  // A reason that already starts with the layer's name (most do) is not prefixed again.
  const errors = report.layers.filter((l) => l.status === 'error').map((l) => ((l.reason ?? '').startsWith(l.name) ? l.reason : `${l.name}: ${l.reason ?? 'error'}`));
  if (errors.length && !allowErrors) {
    let msg = `${errors.length} layer(s) could not be analysed (--allow-errors accepts them):\n${errors.join('\n')}`;
    if (hits.length) msg += `\nand --fail-if matched:\n${hits.join('\n')}`;
    throw new Failure(2, msg);
  }
  if (hits.length) throw new Failure(1, `--fail-if matched:\n${hits.join('\n')}`);
}

/** Writes all of `text` to a file descriptor (synchronously: output survives process.exit). */
function writeAll(fd, text) {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

/** The CSV/JSON of a GGUF report with the native CLI's `ggml_type` column. */
function withGgmlType(report, csv, types) {
  const ty = (name) => types.get(name) ?? '';
  const names = [...report.layers.map((l) => l.name), ...report.skipped.map((s) => s.name)];
  if (csv !== undefined) {
    const lines = csv.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
    if (lines.length !== names.length + 1) return csv;
    return `${lines[0]},ggml_type\n${lines.slice(1).map((l, i) => `${l},${ty(names[i])}\n`).join('')}`;
  }
  for (const row of [...report.layers, ...report.skipped]) row.ggml_type = ty(row.name);
  return `${JSON.stringify(report, null, 2)}\n`;
}

async function analyze(a) {
  const opts = {
    farms: a.flag('--farms'),
    mpFit: a.flag('--mp-fit'),
    seed: a.integer('--seed') ?? 0,
    randomize: a.flag('--randomize'),
    fast: a.flag('--fast'),
  };
  const fixFingers = a.value('--fix-fingers');
  if (fixFingers !== undefined) opts.fixFingers = fixFingers;
  const fit = a.value('--fit');
  if (fit !== undefined) opts.fit = fit;
  for (const [flag, key, signed] of [['--xmax', 'xmax', true], ['--min-evals', 'minEvals'], ['--max-evals', 'maxEvals'], ['--max-n', 'maxN']]) {
    const v = a.integer(flag, { signed });
    if (v !== undefined) opts[key] = v;
  }
  const format = a.value('--format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw usage(`--format: \`${format}\` (csv|json)`);
  const plotDir = a.value('--plot');
  const layers = a.value('--layers');
  if (layers !== undefined) opts.layers = layers.split(',').map((s) => s.trim()).filter(Boolean);
  const gates = [];
  for (let g = a.value('--fail-if'); g !== undefined; g = a.value('--fail-if')) gates.push(parseGate(g));
  const allowErrors = a.flag('--allow-errors');
  const unknown = a.list.find((x) => x.startsWith('--'));
  if (unknown) throw usage(`unknown option ${unknown}`);
  if (!a.list.length) throw usage('analyze needs a FILE, a folder of shards, a *.index.json, or hf://org/name');
  const path = a.list.length === 1 ? a.list[0] : a.list;

  let opened;
  try {
    opened = await openModel(path, opts);
  } catch (err) {
    // Option values are checked by the engine's parser: a usage error either way (exit 3).
    if (/^options: /.test(err.message)) throw usage(err.message.replace(/^options: /, ''));
    // The engine's errors of a single file start with its name already.
    const name = a.list.length === 1 ? a.list[0].split('/').pop() : null;
    throw new Failure(3, name && err.message.startsWith(`${name}: `) ? err.message : `${a.list.join(' ')}: ${err.message}`);
  }
  const { model, close, download } = opened;
  const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const fetched = () => {
    const d = download?.();
    return d ? ` · downloaded ${mib(d.bytes)} of ${mib(d.size)} (${d.requests} requests)` : '';
  };
  try {
    const t0 = performance.now();
    const info = model.info();
    for (const note of info.notes ?? []) writeAll(2, `note: ${note}\n`);
    let types = null;
    if (info.format === 'gguf') {
      const mix = Object.entries(info.dtypes ?? {}).map(([t, n]) => `${t}:${n}`);
      writeAll(2, `GGUF: ${info.tensors} tensors (${mix.join(', ')})\n`);
      const plan = model.plan();
      const dt = model.dtypes();
      types = new Map(plan.map((p, i) => [p.name, dt[i] ?? '']));
    }
    const plan = model.plan();
    const todo = plan.filter((p) => !p.skip);
    const sizes = todo.map((p) => (p.shape ?? []).reduce((x, y) => x * y, 1));
    const total = sizes.reduce((x, y) => x + y, 0);
    const tty = Boolean(process.stderr.isTTY);
    let done = 0;
    const progress = (i, name) => {
      // ETA from layer sizes, not counts: one big embedding outweighs many small layers.
      const secs = (performance.now() - t0) / 1000;
      const eta = done > 0 ? (secs / done) * (total - done) : 0;
      const width = 30;
      const filled = Math.min(width, total > 0 ? Math.floor((width * done) / total) : width);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${i}/${todo.length} ${name} ETA ${eta.toFixed(1)}s${fetched()}`;
      writeAll(2, tty ? `\r\x1b[2K${bar}` : `${bar}\n`);
    };
    for (const [i, p] of todo.entries()) {
      progress(i, p.name);
      model.analyze(Uint32Array.of(p.index), false);
      done += sizes[i];
    }
    progress(todo.length, '');
    if (tty) writeAll(2, '\n');
    const report = model.report();
    writeAll(2, `${report.layers.length} layers analysed, ${report.skipped.length} skipped, ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
    if (download?.()) writeAll(2, `${fetched().slice(3)}\n`);
    if (plotDir !== undefined) {
      let charts;
      try {
        charts = await writeModelCharts(model, plotDir);
      } catch (err) {
        throw new Failure(3, err.message);
      }
      for (const p of charts.problems) writeAll(2, `--plot: ${p}\n`);
      writeAll(2, `${charts.files.length} charts written to ${plotDir}\n`);
    }
    let out;
    if (format === 'csv') out = types ? withGgmlType(report, model.reportCsv(), types) : model.reportCsv();
    else out = types ? withGgmlType(report, undefined, types) : `${JSON.stringify(report, null, 2)}\n`;
    writeAll(1, out);
    // As the native CLI: a file with no analysable matrix (and no --layers filter) is bad input.
    if (!report.layers.length && opts.layers === undefined) {
      const reasons = report.skipped.slice(0, 10).map((s) => `\n  ${s.name}: ${s.skip ?? 'skipped'}`).join('');
      const more = report.skipped.length > 10 ? `\n  … and ${report.skipped.length - 10} more` : '';
      throw new Failure(3, `${[].concat(path).join(' ')}: no analysable weight matrix (${report.skipped.length} tensor(s), all skipped)${reasons}${more}`);
    }
    verdict(report, gates, allowErrors);
  } finally {
    close();
  }
}

export { rustNumber };

/** Rust's `{:.Ne}` (LowerExp with a precision): like toExponential, without a `+`. */
const rustExp = (x, n) => (Number.isFinite(x) ? x.toExponential(n).replace('e+', 'e') : rustNumber(x));
/** Rust's `{:.N}`. */
const rustFixed = (x, n) => (Number.isFinite(x) ? x.toFixed(n) : rustNumber(x));

/** The compare CSV, column for column as the core's `comparison_to_csv` (native CLI). */
export const COMPARE_COLUMNS = ['name', 'other_name', 'shape', 'kind', 'transposed', 'unpermuted', 'lora_rank', 'lora_scale', 'delta_fro', 'delta_rel_fro', 'delta_spectral_norm', 'delta_spectral_rel', 'delta_stable_rank', 'delta_erank', 'alpha_base', 'alpha_other', 'delta_alpha', 'overlap_left', 'overlap_right', 'intruders', 'intruders_right', 'intruder_sweep', 'chance_level', 'sqnr_db', 'farms_alpha_base', 'farms_alpha_other'];
export function compareCsv(report) {
  const cellOf = (l, c) => {
    const v = l[c];
    if (c === 'shape') return (v ?? []).join('x');
    if (c === 'intruder_sweep') return (v ?? []).join(';');
    if (v === null || v === undefined) return '';
    return rustNumber(v);
  };
  return `${COMPARE_COLUMNS.join(',')}\n${report.layers.map((l) => `${COMPARE_COLUMNS.map((c) => cellOf(l, c)).join(',')}\n`).join('')}`;
}

/** The folder of an adapter argument: the folder itself, or the folder of a file in it. */
function adapterDir(dir) {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  const folder = isDir ? dir : dirname(dir) || '.';
  const has = (f) => existsSync(`${folder}/${f}`);
  if (!has('adapter_config.json') && !has('adapter_model.safetensors') && !has('adapter_model.bin')) {
    throw new Failure(3, `${dir}: no adapter_config.json nor adapter_model.safetensors there`);
  }
  return folder;
}

async function compare(a) {
  const opts = {};
  const k = a.integer('--k');
  if (k !== undefined) opts.k = k;
  const maxElements = a.integer('--max-elements');
  if (maxElements !== undefined) opts.maxElements = maxElements;
  const epsText = a.value('--eps');
  if (epsText !== undefined) {
    const e = Number(epsText.trim());
    if (epsText.trim() === '' || Number.isNaN(e)) throw usage(`--eps: \`${epsText}\` is not a valid number`);
    opts.eps = e;
  }
  opts.alpha = !a.flag('--no-alpha');
  opts.farms = a.flag('--farms');
  const layers = a.value('--layers');
  if (layers !== undefined) opts.layers = layers.split(',').map((x) => x.trim()).filter(Boolean);
  const adapter = a.value('--adapter');
  const format = a.value('--format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw usage(`--format: \`${format}\` (csv|json)`);
  const gates = [];
  for (let g = a.value('--fail-if'); g !== undefined; g = a.value('--fail-if')) gates.push(parseGate(g));
  const unknown = a.list.find((x) => x.startsWith('--'));
  if (unknown) throw usage(`unknown option ${unknown}`);
  const pos = a.list;
  if (!((adapter !== undefined && pos.length === 1) || (adapter === undefined && pos.length === 2))) {
    throw usage('compare needs BASE OTHER, or BASE --adapter DIR');
  }
  let report;
  try {
    // Progress on stderr as the native CLI writes it: one line per layer, or one updating line on a terminal.
    const tty = process.stderr.isTTY;
    const progress = (done, total, layer) => {
      if (tty) process.stderr.write(layer ? `\r\x1b[2K[${done + 1}/${total}] ${layer}` : '\r\x1b[2K');
      else if (layer) process.stderr.write(`[${done + 1}/${total}] ${layer}\n`);
    };
    report = adapter !== undefined ? await compareAdapter(pos[0], adapterDir(adapter), opts, progress) : await compareModels(pos[0], pos[1], opts, progress);
  } catch (err) {
    if (err instanceof Failure) throw err;
    if (/^options: /.test(err.message)) throw usage(err.message.replace(/^options: /, ''));
    throw new Failure(3, err.message);
  }
  for (const n of report.notes ?? []) writeAll(2, `note: ${n}\n`);
  let out;
  if (format === 'json') {
    out = `${JSON.stringify(report, null, 2)}\n`;
  } else {
    for (const u of report.unmatched ?? []) writeAll(2, `unmatched (${u.side}): ${u.name}: ${u.reason}\n`);
    for (const u of report.skipped ?? []) writeAll(2, `skipped (${u.side}): ${u.name}: ${u.reason}\n`);
    out = compareCsv(report);
  }
  const s = report.summary;
  writeAll(2, `${s.layers} layers compared, ${s.unmatched} unmatched; intruders ${s.intruders} (ε = ${rustNumber(s.eps)}, k = ${s.k}), mean ΔW/W ${rustExp(s.delta_rel_fro, 4)}, SQNR ${rustFixed(s.sqnr_db_total, 2)} dB\n`);
  writeAll(1, out);
  // The native gate: numeric columns only (as serde_json's as_f64), exit 1 on any match.
  const num = (l, c) => (typeof l[c] === 'number' ? l[c] : undefined);
  const hits = [];
  for (const g of gates) {
    if (report.layers.every((l) => num(l, g.column) === undefined)) throw usage(`--fail-if: no layer has a numeric column \`${g.column}\``);
    for (const l of report.layers) {
      const x = num(l, g.column);
      if (x !== undefined && holds(g, { number: x }) === true) hits.push(`${l.name}: ${g.column} = ${rustNumber(x)} (${g.text})`);
    }
  }
  if (hits.length) throw new Failure(1, `--fail-if matched:\n${hits.join('\n')}`);
}

/** Rust's `{:?}` of an f64 (Debug: `.0` on whole numbers, an exponent below 1e-4 or from 1e16). */
export function rustDebug(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return rustNumber(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) return x.toExponential().replace('e+', 'e');
  const s = rustNumber(x);
  return s.includes('.') ? s : `${s}.0`;
}

/** A CSV field as the native CLI quotes it. */
const csvField = (s) => (/[,"\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** A progress line on stderr: one updating line on a terminal, else one line per step. */
function stepProgress(verb) {
  const tty = Boolean(process.stderr.isTTY);
  return (done, total, name) => {
    if (name) writeAll(2, tty ? `\r\x1b[2K[${done + 1}/${total}] ${verb} ${name}` : `[${done + 1}/${total}] ${verb} ${name}\n`);
    else if (tty) writeAll(2, '\r\x1b[2K');
  };
}

/** The engine's option errors (`options: …`) are usage errors; the rest is bad input. */
function engineFailure(err) {
  if (err instanceof Failure) return err;
  if (/^options: /.test(err.message)) return usage(err.message.replace(/^options: /, ''));
  // Node's fs errors: `path: reason`, as the native CLI words them.
  if (err.code && err.path) return new Failure(3, `${err.path}: ${err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}`);
  return new Failure(3, err.message);
}

/** The native `metrics` CSV: `metric,value` rows (crate/cli/src/metrics.rs). */
export function metricsCsv(out) {
  const r = out.report;
  const rows = [['n', r.n], ['d', r.d]];
  for (const v of out.vendi) rows.push([`vendi_${out.kernel}_q${v.q}`, v.score]);
  if (out.bandwidth !== null && out.bandwidth !== undefined) rows.push(['rbf_bandwidth', out.bandwidth]);
  const me = r.matrix_entropy;
  rows.push(
    ['vendi_linear_q1', r.vendi_linear?.q1],
    ['matrix_entropy', me?.entropy],
    ['matrix_entropy_normalized', me?.normalized_entropy],
    ['diff_erank_erank', me?.erank],
    ['roy_vetterli_erank', r.roy_vetterli_erank],
    ['stable_rank', r.stable_rank],
    ['nuclear_norm', r.nuclear_norm],
    ['mnn', r.mnn?.mnn],
    ['mnn_exact_nuclear_over_n', r.mnn?.nuclear_norm_over_n],
    ['dse_bits', r.dse_bits],
    ['uncomp_k', r.uncomp?.k],
    ['uncomp_normalized_entropy', r.uncomp?.normalized_entropy],
  );
  for (const c of out.per_class?.classes ?? []) {
    rows.push([`class_${c.label}_count`, c.count], [`class_${c.label}_vendi_${out.kernel}_q1`, c.score]);
  }
  return `metric,value\n${rows.map(([k, v]) => `${k},${v === null || v === undefined ? '' : rustNumber(v)}\n`).join('')}`;
}

async function metrics(a) {
  const opts = {};
  for (const [flag, key] of [['--tensor', 'tensor'], ['--labels', 'labels'], ['--q', 'q'], ['--kernel', 'kernel'], ['--bandwidth', 'bandwidth']]) {
    const v = a.value(flag);
    if (v !== undefined) opts[key] = v;
  }
  const format = a.value('--format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw usage(`--format: \`${format}\` (csv|json)`);
  const unknown = a.list.find((x) => x.startsWith('--'));
  if (unknown) throw usage(`unknown option ${unknown}`);
  if (a.list.length !== 1) throw usage('metrics needs exactly one FILE');
  let out;
  try {
    out = await embeddingMetrics(a.list[0], opts);
  } catch (err) {
    throw engineFailure(err);
  }
  for (const n of out.report.notes ?? []) writeAll(2, `note: ${n}\n`);
  writeAll(1, format === 'csv' ? metricsCsv(out) : `${JSON.stringify(out, null, 2)}\n`);
}

/** `compress --quant-plan`: as the native `run_quant_plan` (crate/cli/src/compress.rs). */
async function compressQuant(files, budgetText, format, planOut) {
  if (!files.length) throw usage('compress --quant-plan needs a FILE, a folder of shards, or a *.index.json');
  const t = budgetText.trim();
  const budget = t.endsWith('bpw') ? t : /^\d+$/.test(t) ? { bytes: Number(t) } : undefined;
  if (budget === undefined || (budget.bytes !== undefined && !Number.isSafeInteger(budget.bytes))) {
    throw usage(`--quant-plan: \`${budgetText}\` (e.g. 4.8bpw or a byte count)`);
  }
  let s;
  try {
    s = await quantPlanFile(files.length === 1 ? files[0] : files, budget, stepProgress('quantizing'));
  } catch (err) {
    const f = engineFailure(err);
    if (f.code === 3 && !f.showUsage && !f.message.startsWith(`${files.join(' ')}: `)) f.message = `${files.join(' ')}: ${f.message}`;
    throw f;
  }
  for (const l of s.layers.filter((x) => x.error)) writeAll(2, `${l.name}: skipped: ${l.error}\n`);
  const plan = s.plan;
  if (s.format === 'gguf') {
    const count = new Map();
    for (const c of plan.layers) count.set(c.ggml_type, (count.get(c.ggml_type) ?? 0) + 1);
    const planned = [...count].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    writeAll(2, `type mix of the planned tensors: file ${s.file_mix.map(([k, n]) => `${k}:${n}`).join(', ')}; plan ${planned.map(([k, n]) => `${k}:${n}`).join(', ')}\n`);
  }
  writeAll(2, `${plan.layers.length} layers, quantization plan: ${plan.bits_per_weight.toFixed(4)} bits per weight, ${plan.bytes} bytes, model relative error ${plan.model_rel_error.toFixed(5)}\n`);
  for (const r of s.recipes) {
    const same = r.plan_at_same_size;
    if (same) writeAll(2, `${r.recipe.name}: ${r.recipe.bits_per_weight.toFixed(4)} bpw, error ${r.recipe.model_rel_error.toFixed(5)}; plan at ≤ its size: ${same.bits_per_weight.toFixed(4)} bpw, error ${same.model_rel_error.toFixed(5)}\n`);
  }
  writeAll(2, `llama-quantize overrides: ${s.tensor_type_args.join(' ')}\n`);
  if (planOut !== undefined) {
    try {
      writeFileSync(planOut, `${s.plan_json}\n`);
    } catch (err) {
      throw new Failure(3, `${planOut}: ${err.message}`);
    }
  }
  if (format === 'csv') {
    const measured = s.layers.filter((l) => !l.error);
    const rows = measured.map((l, i) => {
      const c = plan.layers[i];
      return `${csvField(c.name)},${l.rows},${l.cols},${l.file_type},${c.ggml_type},${c.bytes},${rustDebug(c.rel_fro_error)}\n`;
    });
    writeAll(1, `tensor,rows,cols,file_type,type,bytes,rel_fro_error\n${rows.join('')}`);
  } else {
    const json = Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'format'));
    writeAll(1, `${JSON.stringify(json, null, 2)}\n`);
  }
}

const METHOD_NAME = { uniform: 'Uniform', energy: 'Energy', greedy: 'Greedy', welore: 'WeLore' };

async function compress(a) {
  const quantPlan = a.value('--quant-plan');
  const opts = {};
  for (const [flag, key] of [['--dtype', 'dtype'], ['--budget', 'budget'], ['--error', 'error'], ['--method', 'method'], ['--objective', 'objective']]) {
    const v = a.value(flag);
    if (v !== undefined) opts[key] = v;
  }
  const planOut = a.value('--plan');
  const format = a.value('--format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw usage(`--format: \`${format}\` (csv|json)`);
  const unknown = a.list.find((x) => x.startsWith('--'));
  if (unknown) throw usage(`unknown option ${unknown}`);
  if (quantPlan !== undefined) return compressQuant(a.list, quantPlan, format, planOut);
  if (a.list.length !== 1) throw usage('compress needs exactly one FILE');
  const path = a.list[0];
  let r;
  try {
    r = await compressFile(path, opts, stepProgress('spectrum of'));
  } catch (err) {
    throw engineFailure(err);
  }
  for (const s of r.skipped) writeAll(2, `${s.name}: skipped: ${s.reason}\n`);
  if (planOut !== undefined) {
    try {
      writeFileSync(planOut, `${r.planJson}\n`);
    } catch (err) {
      throw new Failure(3, `${planOut}: ${err.message}`);
    }
  }
  const pct = (100 * r.params) / Math.max(1, r.dense_params);
  writeAll(2, `${r.layers.length} layers, ${METHOD_NAME[r.method] ?? r.method} plan: ${r.params} of ${r.dense_params} parameters (${pct.toFixed(1)} %), ${r.bytes} of ${r.dense_bytes} bytes at ${r.dtype}, model relative error ${r.model_rel_error.toFixed(4)}\n`);
  if (r.methods.length) {
    writeAll(2, `model relative error by method: ${r.methods.map((m) => `${METHOD_NAME[m.method] ?? m.method} ${m.model_rel_error.toFixed(4)} (${m.params} params)`).join(', ')}\n`);
  }
  if (format === 'csv') {
    // `Precision::bytes` (crate/core/src/compress/mod.rs): the payload, plus one f32 scale per
    // group of 64 numbers for the integer types.
    const bits = { f32: 32, f16: 16, int8: 8, int4: 4 }[r.dtype];
    const bytes = (n) => Math.ceil((n * bits) / 8) + (bits <= 8 ? 4 * Math.ceil(n / 64) : 0);
    const rows = r.layers.map((l) => `${csvField(l.name)},${l.rows},${l.cols},${l.rank},${l.dense},${l.params},${bytes(l.params)},${rustDebug(l.rel_fro_error)}\n`);
    writeAll(1, `tensor,rows,cols,rank,dense,params,bytes,rel_fro_error\n${rows.join('')}`);
  } else {
    // The native JSON: the allocation without the API's extras.
    const json = Object.fromEntries(Object.entries(r).filter(([k]) => !['skipped', 'methods', 'planJson'].includes(k)));
    writeAll(1, `${JSON.stringify(json, null, 2)}\n`);
  }
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'analyze':
      return analyze(new Args(rest));
    case 'compare':
      return compare(new Args(rest));
    case 'metrics':
      return metrics(new Args(rest));
    case 'compress':
      return compress(new Args(rest));
    case 'demo':
      throw usage(`\`${cmd}\` is not yet in the npm CLI; use the native spectralab binary (cargo install --path crate/cli)`);
    case '--version':
    case '-V':
      writeAll(1, `spectralab ${VERSION} (wasm)\n`);
      return undefined;
    case undefined:
    case '--help':
    case '-h':
      writeAll(1, `${USAGE}\n`);
      return undefined;
    default:
      throw usage(`unknown command \`${cmd}\``);
  }
}

try {
  await main(process.argv.slice(2));
  process.exitCode = 0;
} catch (err) {
  if (err instanceof Failure) {
    writeAll(2, err.showUsage ? `spectralab: ${err.message}\n${USAGE}\n` : `spectralab: ${err.message}\n`);
    process.exitCode = err.code;
  } else {
    writeAll(2, `spectralab: ${err?.stack ?? err}\n`);
    process.exitCode = 3;
  }
}

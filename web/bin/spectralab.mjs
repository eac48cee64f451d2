#!/usr/bin/env node
// `npx spectralab`: the npm package's command line. The wasm engine in Node (../engine/node.mjs),
// reading model files by ranges; same flags, columns, CSV/JSON output and exit codes as the
// native `spectralab` (crate/cli). Exit codes: 0 ok, 1 a --fail-if gate matched, 2 a layer could
// not be analysed (status=error; --allow-errors accepts them), 3 bad input (usage error,
// unreadable or malformed file).
import { existsSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { compareAdapter, compareModels, openModel } from '../engine/node.mjs';

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
                          [--format csv|json] [--fail-if 'alpha>6']... [--allow-errors]
  spectralab compare BASE OTHER         [--k 10] [--eps 0.5] [--layers NAME,…] [--no-alpha] [--farms]
  spectralab compare BASE --adapter DIR [--format csv|json] [--fail-if 'intruders>0']...
                                        [--max-elements 16777216]
  spectralab --version

FILE may also be hf://org/name[@revision][/file] or an http(s) URL of a model file: read by HTTP
range requests, only the analysed layers are fetched; hub endpoint $HF_ENDPOINT (default
https://huggingface.co).

Not yet in the npm CLI (use the native spectralab binary): metrics, compress, demo,
and analyze --plot (the wasm charts measure text through a browser DOM).

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
  const errors = report.layers.filter((l) => l.status === 'error').map((l) => `${l.name}: ${l.reason ?? 'error'}`);
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
  if (a.value('--plot') !== undefined) {
    throw usage('--plot is not yet in the npm CLI: the wasm charts need a browser DOM to measure text; use the native spectralab binary for SVG charts');
  }
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

/** A number as Rust's `{}` (f64 Display: shortest round-trip digits, never an exponent). */
export function rustNumber(x) {
  if (typeof x !== 'number') return String(x);
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Object.is(x, -0)) return '-0';
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, d0, frac = '', e] = m;
  const exp = Number(e);
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${d0}${frac}`;
  return `${sign}${d0}${frac}${'0'.repeat(Math.max(0, exp - frac.length))}`;
}

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

async function main(argv) {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'analyze':
      return analyze(new Args(rest));
    case 'compare':
      return compare(new Args(rest));
    case 'metrics':
    case 'compress':
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

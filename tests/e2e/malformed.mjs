// End-to-end: malformed inputs get clear answers in the lab page, and the page keeps working.
//   node tests/e2e/malformed.mjs
// 1. A real PyTorch zip checkpoint dropped as pytorch_model.bin (tests/fixtures/torch/cli.pt):
//    the table equals the native CLI's numbers; a malicious pickle .bin shows "refusing to load".
// 2. A folder without a model: an error, and the table already shown stays.
// 3. The whole malformed corpus (tests/fixtures/malformed/corpus/manifest.json, make_corpus.py),
//    dropped one file after the other on one page: each shows its clear error (or its error rows),
//    never a wasm trap.
// 4. Writes (tests/fixtures/malformed/make_large.py) a safetensors file with 120 000 skipped
//    tensors and an .npz whose deflated member inflates to 1 GiB and opens each.
// 5. The example model still analyses afterwards; no console or page errors.
// Needs target/debug/spectralab (built by `cargo test`).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = mkdtempSync(join(tmpdir(), 'spectralab-malformed-'));
process.on('exit', () => rmSync(DIR, { recursive: true, force: true }));
const CORPUS = join(ROOT, 'tests/fixtures/malformed/corpus');
const CLI = join(ROOT, 'target/debug/spectralab');
const TRAP = /unreachable|RuntimeError|memory access out of bounds|Maximum call stack/i;
const mentionsOne = (text, needles) => needles.some((n) => text.toLowerCase().includes(n.toLowerCase()));

async function openAndWait(page, open) {
  const before = await page.evaluate(() => window.spectralabLab.runId);
  const t0 = Date.now();
  await open();
  await page.waitForFunction((n) => window.spectralabLab.runId > n && ['done', 'error', 'cancelled'].includes(window.spectralabLab.status), before, { timeout: 120_000 });
  // The run's `finally` re-enables the controls, then renders the table: wait for both.
  await page.waitForFunction(() => !document.querySelector('#lab-example').disabled, null, { timeout: 30_000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  const s = await page.evaluate(() => {
    const l = window.spectralabLab;
    return {
      status: l.status,
      error: l.error,
      rows: l.rows.length,
      errors: l.rows.filter((r) => r.status === 'error').map((r) => r.reason),
      skipped: l.skipped.length,
      skippedText: document.querySelector('#lab-skipped summary')?.textContent ?? '',
      skippedItems: document.querySelectorAll('#lab-skipped li').length,
      shown: document.querySelector('#lab-error')?.hidden === false ? document.querySelector('#lab-error').textContent : '',
      skippedReasons: l.skipped.map((x) => x.reason),
      rowList: l.rows.map((r) => ({ name: r.name, status: r.status, reason: r.reason, alpha: r.alpha, D: r.D, xmin: r.xmin, lambda_max: r.lambda_max, num_pl_spikes: r.num_pl_spikes, N: r.N, M: r.M })),
      tableRows: document.querySelectorAll('#lab-table tbody tr').length,
    };
  });
  s.ms = Date.now() - t0;
  return s;
}

/** Checks one corpus entry's outcome in the page; returns what is wrong ('' if nothing). */
function judge(e, s) {
  const text = `${s.shown} ${s.error ?? ''} ${s.errors.join(' ')}`;
  if (TRAP.test(text)) return `wasm trap or stack overflow: ${text}`;
  if (e.expect === 'error') {
    if (s.status !== 'error') return `status ${s.status}, expected error`;
    if (!s.shown) return 'no error shown in #lab-error';
    if (!mentionsOne(s.shown, e.message)) return `shown "${s.shown}" mentions none of ${JSON.stringify(e.message)}`;
    return '';
  }
  if (e.expect === 'nothing') {
    if (s.status !== 'error' || !/no analysable weight matrix/.test(s.shown)) return `expected the "no analysable weight matrix" error, got ${s.status}: "${s.shown}"`;
    if (!s.skippedItems) return 'the skipped list is not shown';
    const bad = s.skippedReasons.filter((r) => !mentionsOne(r ?? '', e.message));
    return bad.length ? `skip reasons ${JSON.stringify(bad)} mention none of ${JSON.stringify(e.message)}` : '';
  }
  if (s.status !== 'done') return `status ${s.status} (${s.shown}), expected analysed rows`;
  const problems = [];
  for (const name of e.error_rows) {
    const rows = name === '*' ? s.rowList : s.rowList.filter((r) => r.name === name);
    if (!rows.length) problems.push(`no row ${name}`);
    for (const r of rows) if (r.status !== 'error' || !mentionsOne(r.reason ?? '', e.message)) problems.push(`${r.name}: ${r.status} "${r.reason}"`);
  }
  for (const name of e.ok_rows) if (!s.rowList.some((r) => r.name === name && r.status !== 'error')) problems.push(`${name} not analysed`);
  if (s.tableRows < s.rowList.length) problems.push(`table shows ${s.tableRows} of ${s.rowList.length} rows`);
  return problems.join('; ');
}

async function main() {
  execFileSync('python3', [join(ROOT, 'tests/fixtures/malformed/make_large.py'), DIR], { stdio: 'inherit' });
  const manifest = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8'));
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tab = await newPage(browser);
  const { page } = tab;
  try {
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.spectralabLab && ['done', 'error'].includes(window.spectralabLab.status), null, { timeout: 60_000 });

    // 1. A real torch zip checkpoint as pytorch_model.bin, against the native CLI.
    const bin = join(DIR, 'pytorch_model.bin');
    copyFileSync(join(ROOT, 'tests/fixtures/torch/cli.pt'), bin);
    const torch = await guarded('pytorch_model.bin', () => openAndWait(page, () => page.setInputFiles('#lab-file', bin)));
    if (torch) {
      let native = null;
      if (existsSync(CLI)) native = JSON.parse(execFileSync(CLI, ['analyze', bin, '--format', 'json'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
      report('pytorch_model.bin (torch zip: f32 + transposed f16 storage) analyses in the page', torch.status === 'done' && torch.rowList.length === 2 && torch.errors.length === 0 && torch.tableRows === 2, JSON.stringify(torch.rowList));
      if (!native) report('native CLI available for the comparison', false, `${CLI} missing (cargo build -p spectralab-cli)`);
      else {
        const bad = [];
        let maxRel = 0;
        for (const n of native.layers) {
          const r = torch.rowList.find((x) => x.name === n.name);
          if (!r) {
            bad.push(`${n.name} missing`);
            continue;
          }
          for (const c of ['alpha', 'D', 'xmin', 'lambda_max']) {
            const rel = Math.abs(r[c] - n[c]) / Math.max(Math.abs(n[c]), 1e-300);
            maxRel = Math.max(maxRel, rel);
            if (!(rel <= 1e-9)) bad.push(`${n.name}.${c}: page ${r[c]} vs CLI ${n[c]}`);
          }
          for (const c of ['num_pl_spikes', 'N', 'M']) if (r[c] !== n[c]) bad.push(`${n.name}.${c}: page ${r[c]} vs CLI ${n[c]}`);
        }
        info(`pytorch_model.bin: ${native.layers.length} layers, max relative difference page vs native CLI ${maxRel.toExponential(1)}`);
        report('pytorch_model.bin: α, D, x_min, λ_max equal the native CLI (1e-9 relative), counts exactly', native.layers.length === 2 && bad.length === 0, bad.join('; '));
      }
    }
    const evil = await guarded('malicious .bin', () => openAndWait(page, () => page.setInputFiles('#lab-file', join(CORPUS, 'torch-os-system.bin'))));
    if (evil) report('a malicious pickle .bin shows "refusing to load: pickle calls posix.system"', evil.status === 'error' && /refusing to load: pickle calls posix\.system/.test(evil.shown), evil.shown);

    // 2. A folder with no model, dropped while a table is shown: an error, the table stays.
    const shownBefore = await openAndWait(page, () => page.setInputFiles('#lab-file', bin));
    const folder = manifest.entries.find((e) => e.directory);
    await page.setInputFiles('#lab-folder', join(CORPUS, folder.file));
    await page.waitForFunction(() => document.querySelector('#lab-error')?.hidden === false, null, { timeout: 10_000 }).catch(() => {});
    const afterFolder = await page.evaluate(() => ({ shown: document.querySelector('#lab-error').hidden ? '' : document.querySelector('#lab-error').textContent, rows: window.spectralabLab.rows.length, tableRows: document.querySelectorAll('#lab-table tbody tr').length }));
    report('a folder without a model shows "No model file…", and the table already shown stays', mentionsOne(afterFolder.shown, folder.message) && afterFolder.rows === shownBefore.rowList.length && afterFolder.tableRows === shownBefore.tableRows, JSON.stringify(afterFolder));

    // 3. The corpus, one file after the other.
    const t0 = Date.now();
    const failures = [];
    let n = 0;
    for (const e of manifest.entries) {
      if (e.directory) continue;
      n++;
      const s = await guarded(e.file, () => openAndWait(page, () => page.setInputFiles('#lab-file', join(CORPUS, e.file))));
      const why = s ? judge(e, s) : 'no answer';
      if (why) failures.push(`${e.file}: ${why}`);
    }
    info(`malformed corpus: ${n} files dropped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    report(`every malformed corpus file (${n}) shows its clear error or error rows in the page, no wasm trap`, failures.length === 0, failures.join(' | '));

    // 4. The two large inputs.
    const many = await guarded('120 000 tensors', () => openAndWait(page, () => page.setInputFiles('#lab-file', join(DIR, 'many-tensors.safetensors'))));
    if (many) {
      info(`120 000 skipped tensors: ${(many.ms / 1000).toFixed(1)} s; ${many.skippedItems} list items`);
      report('a header of 120 000 tensors: the weight is analysed, the skipped ones counted', many.status === 'done' && many.rows === 1 && many.errors.length === 0 && many.skipped === 120000 && /120000 tensor/.test(many.skippedText), JSON.stringify(many));
      report('the skipped list is capped (first 2000 + a “more” line)', many.skippedItems === 2001, String(many.skippedItems));
    }

    const big = await guarded('1 GiB deflated member', () => openAndWait(page, () => page.setInputFiles('#lab-file', join(DIR, 'inflates-1gib.npz'))));
    if (big) {
      const why = big.errors[0] ?? big.error ?? '';
      info(`1 GiB .npz member: ${(big.ms / 1000).toFixed(1)} s: ${why}`);
      report('an .npz member that inflates to 1 GiB is refused by name, not a wasm trap', big.errors.length === 1 && /max_tensor_bytes|too large|limit/i.test(why) && !/unreachable|RuntimeError/.test(why), JSON.stringify(big));
    }

    const after = await guarded('the example afterwards', () => openAndWait(page, () => page.click('#lab-example')));
    if (after) report('the page still works: the example analyses', after.status === 'done' && after.rows >= 30 && after.errors.length === 0, JSON.stringify({ status: after.status, rows: after.rows }));
    report('no console errors or page errors', tab.errors.length === 0, tab.errors.join(' | '));
  } finally {
    await browser.close();
    await server.close();
  }
  finish();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

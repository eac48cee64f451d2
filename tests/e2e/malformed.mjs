// End-to-end: inputs that used to break the page get clear answers, and the page keeps working.
//   node tests/e2e/malformed.mjs
// Writes (tests/fixtures/malformed/make_large.py) a safetensors file with 120 000 skipped tensors
// and an .npz whose deflated member inflates to 1 GiB, opens each in the lab, then the example.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = mkdtempSync(join(tmpdir(), 'spectralab-malformed-'));
process.on('exit', () => rmSync(DIR, { recursive: true, force: true }));

async function openAndWait(page, open) {
  const before = await page.evaluate(() => window.spectralabLab.runId);
  const t0 = Date.now();
  await open();
  await page.waitForFunction((n) => window.spectralabLab.runId > n && ['done', 'error', 'cancelled'].includes(window.spectralabLab.status), before, { timeout: 120_000 });
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
    };
  });
  s.ms = Date.now() - t0;
  return s;
}

async function main() {
  execFileSync('python3', [join(ROOT, 'tests/fixtures/malformed/make_large.py'), DIR], { stdio: 'inherit' });
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tab = await newPage(browser);
  const { page } = tab;
  try {
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.spectralabLab && ['done', 'error'].includes(window.spectralabLab.status), null, { timeout: 60_000 });

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

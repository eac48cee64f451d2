// Shared Playwright launch helper for the end-to-end tests: Debian's Chromium, headless, a fresh
// profile, nothing downloaded. Pages record every request URL and every console error / page error.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SPECTRALAB_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]);

/**
 * Launches headless Chromium. `chromium.launch` gives every browser a fresh temporary profile
 * (removed on close), and every `newPage` below gets its own context.
 */
export async function launchBrowser({ headless = true, args = [] } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless,
    args: [...CHROMIUM_ARGS, ...args],
  });
}

/**
 * Opens a page in a new, isolated browser context.
 * Returns `{ page, context, requests, errors, close() }`:
 *   requests  every request URL issued by the page and its workers (when `collectRequests`)
 *   errors    console errors and uncaught page errors, as strings
 */
export async function newPage(browser, { collectRequests = true, viewport = { width: 1200, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  if (collectRequests) {
    // Context-level: also sees requests of dedicated workers (the engine and rayon workers).
    context.on('request', (req) => requests.push(req.url()));
  }
  // Console messages of dedicated workers (engine, rayon pool) arrive here too.
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`${msg.worker() ? 'worker ' : ''}console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('crash', () => errors.push('page crashed'));
  return { page, context, requests, errors, close: () => context.close() };
}

/** Requests that left `origin` (data: and same-origin blob: URLs are local, not requests). */
export function foreignRequests(requests, origin) {
  return requests.filter((u) => {
    if (u.startsWith('data:')) return false;
    if (u.startsWith('blob:')) return !u.startsWith(`blob:${origin}/`);
    try {
      return new URL(u).origin !== origin;
    } catch {
      return true;
    }
  });
}

/** Clicks `selector` and returns the download it starts: `{name, text}` (UTF-8). */
export async function download(page, selector, timeout = 15_000) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout }), page.click(selector)]);
  return { name: dl.suggestedFilename(), text: readFileSync(await dl.path(), 'utf8') };
}

/** Switches the lab page to the tab `id` (`lab`, `compare`, `compress`, `quant`, `metrics`, …). */
export async function showTab(page, id) {
  await page.evaluate((h) => {
    location.hash = h;
  }, id);
  await page.waitForSelector(`[data-tab="${id}"]:not(.tab-off)`, { state: 'visible', timeout: 15_000 });
}

// Static file server for the lab, the bench page and the e2e tests. No dependencies.
//
//   /            → static/
//   /web/…       → web/           (engine, app, chart, widgets, pkg/<variant>/ builds)
//   /bench/…     → bench/web/
//   /dist/…      → dist/          (the packaged widgets, `npm run build`)
//
// With isolation (default) every response carries COOP: same-origin + COEP: require-corp, so
// `crossOriginIsolated` is true and the threaded build can use SharedArrayBuffer.
// `--no-isolation` serves the same files without those headers (how a docs page would).
// /docs-example.html and /dist/… never get them: the widgets must work on pages without
// isolation. /dist/… also sends `Access-Control-Allow-Origin: *` (embeddable from any origin);
// `--cors` sends it everywhere.
// Binds 127.0.0.1 only. CLI: node scripts/serve.mjs [--port 8080] [--no-isolation] [--cors]
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MOUNTS = [
  ['/web/', join(ROOT, 'web')],
  ['/bench/', join(ROOT, 'bench', 'web')],
  ['/dist/', join(ROOT, 'dist')],
  ['/', join(ROOT, 'static')],
];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.npy': 'application/octet-stream', '.npz': 'application/octet-stream',
  '.safetensors': 'application/octet-stream', '.csv': 'text/csv', '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

function resolvePath(urlPath) {
  for (const [prefix, dir] of MOUNTS) {
    if (urlPath === prefix.slice(0, -1) || urlPath.startsWith(prefix)) {
      const rel = decodeURIComponent(urlPath.slice(prefix.length)) || 'index.html';
      const file = normalize(join(dir, rel));
      if (file !== dir && !file.startsWith(dir + sep)) return null; // path traversal
      return file;
    }
  }
  return null;
}

/** Paths served without COOP/COEP even when the server isolates: the widgets' docs page and dist/. */
export const UNISOLATED = (path) => path === '/docs-example.html' || path === '/dist' || path.startsWith('/dist/');

/**
 * Starts a server; resolves to `{ url, port, close() }`. `port: 0` picks a free port.
 * `cors`: send `Access-Control-Allow-Origin: *` on every response (dist/ always gets it).
 */
export function startServer({ port = 0, isolation = true, cors = false, host = '127.0.0.1', log = false } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = resolvePath(url.pathname);
    try {
      if (file && statSync(file).isDirectory()) file = join(file, 'index.html');
    } catch { /* falls through to 404 */ }
    let st = null;
    try { st = file && statSync(file); } catch { st = null; }
    const headers = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'cross-origin' };
    if (cors || UNISOLATED(url.pathname)) headers['Access-Control-Allow-Origin'] = '*';
    if (isolation && !UNISOLATED(url.pathname)) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    if (!st || !st.isFile()) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      res.end('not found');
      if (log) console.log(`404 ${req.url}`);
      return;
    }
    if (url.pathname.startsWith('/dist/')) {
      // The packaged widgets are cached like on a static host: revalidated on every use (304),
      // so a rebuilt dist/ is picked up, and V8 can reuse its compiled-wasm cache.
      headers['Cache-Control'] = 'no-cache';
      headers['Last-Modified'] = st.mtime.toUTCString();
      const since = Date.parse(req.headers['if-modified-since'] ?? '');
      if (Number.isFinite(since) && Math.floor(st.mtimeMs / 1000) * 1000 <= since) {
        res.writeHead(304, headers);
        res.end();
        if (log) console.log(`304 ${req.url}`);
        return;
      }
    }
    headers['Content-Type'] = TYPES[extname(file)] ?? 'application/octet-stream';
    headers['Content-Length'] = st.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).pipe(res);
    if (log) console.log(`200 ${req.url}`);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const p = server.address().port;
      ok({ url: `http://${host}:${p}`, port: p, close: () => new Promise((c) => server.close(c)) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const pi = args.indexOf('--port');
  const port = pi >= 0 ? Number(args[pi + 1]) : 8080;
  const isolation = !args.includes('--no-isolation');
  const { url } = await startServer({ port, isolation, cors: args.includes('--cors'), log: args.includes('--log') });
  console.log(`Spectralab serving ${url}/ (${isolation ? 'cross-origin isolated' : 'no isolation headers'}) — Ctrl-C to stop`);
}

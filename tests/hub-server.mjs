// A local imitation of the Hugging Face Hub for tests (never the real internet):
//   GET /<org>/<name>/resolve/<rev>/<file>  → 302 to /cdn/<token>/<org>/<name>/<file> (as the Hub
//                                             redirects to its CDN), or 404 / 401; *.json files
//                                             (regular files, as an index) answer 200 whole
//   GET /cdn/…                              → the file; a single `Range: bytes=a-b` gets 206 +
//                                             Content-Range (clipped to the file, as RFC 9110 says)
// GET /__stats (and /__reset, which also zeroes them) returns the counters as JSON.
// Every answer carries CORS headers (Access-Control-Allow-Origin: *, Access-Control-Expose-Headers:
// Content-Range, Content-Length). Counts requests, preflights and body bytes served.
//
// Models (`repos`, name → folder of files), and behaviours chosen by the repo name:
//   test/minilm            static/examples/minilm-l6-encoder-f16.safetensors as model.safetensors
//   test/sharded           the folder given as `sharded` (model.safetensors.index.json + shards)
//   test/no-range          as test/minilm, but the CDN ignores Range (200 + the whole file)
//   test/expiring          as test/minilm, but each CDN link works for 2 requests, then 403
//   test/torch             tests/fixtures/torch/cli.pt as pytorch_model.bin (the fallback chain)
//   test/gated             401 (what the Hub answers for gated, private and unknown repos)
//   anything else          404
//
//   import { startHub } from '../hub-server.mjs';
//   const hub = await startHub({ sharded: DIR });  // hub.url, hub.stats, hub.reset(), hub.close()
//   node tests/hub-server.mjs [--port N] [--sharded DIR]   (prints "hub URL" on stdout)
import { createServer } from 'node:http';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const MINILM_F16 = join(ROOT, 'static/examples/minilm-l6-encoder-f16.safetensors');
export const TORCH_BIN = join(ROOT, 'tests/fixtures/torch/cli.pt');

/** Starts the hub; resolves to {url, port, stats, reset(), close()}. Binds 127.0.0.1. */
export function startHub({ port = 0, sharded = null, host = '127.0.0.1' } = {}) {
  const single = { 'model.safetensors': MINILM_F16 };
  const repos = {
    'test/minilm': single,
    'test/no-range': single,
    'test/expiring': single,
    'test/torch': { 'pytorch_model.bin': TORCH_BIN },
  };
  if (sharded) repos['test/sharded'] = { dir: sharded };
  const stats = { requests: 0, resolves: 0, cdn: 0, preflights: 0, bytes: 0, statuses: {}, ranges: [] };
  const reset = () => Object.assign(stats, { requests: 0, resolves: 0, cdn: 0, preflights: 0, bytes: 0, statuses: {}, ranges: [] });
  let tokens = 0;
  const uses = new Map(); // expiring links: token → requests so far

  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges',
    'Cross-Origin-Resource-Policy': 'cross-origin',
  };
  const fileOf = (repo, file) => {
    const r = repos[repo];
    if (!r) return null;
    if (r.dir) {
      if (file.includes('..') || file.includes('/')) return null;
      const p = join(r.dir, file);
      try {
        return statSync(p).isFile() ? p : null;
      } catch {
        return null;
      }
    }
    return r[file] ?? null;
  };

  const server = createServer((req, res) => {
    if (req.url === '/__stats' || req.url === '/__reset') {
      // Counters for tests in other languages (not counted themselves).
      const body = JSON.stringify(stats);
      if (req.url === '/__reset') reset();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(body);
    }
    stats.requests++;
    const send = (status, headers = {}, body = '') => {
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      res.writeHead(status, { ...cors, ...headers });
      res.end(body);
    };
    if (req.method === 'OPTIONS') {
      stats.preflights++;
      return send(204, { 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Allow-Methods': 'GET, HEAD' });
    }
    const url = new URL(req.url, 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'cdn') {
      // /<org>/<name>/resolve/<rev>/<file>
      stats.resolves++;
      if (parts.length < 5 || parts[2] !== 'resolve') return send(404, { 'Content-Type': 'text/plain' }, 'not found');
      const repo = `${parts[0]}/${parts[1]}`;
      if (repo === 'test/gated') return send(401, { 'Content-Type': 'text/plain', 'X-Error-Code': 'GatedRepo' }, 'Access to model test/gated is restricted.');
      const file = parts.slice(4).join('/');
      const path = fileOf(repo, file);
      if (!path) return send(404, { 'Content-Type': 'text/plain', 'X-Error-Code': 'EntryNotFound' }, 'Entry not found');
      if (file.endsWith('.json')) {
        // Regular (non-LFS) files are served by the Hub itself, here without Range support.
        const body = readFileSync(path);
        stats.bytes += body.length;
        return send(200, { 'Content-Type': 'application/json', 'Content-Length': body.length }, body);
      }
      const token = `t${++tokens}`;
      return send(302, { Location: `/cdn/${token}/${parts[0]}/${parts[1]}/${encodeURIComponent(file)}` });
    }
    // /cdn/<token>/<org>/<name>/<file>
    stats.cdn++;
    const [, token, org, name, ...rest] = parts;
    const repo = `${org}/${name}`;
    const path = fileOf(repo, rest.join('/'));
    if (!path) return send(404, { 'Content-Type': 'text/plain' }, 'not found');
    if (repo === 'test/expiring') {
      const n = (uses.get(token) ?? 0) + 1;
      uses.set(token, n);
      if (n > 2) return send(403, { 'Content-Type': 'text/plain' }, 'Request has expired');
    }
    const size = statSync(path).size;
    const range = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range && repo !== 'test/no-range') {
      start = Number(range[1]);
      end = range[2] === undefined ? size - 1 : Math.min(Number(range[2]), size - 1);
      if (start >= size || end < start) return send(416, { 'Content-Range': `bytes */${size}` });
      status = 206;
    } else if (req.headers.range && repo !== 'test/no-range') {
      return send(416, { 'Content-Range': `bytes */${size}` }); // several ranges: not served
    }
    const n = end - start + 1;
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': n, 'Accept-Ranges': 'bytes' };
    if (status === 206) {
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
      stats.ranges.push([start, end]);
    }
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
    res.writeHead(status, { ...cors, ...headers });
    if (req.method === 'HEAD') return res.end();
    // Streamed in 1 MiB pieces; bytes count what was written (a client may hang up early).
    const fd = openSync(path, 'r');
    let pos = start;
    const pump = () => {
      while (pos <= end) {
        const buf = Buffer.allocUnsafe(Math.min(1 << 20, end - pos + 1));
        const got = readSync(fd, buf, 0, buf.length, pos);
        pos += got;
        stats.bytes += got;
        if (!res.write(buf.subarray(0, got))) return res.once('drain', pump);
      }
      closeSync(fd);
      res.end();
    };
    res.on('close', () => {
      if (pos <= end) {
        pos = end + 1;
        closeSync(fd);
      }
    });
    pump();
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const p = server.address().port;
      ok({
        url: `http://${host}:${p}`,
        port: p,
        stats,
        reset,
        close: () => new Promise((c) => {
          server.closeAllConnections?.();
          server.close(c);
        }),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = (k) => (args.indexOf(k) >= 0 ? args[args.indexOf(k) + 1] : undefined);
  const hub = await startHub({ port: Number(at('--port') ?? 0), sharded: at('--sharded') ?? null });
  console.log(`hub ${hub.url}`);
  process.on('SIGTERM', () => hub.close().then(() => process.exit(0)));
}

/**
 * Starts the hub in a child process (needed when the test's own thread blocks on synchronous
 * reads, as node.mjs's remote reader does). Resolves to {url, stats(), reset(), close()}.
 */
export async function spawnHub({ sharded = null } = {}) {
  const { spawn } = await import('node:child_process');
  const args = [fileURLToPath(import.meta.url)];
  if (sharded) args.push('--sharded', sharded);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^hub (\S+)/m.exec(out);
      if (m) ok(m[1]);
    });
    child.once('exit', (code) => fail(new Error(`the hub server exited (${code})`)));
  });
  // node:http without keep-alive: a test's thread may block longer than the server keeps an idle
  // socket, and a reused stale socket fails.
  const { get: httpGet } = await import('node:http');
  const get = (path) => new Promise((ok, fail) => {
    httpGet(url + path, { agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => ok(JSON.parse(text)));
    }).on('error', fail);
  });
  return {
    url,
    stats: () => get('/__stats'),
    reset: () => get('/__reset'),
    close: () => new Promise((ok) => {
      child.once('exit', ok);
      child.kill('SIGTERM');
    }),
  };
}

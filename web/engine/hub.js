// Models on the Hugging Face Hub (or any HTTP server that honours Range), read by byte ranges:
// the wasm session reads synchronously through `readAt(offset, length)`, and each call becomes
// (at most) one `Range: bytes=a-b` GET. Nothing else is sent: no token, no custom header (so no
// CORS preflight), no user data. Used by the engine worker (synchronous XHR) and by node.mjs
// (a worker thread doing fetch); both pass a `transport` with the same shape:
//
//   transport(url, start, end, {whole}) → {status, url, contentRange, body: Uint8Array}
//     url: the final URL after redirects; contentRange: the Content-Range header or null.
//     A network failure throws. The body of a 200 is read only with `whole` (small JSON files:
//     the Hub serves regular, non-LFS files itself, and may answer those with a plain 200).
//
// Resolution: the first read of a file goes to `<endpoint>/<org>/<name>/resolve/<rev>/<file>`;
// the Hub answers with a 302 to its CDN, which the transport follows. The final URL and the
// total size (from Content-Range) are remembered; later reads go straight to the CDN. A CDN link
// that expired (403/410) is resolved again once. A 200 (the server ignored Range and sent the
// whole file) and a size that changes between reads are errors: never a silent whole download.

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Smallest request: reads below it (headers, small tensors) fetch this much and are cached. */
export const MIN_READ = 256 << 10;
/** Sequential reads (a layer streamed by row blocks) double their request size up to this. */
export const MAX_READ_AHEAD = 8 << 20;
/** Largest index file fetched. */
const MAX_INDEX = 64 << 20;
/** Files tried, in order, when only a repository is named. */
export const CANDIDATES = ['model.safetensors.index.json', 'model.safetensors', 'pytorch_model.bin.index.json', 'pytorch_model.bin'];

const SEGMENT = /^[A-Za-z0-9][\w.-]*$/;

/** Error of a model reference or of the server (a readable message, never a stack of HTTP details). */
export class HubError extends Error {}

/**
 * Parses what a user pastes: `org/name`, `org/name@rev`, `hf://org/name[@rev][/file]`,
 * `https://huggingface.co/org/name[/tree/rev]`, a `…/resolve/<rev>/<file>` or `…/blob/<rev>/<file>`
 * URL, or any other http(s) URL of one file. Returns
 *   {kind: 'repo', repo, revision, endpoint, label}   or
 *   {kind: 'file', url, file, dirUrl, label}          (dirUrl: the folder, for an index's shards)
 * `endpoint` (hub-relative forms only) defaults to https://huggingface.co.
 */
export function parseModelRef(spec, endpoint = DEFAULT_ENDPOINT) {
  const text = String(spec ?? '').trim();
  if (!text) throw new HubError('no model given: paste org/name or a https://…/resolve/main/<file> URL');
  const ep = String(endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  let rest = null;
  if (/^hf:\/\//i.test(text)) rest = text.slice(5);
  else if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) rest = text;
  if (rest !== null) {
    const parts = rest.split('/').filter(Boolean);
    if (parts.length < 2) throw new HubError(`${text}: expected org/name (e.g. sentence-transformers/all-MiniLM-L6-v2)`);
    let [org, name, ...file] = parts;
    let revision = 'main';
    const at = name.indexOf('@');
    if (at >= 0) {
      revision = name.slice(at + 1);
      name = name.slice(0, at);
    }
    if (!SEGMENT.test(org) || !SEGMENT.test(name) || !revision) throw new HubError(`${text}: not a model id (org/name, optionally @revision)`);
    const repo = `${org}/${name}`;
    if (file.length) {
      const dir = `${ep}/${repo}/resolve/${encodeURIComponent(revision)}/`;
      const path = file.map(encodeURIComponent).join('/');
      return fileRef(new URL(path, dir).href, `${repo}@${revision}/${file.join('/')}`);
    }
    return { kind: 'repo', repo, revision, endpoint: ep, label: revision === 'main' ? repo : `${repo}@${revision}` };
  }
  let u;
  try {
    u = new URL(text);
  } catch {
    throw new HubError(`${text}: not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new HubError(`${text}: only http(s) URLs can be read`);
  const p = u.pathname.split('/').filter(Boolean);
  // Hub layouts: /org/name, /org/name/tree/rev, /org/name/(resolve|blob)/rev/file…
  if (p.length >= 5 && (p[2] === 'resolve' || p[2] === 'blob')) {
    p[2] = 'resolve';
    u.pathname = `/${p.join('/')}`;
    u.search = '';
    return fileRef(u.href, `${p[0]}/${p[1]}@${decodeURIComponent(p[3])}/${p.slice(4).map(decodeURIComponent).join('/')}`);
  }
  if ((p.length === 2 || (p.length === 4 && p[2] === 'tree')) && !/\.[a-z]+$/i.test(p[1])) {
    const revision = p.length === 4 ? decodeURIComponent(p[3]) : 'main';
    const repo = `${p[0]}/${p[1]}`;
    return { kind: 'repo', repo, revision, endpoint: u.origin, label: revision === 'main' ? repo : `${repo}@${revision}` };
  }
  return fileRef(u.href, decodeURIComponent(p.at(-1) ?? u.host));
}

function fileRef(url, label) {
  const file = decodeURIComponent(new URL(url).pathname.split('/').pop());
  return { kind: 'file', url, file, dirUrl: new URL('.', url).href, label };
}

/** Parses `bytes a-b/total`; null when absent or malformed. */
function parseContentRange(v) {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+)$/i.exec(String(v ?? '').trim());
  return m ? { start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) } : null;
}

const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/**
 * Byte counters shared by every file of a model: `{requests, bytes, size}` (size: the sum of the
 * resolved files' lengths). `onChange(stats)` is called after every request.
 */
export function createStats(onChange) {
  const stats = { requests: 0, bytes: 0, size: 0, files: 0 };
  stats.note = (bytes) => {
    stats.requests++;
    stats.bytes += bytes;
    if (onChange) onChange({ requests: stats.requests, bytes: stats.bytes, size: stats.size, files: stats.files });
  };
  return stats;
}

/** Explains a failed status for `what` (a file of `label`). */
function statusError(status, what, url) {
  const err = statusMessage(status, what, url);
  err.status = status;
  return err;
}

function statusMessage(status, what, url) {
  if (status === 401 || status === 403) {
    return new HubError(`${what}: HTTP ${status}: the model is gated or private, or does not exist (the Hub answers 401 for all three). Spectralab sends no token: accept the terms / sign in on the Hub, download the files and open them from disk.`);
  }
  if (status === 404) return new HubError(`${what}: not found (HTTP 404 for ${url})`);
  if (status === 416) return new HubError(`${what}: the server refused the byte range (HTTP 416)`);
  return new HubError(`${what}: HTTP ${status} from ${url}`);
}

/**
 * One remote file read by ranges. `open()` resolves it (first request, which also fetches its
 * first MIN_READ bytes); then `readAt(offset, length)` is the wasm source's reader.
 */
export class RangeFile {
  constructor(url, name, transport, stats) {
    this.resolveUrl = url;
    this.name = name;
    this.transport = transport;
    this.stats = stats;
    this.url = null; // final URL (after the redirect)
    this.length = null;
    this.cache = []; // [{start, bytes}] most recent last
    this.nextSeq = -1; // end of the last read, for read-ahead
    this.ahead = MIN_READ;
    // A small JSON file (an index) may come whole, as a 200; model files never.
    this.small = /\.json$/i.test(name);
    this.whole = null;
  }

  /**
   * Resolves the file: follows the redirect, learns its size (and caches its first MIN_READ
   * bytes). `asyncTransport` (same shape, returning a promise) may be used for this first
   * request: it can hang up on a 200 before the body arrives, which a synchronous XHR cannot.
   */
  async open(asyncTransport) {
    const t = asyncTransport ?? this.transport;
    const r = await this.request(() => t(this.resolveUrl, 0, MIN_READ - 1, { whole: this.small }));
    this.accept(r, 0, MIN_READ - 1, this.resolveUrl);
    return this;
  }

  /** Runs one transport call (sync or async), naming network failures. */
  request(call) {
    const fail = (err) => {
      throw new HubError(`${this.name}: network error (${err?.message || err}): the server is unreachable, offline, or does not allow cross-origin reads`);
    };
    try {
      const r = call();
      return r && typeof r.then === 'function' ? r.then((x) => x, fail) : r;
    } catch (err) {
      return fail(err);
    }
  }

  /** GETs bytes start..=end (clipped by the server to the file). Returns the body. */
  fetchRange(start, end, resolving = false, retried = false) {
    const url = resolving || !this.url ? this.resolveUrl : this.url;
    const r = this.request(() => this.transport(url, start, end));
    if ((r.status === 403 || r.status === 410) && !resolving && !retried) {
      // The CDN's signed link expired: resolve the file again through the Hub, once.
      this.stats.note(r.body ? r.body.byteLength : 0);
      this.url = null;
      return this.fetchRange(start, end, true, true);
    }
    return this.accept(r, start, end, url);
  }

  /** Checks one answer (206, Content-Range, size unchanged), counts and caches it. */
  accept(r, start, end, url) {
    this.stats.note(r.body ? r.body.byteLength : 0);
    if (r.status === 200 && this.small && this.length === null && r.body && r.body.byteLength <= MAX_INDEX) {
      this.length = r.body.byteLength;
      this.stats.size += this.length;
      this.stats.files++;
      this.whole = r.body;
      return r.body;
    }
    if (r.status === 200) {
      throw new HubError(`${this.name}: the server ignored the byte range (HTTP 200 instead of 206) and would send the whole file; refusing to download it whole (download it and open it from disk)`);
    }
    if (r.status !== 206) throw statusError(r.status, this.name, url);
    const cr = parseContentRange(r.contentRange);
    if (!cr) throw new HubError(`${this.name}: the 206 answer has no readable Content-Range (the server must expose it to cross-origin reads: Access-Control-Expose-Headers: Content-Range)`);
    if (this.length === null) {
      this.length = cr.total;
      this.stats.size += cr.total;
      this.stats.files++;
    } else if (cr.total !== this.length) {
      throw new HubError(`${this.name}: the file changed on the server (${this.length} bytes, now ${cr.total})`);
    }
    const want = Math.min(end, this.length - 1);
    if (cr.start !== start || cr.end !== want || r.body.byteLength !== want - start + 1) {
      throw new HubError(`${this.name}: the server sent bytes ${cr.start}-${cr.end} (${r.body.byteLength} bytes) for the range ${start}-${want}`);
    }
    if (r.url) this.url = r.url;
    this.remember(start, r.body);
    return r.body;
  }

  remember(start, bytes) {
    if (bytes.byteLength > MAX_READ_AHEAD) return;
    this.cache.push({ start, bytes });
    if (this.cache.length > 6) this.cache.shift();
  }

  /** Synchronous positioned read: exactly `length` bytes at `offset`. */
  readAt(offset, length) {
    const start = Number(offset);
    const n = Number(length);
    if (start + n > this.length) throw new HubError(`${this.name}: read of ${n} bytes at ${start} past the end (${this.length} bytes)`);
    if (this.whole) return this.whole.slice(start, start + n);
    const out = new Uint8Array(n);
    // The cached prefix (a header chunk, the read-ahead of the previous tensor) is not fetched again.
    let pos = start;
    for (let hit = true; hit && pos < start + n; ) {
      hit = false;
      for (const c of this.cache) {
        const cEnd = c.start + c.bytes.byteLength;
        if (pos >= c.start && pos < cEnd) {
          const take = Math.min(cEnd, start + n) - pos;
          out.set(c.bytes.subarray(pos - c.start, pos - c.start + take), pos - start);
          pos += take;
          hit = true;
          break;
        }
      }
    }
    if (pos === start + n) return out;
    // Small reads fetch at least MIN_READ; sequential reads (row blocks of one streamed layer)
    // double their read-ahead up to MAX_READ_AHEAD; a jump elsewhere starts over.
    this.ahead = start === this.nextSeq ? Math.min(this.ahead * 2, MAX_READ_AHEAD) : MIN_READ;
    this.nextSeq = start + n;
    const rest = start + n - pos;
    const body = this.fetchRange(pos, Math.min(pos + Math.max(rest, this.ahead), this.length) - 1);
    out.set(body.subarray(0, rest), pos - start);
    return out;
  }

  /** The whole (small) file, e.g. an index. */
  readAll(limit = MAX_INDEX) {
    if (this.length > limit) throw new HubError(`${this.name}: ${mib(this.length)} is too large for an index file`);
    return this.readAt(0, this.length);
  }

  /** The source object the wasm `Model` takes. */
  source(name = this.name) {
    return { name, length: this.length, readAt: (o, l) => this.readAt(o, l) };
  }
}

/** Opens one file, returning null on 404 when `optional`. */
async function tryOpen(url, name, transport, stats, optional, openTransport) {
  const f = new RangeFile(url, name, transport, stats);
  try {
    return await f.open(openTransport);
  } catch (err) {
    if (optional && err.status === 404) return null;
    throw err;
  }
}

/** The shard file names of a Hugging Face index (`weight_map` values), in first-use order. */
export function indexShards(bytes, name) {
  let doc;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new HubError(`${name}: not JSON (${err.message})`);
  }
  const map = doc && typeof doc === 'object' ? doc.weight_map : null;
  if (!map || typeof map !== 'object') throw new HubError(`${name}: no weight_map object`);
  const shards = [...new Set(Object.values(map).map(String))];
  for (const s of shards) {
    if (s.includes('..') || s.startsWith('/') || /^[a-z]+:/i.test(s)) throw new HubError(`${name}: refusing shard path \`${s}\``);
  }
  return shards;
}

/**
 * Opens a remote model (async: files are resolved with `openTransport` when given, else with
 * `transport`): resolves its files (an index and its shards, or one file) and returns
 * `{label, files: [{name, length, readAt}], stats}` for the wasm `Model`. Only headers (and the
 * index) are fetched here; tensors are fetched when a layer is analysed.
 */
export async function openRemote(spec, { endpoint, transport, openTransport, onFetch } = {}) {
  if (typeof transport !== 'function') throw new Error('openRemote: no transport');
  const ref = parseModelRef(spec, endpoint);
  const stats = createStats(onFetch);
  let index = null;
  let single = null;
  let dirUrl;
  if (ref.kind === 'repo') {
    dirUrl = `${ref.endpoint}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/`;
    for (const c of CANDIDATES) {
      const f = await tryOpen(dirUrl + c, c, transport, stats, true, openTransport);
      if (!f) continue;
      if (c.endsWith('.index.json')) index = f;
      else single = f;
      break;
    }
    if (!index && !single) {
      throw new HubError(`${ref.label}: none of ${CANDIDATES.join(', ')} found at revision ${ref.revision} (HTTP 404). Check the id; for GGUF or other files paste the file's …/resolve/${ref.revision}/<file> URL.`);
    }
  } else {
    dirUrl = ref.dirUrl;
    const f = await tryOpen(ref.url, ref.file, transport, stats, false, openTransport);
    if (/\.index\.json$/i.test(ref.file)) index = f;
    else single = f;
  }
  const files = [];
  if (index) {
    const shards = indexShards(index.readAll(), index.name);
    files.push(index.source());
    for (const s of shards) {
      const url = new URL(s.split('/').map(encodeURIComponent).join('/'), dirUrl).href;
      files.push((await new RangeFile(url, s, transport, stats).open(openTransport)).source());
    }
  } else files.push(single.source());
  return { label: ref.label, files, stats };
}

/**
 * An asynchronous transport over fetch (the page's worker and Node, for resolving): only a 206's
 * body is read; any other answer is aborted before its body is downloaded.
 */
export async function fetchTransport(url, start, end, { whole = false } = {}) {
  const ctl = new AbortController();
  const get = () => fetch(url, { headers: { Range: `bytes=${start}-${end}` }, signal: ctl.signal });
  // One retry of a failed connection (a kept-alive socket the server closed meanwhile); a GET
  // of a range is idempotent.
  const res = await get().catch(() => get());
  let body = new Uint8Array(0);
  if (res.status === 206 || (whole && res.status === 200)) body = new Uint8Array(await res.arrayBuffer());
  else ctl.abort();
  return { status: res.status, url: res.url || url, contentRange: res.headers.get('Content-Range'), body };
}

/** A transport over synchronous XMLHttpRequest (dedicated Workers only: the engine worker). */
export function xhrTransport(url, start, end) {
  const xhr = new XMLHttpRequest();
  xhr.open('GET', url, false);
  xhr.responseType = 'arraybuffer';
  xhr.setRequestHeader('Range', `bytes=${start}-${end}`);
  xhr.send();
  if (xhr.status === 0) throw new Error('the request failed');
  return {
    status: xhr.status,
    url: xhr.responseURL || url,
    contentRange: xhr.getResponseHeader('Content-Range'),
    body: new Uint8Array(xhr.response ?? new ArrayBuffer(0)),
  };
}

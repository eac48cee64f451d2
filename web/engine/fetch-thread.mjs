// Worker thread of node.mjs's remote reader: the wasm session reads synchronously, so the main
// thread posts one range request, blocks on an Atomics.wait, and takes the answer with
// receiveMessageOnPort. Here: a plain fetch with a `Range` header (redirects followed), the body
// read only for a 206; any other answer is reported without downloading its body.
import { parentPort, workerData } from 'node:worker_threads';

const { signal, port, timeoutMs } = workerData;

parentPort.on('message', async ({ url, start, end }) => {
  let out;
  try {
    const res = await fetch(url, {
      headers: { Range: `bytes=${start}-${end}` },
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
    let body = new Uint8Array(0);
    if (res.status === 206) body = new Uint8Array(await res.arrayBuffer());
    else await res.body?.cancel().catch(() => {});
    out = { status: res.status, url: res.url, contentRange: res.headers.get('content-range'), body };
  } catch (err) {
    out = { error: [err?.message, err?.cause?.message, err?.cause?.code].filter(Boolean).join(': ') };
  }
  port.postMessage(out, out.body ? [out.body.buffer] : []);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});

// The TAP-like reporting every end-to-end script shares: one line per check ("ok - …" /
// "not ok - …: detail"), "# …" lines for measurements, and an exit code that counts failures.

let failures = 0;
const t0 = Date.now();

/** A "# …" line (measurements, context). */
export const info = (msg) => console.log(`# ${msg}`);

/** Records one check. */
export function report(name, ok, detail = '') {
  if (ok) console.log(`ok - ${name}`);
  else {
    failures++;
    console.log(`not ok - ${name}${detail ? `: ${detail}` : ''}`);
  }
}

/** Runs `fn`; a throw becomes a failed check named `name` (first line of the message). */
export async function guarded(name, fn) {
  try {
    return await fn();
  } catch (err) {
    report(name, false, (err?.message ?? String(err)).split('\n')[0]);
    return undefined;
  }
}

/** Prints the summary line and exits with 0 (all passed) or 1. */
export function finish() {
  console.log(`# ${failures === 0 ? 'all checks passed' : `${failures} check(s) failed`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(failures === 0 ? 0 : 1);
}

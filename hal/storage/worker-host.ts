/**
 * Starts a worker thread from a module beside the caller, in a development checkout
 * (TypeScript run through tsx) as on the SD image (compiled `.js` under dist/). A worker
 * does not inherit tsx's loader hooks from a process that registered them through its API
 * (bin/run-entry.js), so a `.ts` worker is started from a small CommonJS bootstrap that
 * registers tsx first; a `.js` worker is imported as it is.
 */
import { Worker } from 'node:worker_threads';

const BOOT = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.__tsx) { const { register } = await import(workerData.__tsx); register(); }
  await import(workerData.__entry);
})().catch((err) => { setImmediate(() => { throw err; }); });`;

/** A worker running `entry` (a file URL from `new URL('./x.js', import.meta.url)`) with `data`. */
export function startWorker(entry: URL, data: Record<string, unknown>): Worker {
  let href = entry.href;
  let tsx = '';
  if (href.endsWith('.js') && import.meta.url.endsWith('.ts')) {
    // Running the sources: the worker is the .ts file beside this one.
    href = `${href.slice(0, -3)}.ts`;
  }
  if (href.endsWith('.ts')) tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(BOOT, {
    eval: true,
    workerData: { ...data, __entry: href, __tsx: tsx },
    stdout: false,
    stderr: false,
  });
}

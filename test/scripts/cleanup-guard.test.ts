// guardProcess (scripts/lib/cleanup.ts), which the demo, fleet-sim and the benchmarks
// install before they start anything: an uncaught exception, an unhandled rejection,
// SIGINT and SIGTERM each run the cleanup to the end (temp dir removed, child process
// killed, loop device detached) and exit non-zero; a MissingToolError prints one line.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loopsUnder } from '../../hal/drives/loop-device.js';
import { isRoot } from '../helpers/loop-device.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/guarded-child.ts');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const CASES = [
  { mode: 'throw', signal: undefined, code: 1, says: /unexpected error, cleaning up: SyntaxError/ },
  { mode: 'reject', signal: undefined, code: 1, says: /a promise nobody awaited/ },
  { mode: 'wait', signal: 'SIGINT', code: 130, says: /SIGINT: cleaning up/ },
  { mode: 'wait', signal: 'SIGTERM', code: 143, says: /SIGTERM: cleaning up/ },
  {
    mode: 'missing',
    signal: undefined,
    code: 1,
    says: /^guarded-child: guarded-child: socat is not installed; install it with `apt-get install -y socat` [^\n]*\n$/,
  },
] as const;

for (const c of CASES) {
  t.test(`${c.signal ?? c.mode}: everything released, exit ${c.code}`, async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'guarded-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, c.mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const ready = new Promise<{ sleepPid: number; device?: string }>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    t.teardown(() => child.kill('SIGKILL'));
    const info = await ready;
    t.ok(alive(info.sleepPid), 'the child process ran');
    if (isRoot()) t.match(info.device, /^\/dev\/loop\d+$/, 'a loop device was attached');
    if (c.signal) child.kill(c.signal);
    t.equal(await exited, c.code, `exit ${c.code}\n${err}`);
    t.match(err, c.says);
    t.notOk(existsSync(dir), 'the temp dir is removed');
    t.notOk(alive(info.sleepPid), 'the child process is gone');
    t.same(await loopsUnder(dir), [], 'no loop device left');
  });
}

// scripts/bench/hub-server.ts, the bench:hub child that runs one hub: a `stats` poll with
// `rss: false` (the bench's polls while kiosks connect and come back after a SIGKILL) does not
// force a full GC. gc() on a hub holding thousands of sessions is a 50-160 ms mark-compact of
// the event loop; polled every ~100 ms during the recovery it took ~45 % of the survivor's time.
// --trace-gc prints every collection; a forced one (gc()) says "testing".
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const HUB_SERVER = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../scripts/bench/hub-server.ts',
);

type Msg = { type: string; [k: string]: unknown };

function next(child: ChildProcess, type: string): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Msg) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => reject(new Error(`hub-server exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

t.test(
  'stats with rss: false answers without a forced GC; plain stats still measures',
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-hub-server-'));
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--trace-gc', '--import', 'tsx', HUB_SERVER, dir, '0'],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    t.teardown(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.resume();
    const ready = await next(child, 'ready');
    t.type(ready.rss, 'number', 'the idle RSS is measured (after a gc())');

    for (let i = 0; i < 3; i++) {
      child.send({ type: 'stats', rss: false });
      const polled = await next(child, 'stats');
      t.equal(polled.rss, undefined, 'a poll carries no RSS');
      t.equal(polled.connected, 0);
    }
    child.send({ type: 'stats' });
    const measured = await next(child, 'stats');
    t.type(measured.rss, 'number', 'plain stats still measures the RSS');

    child.send({ type: 'stop' });
    await next(child, 'stop');
    t.equal(await exited, 0);
    // All of stdout is in once the pipe ends.
    if (!child.stdout!.readableEnded)
      await new Promise((resolve) => child.stdout!.once('end', resolve));
    const forced = out.split('\n').filter((l) => l.includes('testing')).length;
    t.equal(forced, 2, 'one forced GC at ready, one for the plain stats, none for the three polls');
  },
);

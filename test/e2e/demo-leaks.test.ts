// The demo releases everything it started on every way out: SIGINT or SIGTERM in the
// middle of its start (while disks are attached, while kioskd processes connect, while they
// pre-stage their films disks: mounted, copying); and
// what it needs and does not find is said in one line with the install command, exit 1,
// no stack trace, nothing started. (A crash: test/scripts/cleanup-guard.test.ts; a
// normal stop after "ready": demo-interactive.test.ts.)
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { chooseBacking } from '../../scripts/lib/sim-disks.js';
import { requireRoot } from '../helpers/loop-device.js';
import { pathWithout } from '../helpers/tools.js';
import { leftovers, startDemoChild, within } from './demo-child.js';

// Five demo starts and stops as children: 170 s seen beside the suite at load 30-40, near the
// suite's 180 s per file.
t.setTimeout(360_000);

const NOTHING = { processes: [], loops: [], mounts: [] };
const STACK = /\n\s+at .*:\d+:\d+\)?\n/;

for (const [signal, at, code] of [
  ['SIGINT', 'paying the renter deposit... ok', 130],
  ['SIGTERM', 'started 3 kioskd processes', 143],
  ['SIGINT', 'kiosks preparing their stock', 130],
] as const) {
  t.test(`${signal} during the start (after "${at}") leaves nothing behind`, async (t) => {
    const demo = await startDemoChild(t, []);
    await demo.waitForOutput(at, 90_000);
    process.kill(demo.proc.pid!, signal);
    const how = await within(demo.exited, 60_000, 'still running 60 s after the signal');
    const out = demo.output();
    t.equal(how, code, `exit ${code}\n${out.slice(-2000)}`);
    t.match(out, `${signal}: stopping before the demo was ready`);
    t.match(out, 'stopped: ');
    t.notMatch(out, 'ready: press Ctrl-C');
    t.notMatch(out, STACK, 'no stack trace');
    t.same(await leftovers(demo.dir), NOTHING, 'no kioskd, socat, loop device or mount left');
    const images = readdirSync(path.join(demo.dir, 'disks')).filter((f) => f.endsWith('.img'));
    t.same(images, [], 'the disk image files are removed');
  });
}

t.test('rsync missing: one line with the install command, exit 1, nothing started', async (t) => {
  const demo = await startDemoChild(t, ['--scripted'], {
    env: { PATH: pathWithout(t, ['rsync']) },
  });
  const how = await within(demo.exited, 30_000, 'still running after 30 s');
  const out = demo.output();
  t.equal(how, 1, 'exit 1');
  t.equal(
    out,
    'demo: rsync is not installed; install it with `apt-get install -y rsync` (as root; scripts/setup-system.sh installs all the project uses)\n',
    'exactly one line',
  );
  t.notOk(existsSync(path.join(demo.dir, 'hub')), 'no hub started');
  t.same(await leftovers(demo.dir), NOTHING);
});

t.test(
  'loop disks without the exFAT tools: one line for --disks loop; else directories, said',
  async (t) => {
    if (!requireRoot(t)) return;
    const PATH = pathWithout(t, ['mkfs.exfat']);
    const loop = await startDemoChild(t, ['--disks', 'loop'], { env: { PATH } });
    t.equal(await within(loop.exited, 30_000, 'still running'), 1, 'exit 1');
    t.match(
      loop.output(),
      /^demo: loop-device disks: mkfs\.exfat is not installed; install it with `apt-get install -y exfatprogs` \(as root; [^\n]*\)\n$/,
      'exactly one line naming the package',
    );
    t.same(await leftovers(loop.dir), NOTHING);
    // By default the demo falls back to directory disks and says why (the choice it starts with).
    const saved = process.env.PATH;
    process.env.PATH = PATH;
    t.teardown(() => {
      process.env.PATH = saved;
    });
    const chosen = chooseBacking();
    t.equal(chosen.backing, 'directory');
    t.match(
      chosen.note,
      /^loop-device disks: mkfs\.exfat is not installed; .*; using directory-backed disks instead$/,
    );
    t.throws(() => chooseBacking('loop'), { code: 'ENOTOOL' });
    process.env.PATH = saved;
    t.same(chooseBacking(), { backing: 'loop' }, 'with the tools: loop devices');
  },
);

// `npm run demo -- --scripted`: one rent, one reservation with pickup, one return at
// another kiosk, through the real hub API and three real kioskd processes (checks in
// scripted-checks.ts). Run without socat on the PATH (the board simulators behind Unix
// sockets; loop-device disks as root: the run that, before the fallback, died with a
// `spawn socat ENOENT` stack trace and left 9 loop devices attached) and with
// directory-backed disks (what non-root users get). The default run, socat and loop
// devices, is the quick-start test's (quick-start.test.ts).
import t from 'tap';
import { isRoot } from '../helpers/loop-device.js';
import { pathWithout } from '../helpers/tools.js';
import { startDemoChild, within } from './demo-child.js';
import { checkScriptedRun } from './scripted-checks.js';

// Two scripted demos, each bounded at 150 s, whose kiosks pre-stage their films disks before
// the run (126 s for both seen on a loaded 2-core machine): more than the suite's 180 s per file.
t.setTimeout(360_000);

t.test('scripted demo without socat: Unix-socket boards, nothing left behind', async (t) => {
  const demo = await startDemoChild(t, ['--scripted'], {
    env: { PATH: pathWithout(t, ['socat']) },
  });
  const how = await within(demo.exited, 150_000, 'still running after 150 s');
  const out = demo.output();
  t.equal(how, 0, `exit 0\n${out.slice(-3000)}`);
  t.match(
    out,
    /^board simulator on a pty: socat is not installed; install it with `apt-get install -y socat` .*; the kiosks reach their board simulators over a Unix socket instead$/m,
    'one line says socat is missing, how to install it, and what is used instead',
  );
  t.notMatch(out, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  await checkScriptedRun(t, demo, isRoot() ? 'loop' : 'directory');
});

t.test('scripted demo with directory-backed disks', async (t) => {
  const demo = await startDemoChild(t, ['--scripted', '--disks', 'directory']);
  const how = await within(demo.exited, 150_000, 'still running after 150 s');
  t.equal(how, 0, `exit 0\n${demo.output().slice(-3000)}`);
  await checkScriptedRun(t, demo, 'directory');
});

// A technician at a terminal: kioskctl (bin/kioskctl.js, a real child process) in tmux,
// ejecting a disk with the confirmation typed in, against a real kioskd's socket.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { haveTools } from '../../helpers/tools.js';
import { startCtlRig } from './ctl-rig.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });

async function screenMatches(session: string, re: RegExp, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  let screen = '';
  while (Date.now() < end) {
    screen = tmux('capture-pane', '-p', '-t', session);
    if (re.test(screen)) return screen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`screen never showed ${re}; it shows:\n${screen}`);
}

t.test('eject with confirmation, typed in a terminal', async (t) => {
  if (!haveTools(t, ['tmux'], 'the terminal test')) return;
  const rig = await startCtlRig(t);
  rig.stock(3);
  const session = `kioskctl-${process.pid}`;
  tmux('new-session', '-d', '-x', '120', '-y', '40', '-s', session, 'bash --norc --noprofile');
  t.teardown(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {}
  });
  const cmd = `KIOSKCTL_USER=tech-bob ${process.execPath} ${path.join(root, 'bin/kioskctl.js')} --config ${rig.configFile} slot eject 3; echo "exit=$?"`;
  tmux('send-keys', '-t', session, cmd, 'Enter');
  await screenMatches(session, /Eject the disk in slot 3\? \[y\/N\]/);
  t.equal(rig.sim.ejectCount(3), 0, 'nothing moves before the answer');
  tmux('send-keys', '-t', session, 'y', 'Enter');
  const screen = await screenMatches(session, /exit=\d+/);
  t.match(screen, /slot 3: disk disk-3 ejected; take it out\. Slot is now empty\./);
  t.match(screen, /exit=0/);
  t.equal(rig.sim.ejectCount(3), 1);
  await rig.until('audit', () =>
    rig
      .eventsOf('TechnicianAction')
      .some((e) => e.action === 'slot.eject' && e.actor === 'tech-bob'),
  );
});

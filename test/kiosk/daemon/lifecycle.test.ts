import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { silentLogger } from '../../../kiosk/log.js';
import { main } from '../../../kiosk/main.js';
import { SystemdNotifier } from '../../../kiosk/systemd.js';
import { FEATURE_NAMES } from '../../../protocol/index.js';
import { haveTools } from '../../helpers/tools.js';
import { startRig, tempDir } from './harness.js';

t.test(
  'start: relays safe, slots created, Boot + Inventory; stop: relays safe, db closed',
  async (t) => {
    const rig = await startRig(t, { loaded: [] });
    t.equal(rig.hub.boots[0]?.slotCount, 4);
    t.equal(rig.hub.boots[0]?.bootReason, 'PowerOn');
    t.same(rig.hub.boots[0]?.features, FEATURE_NAMES, 'it lists every protocol feature');
    t.equal(rig.hub.inventories[0]?.slots.length, 4);
    for (let s = 1; s <= 4; s++)
      t.equal(await rig.gpio.getWriteProtect(s), true, `relay ${s} safe`);
    await rig.daemon.stop();
    t.notOk(rig.daemon.db.open, 'database closed');
    const last = new Map(rig.gpio.relayLog.map((r) => [r.slot, r.protect]));
    t.same([...last.values()], [true, true, true, true], 'every relay left write-protected');
  },
);

t.test('Boot carries the package version and, on an SD image, the image version', async (t) => {
  const dir = tempDir(t, 'kioskd-image-version-');
  const file = path.join(dir, 'image-version');
  writeFileSync(file, '0.1.0+20261123\n');
  const rig = await startRig(t, {
    loaded: [],
    deps: { maintenance: { imageVersionFile: file, socketPath: path.join(dir, 'k.sock') } },
  });
  t.match(rig.hub.boots[0]?.softwareVersion, /^\d+\.\d+\.\d+/);
  t.equal(rig.hub.boots[0]?.imageVersion, '0.1.0+20261123');
});

t.test('main: --help, a config typo names the key', async (t) => {
  t.equal(await main(['--help']), 0);
  const dir = tempDir(t);
  const file = path.join(dir, 'bad.json');
  writeFileSync(
    file,
    JSON.stringify({
      kioskId: 'k',
      dataDir: dir,
      hub: { url: 'ws://x/kiosk', secret: 's', publicKeyPem: 'p' },
      slots: { count: 1 },
      hardware: {},
      slotz: 1,
    }),
  );
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['--config', file]);
  } finally {
    process.stderr.write = write;
  }
  t.equal(code, 78);
  t.match(chunks.join(''), /\/hardware\/motorBoard|\/slotz/);
});

t.test('systemd: READY=1 and WATCHDOG=1 reach NOTIFY_SOCKET through systemd-notify', async (t) => {
  if (!haveTools(t, ['socat', 'systemd-notify'], 'the sd_notify test')) return;
  const dir = tempDir(t);
  const sock = path.join(dir, 'notify');
  const socat = spawn('socat', ['-u', `UNIX-RECV:${sock}`, 'STDOUT'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.teardown(() => socat.kill());
  let got = '';
  socat.stdout.on('data', (d: Buffer) => {
    got += d.toString();
  });
  const deadline = Date.now() + 5000;
  while (!(await import('node:fs')).existsSync(sock) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  const n = new SystemdNotifier({
    env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '200000' },
    log: silentLogger(),
  });
  t.equal(n.watchdogIntervalMs, 100);
  await n.ready('test');
  const until = Date.now() + 5000;
  while (!/WATCHDOG=1/.test(got) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  await n.stopping();
  t.match(got, /READY=1/);
  t.match(got, /WATCHDOG=1/);
  t.notOk(
    new SystemdNotifier({ env: {}, log: silentLogger() }).enabled,
    'off without NOTIFY_SOCKET',
  );
});

// systemd units of the image, checked by systemd-analyze verify against a root with the
// units installed (a parse warning counts as a failure: verify only warns on them).
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { haveTools } from '../helpers/tools.js';
import { hasLines, makeFakeRoot, stubApp, systemdAnalyze } from './fake-root.js';

const UNITS = [
  'kioskd.service',
  'disk-kiosk-storage.socket',
  'disk-kiosk-storage@.service',
  'disk-kiosk-config.service',
  'disk-kiosk-enrol.service',
  'disk-kiosk-growdata.service',
  'disk-kiosk-update-reboot.path',
  'disk-kiosk-update-reboot.service',
  'disk-kiosk-trial-guard.service',
];

const verify = (root: string, units: string[]) =>
  systemdAnalyze(root, ['verify', '--man=no', ...units]);

t.test('every unit verifies cleanly', async (t) => {
  if (!haveTools(t, ['systemd-analyze'], 'the unit checks')) return;
  const root = makeFakeRoot(t);
  stubApp(root);
  const res = verify(root.dir, UNITS);
  t.equal(res.output, '', 'no warnings or errors');
  t.equal(res.status, 0, 'systemd-analyze verify exit code');
});

t.test('a broken unit is caught', async (t) => {
  if (!haveTools(t, ['systemd-analyze'], 'the unit checks')) return;
  const root = makeFakeRoot(t);
  stubApp(root);
  const file = root.path('etc/systemd/system/kioskd.service');
  writeFileSync(
    file,
    root.read('etc/systemd/system/kioskd.service').replace('Type=notify', 'Type=notifyy'),
  );
  t.match(verify(root.dir, ['kioskd.service']).output, /Failed to parse service type/);
  writeFileSync(
    file,
    root.read('etc/systemd/system/kioskd.service').replace(/^ExecStart=.*$/m, 'ExecStart=/nope'),
  );
  t.not(verify(root.dir, ['kioskd.service']).status, 0, 'a missing binary fails verify');
});

t.test('kioskd.service: notify, watchdog, restart, unprivileged and sandboxed', async (t) => {
  const root = makeFakeRoot(t);
  const unit = root.read('etc/systemd/system/kioskd.service');
  hasLines(t, unit, [
    'Type=notify',
    'WatchdogSec=30s',
    'Restart=on-failure',
    'User=kiosk',
    'SupplementaryGroups=dialout gpio kiosk-slots kiosk-keypad kiosk-tech',
    'DeviceAllow=char-input r',
    'StateDirectory=disk-kiosk',
    'RuntimeDirectory=disk-kiosk',
    'ProtectSystem=strict',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'DevicePolicy=closed',
    'DeviceAllow=char-ttyUSB rw',
    'DeviceAllow=char-gpiochip rw',
    'DeviceAllow=block-sd rw',
  ]);
  t.notMatch(unit, /^AmbientCapabilities=.+$/m, 'no ambient capabilities');
  const sock = root.read('etc/systemd/system/disk-kiosk-storage.socket');
  t.match(sock, /^SocketGroup=kiosk$/m);
  t.match(sock, /^SocketMode=0660$/m);
});

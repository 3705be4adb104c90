// First-boot scripts from the installed root: apply-config.mjs (kiosk.conf -> kioskd.json,
// timezone, hostname, network) and enrol.mjs (calls `kioskd enrol`, then removes the
// token from kiosk.conf), run with --root on a fake root.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { type FakeRoot, makeFakeRoot } from './fake-root.js';

const LIBEXEC = 'usr/libexec/disk-kiosk';

function provision(root: FakeRoot, conf: string): void {
  mkdirSync(root.path('boot/firmware'), { recursive: true });
  writeFileSync(root.path('boot/firmware/kiosk.conf'), conf);
  mkdirSync(root.path('usr/share/zoneinfo/Europe'), { recursive: true });
  writeFileSync(root.path('usr/share/zoneinfo/Europe/Berlin'), 'TZif');
}

function run(root: FakeRoot, script: string, ...args: string[]) {
  const res = spawnSync(
    process.execPath,
    [root.path(`${LIBEXEC}/${script}`), '--root', root.dir, ...args],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

t.test(
  'apply-config writes kioskd.json, timezone, hostname and network from kiosk.conf',
  async (t) => {
    const root = makeFakeRoot(t);
    provision(
      root,
      [
        '# provisioning',
        'KIOSK_ID=berlin-hbf-01',
        'HUB_URL=https://hub.example.com',
        'ENROL_TOKEN=abc',
        'TIMEZONE=Europe/Berlin',
        'WIFI_SSID="Kiosk Net"',
        'WIFI_PSK=correct horse battery',
        'HARDWARE=sim',
        'SLOTS=24',
        'NONSENSE=1',
        '',
      ].join('\r\n'),
    );
    const res = run(root, 'apply-config.mjs');
    t.equal(res.status, 0, res.out);
    t.match(res.out, /unknown key NONSENSE/);
    const cfg = JSON.parse(root.read('etc/disk-kiosk/kioskd.json'));
    t.equal(cfg.kioskId, 'berlin-hbf-01');
    t.equal(cfg.hub.url, 'wss://hub.example.com/kiosk');
    t.equal(cfg.hub.secretFile, '/var/lib/disk-kiosk/credentials/secret');
    t.equal(cfg.dataDir, '/var/lib/disk-kiosk');
    t.equal(cfg.slots.count, 24);
    t.equal(cfg.maintenanceSocket, '/run/disk-kiosk/kioskd.sock');
    t.same(Object.values(cfg.hardware), Array(5).fill({ driver: 'sim' }));
    t.equal(statSync(root.path('etc/disk-kiosk/kioskd.json')).mode & 0o777, 0o640);
    t.equal(root.read('etc/timezone'), 'Europe/Berlin\n');
    t.equal(root.read('etc/hostname'), 'kiosk-berlin-hbf-01\n');
    t.match(root.read('run/systemd/network/10-disk-kiosk-wired.network'), /^DHCP=yes$/m);
    const wpa = root.read('etc/wpa_supplicant/wpa_supplicant-wlan0.conf');
    t.match(wpa, /ssid="Kiosk Net"/);
    t.match(wpa, /psk="correct horse battery"/);
    t.equal(
      statSync(root.path('etc/wpa_supplicant/wpa_supplicant-wlan0.conf')).mode & 0o777,
      0o600,
    );
  },
);

t.test(
  'apply-config: technician overrides on the data partition win; bad values are refused',
  async (t) => {
    const root = makeFakeRoot(t);
    provision(
      root,
      'KIOSK_ID=bad id!\nHUB_URL=http://10.0.2.100:8080\nETH_ADDRESS=192.168.1.50/24\nETH_GATEWAY=192.168.1.1\n',
    );
    mkdirSync(root.path('var/lib/disk-kiosk/config'), { recursive: true });
    writeFileSync(
      root.path('var/lib/disk-kiosk/config/kioskd.local.json'),
      '{"hardware":{"motorBoard":{"baudRate":57600}}}',
    );
    const res = run(root, 'apply-config.mjs');
    t.equal(res.status, 0, res.out);
    t.match(res.out, /KIOSK_ID "bad id!" refused/);
    const cfg = JSON.parse(root.read('etc/disk-kiosk/kioskd.json'));
    t.equal(cfg.kioskId, 'unprovisioned');
    t.equal(cfg.hub.url, 'ws://10.0.2.100:8080/kiosk');
    t.same(cfg.hardware.motorBoard, { driver: 'real', path: '/dev/kiosk-board', baudRate: 57600 });
    const wired = root.read('run/systemd/network/10-disk-kiosk-wired.network');
    t.match(wired, /^Address=192\.168\.1\.50\/24$/m);
    t.match(wired, /^Gateway=192\.168\.1\.1$/m);
    t.notMatch(wired, /DHCP/);
  },
);

function stubKioskctl(root: FakeRoot, exitCode: number): string {
  const stub = root.path('stub-kioskctl');
  const log = root.path('kioskctl-calls.log');
  writeFileSync(
    stub,
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\ntf=$(echo "$*" | sed -n 's/.*--token-file \\([^ ]*\\).*/\\1/p')\ncat "$tf" >> '${log}'; echo >> '${log}'\nexit ${exitCode}\n`,
  );
  chmodSync(stub, 0o755);
  return stub;
}

t.test('enrol calls kioskctl enrol with a token file, then removes the token', async (t) => {
  const root = makeFakeRoot(t);
  provision(
    root,
    'KIOSK_ID=k1\nHUB_URL=http://127.0.0.1:9\nENROL_TOKEN=tok-123\nTIMEZONE=Etc/UTC\n',
  );
  const res = run(root, 'enrol.mjs', '--kioskctl', stubKioskctl(root, 0));
  t.equal(res.status, 0, res.out);
  const calls = root.read('kioskctl-calls.log').split('\n');
  t.match(
    calls[0],
    /^--config \/etc\/disk-kiosk\/kioskd\.json enrol --hub http:\/\/127\.0\.0\.1:9 --token-file \S+\/token$/,
  );
  t.equal(calls[1], 'tok-123', 'the token reached kioskd through the file');
  const conf = root.read('boot/firmware/kiosk.conf');
  t.match(conf, /^ENROL_TOKEN=$/m);
  t.notMatch(conf, /tok-123/);
  t.match(conf, /^KIOSK_ID=k1$/m, 'the rest of kiosk.conf is kept');
  t.match(conf, /^# enrolled .*token removed$/m);
  const again = run(root, 'enrol.mjs', '--kioskctl', stubKioskctl(root, 0));
  t.match(again.out, /nothing to do/);
});

t.test('enrol keeps the token and fails when kioskctl enrol fails', async (t) => {
  const root = makeFakeRoot(t);
  provision(root, 'KIOSK_ID=k1\nHUB_URL=http://127.0.0.1:9\nENROL_TOKEN=tok-123\n');
  const res = run(root, 'enrol.mjs', '--kioskctl', stubKioskctl(root, 3));
  t.equal(res.status, 1);
  t.match(res.out, /kioskctl enrol failed \(exit 3\)/);
  t.match(root.read('boot/firmware/kiosk.conf'), /^ENROL_TOKEN=tok-123$/m);
  t.same(
    spawnSync('sh', ['-c', `ls -d ${path.join(root.dir, 'run')}/disk-kiosk-enrol-* 2>/dev/null`], {
      encoding: 'utf8',
    }).stdout.trim(),
    '',
    'the token file is gone',
  );
});

t.test('storage helper refuses anything but slot disks and safe names', async (t) => {
  const root = makeFakeRoot(t);
  const helper = root.path(`${LIBEXEC}/storage-helper`);
  const cases: Array<[string[], RegExp]> = [
    [['mount', '/dev/mmcblk0p2', 'x'], /only slot disks/],
    [['format', '/dev/sda;reboot', 'L'], /only slot disks/],
    [['mount', '/dev/sdzz', 'x'], /not a block device/],
    [['umount', '../../etc'], /mount name '..\/..\/etc' refused/],
    [['format', '/dev/sdzz'], /usage: format DEV LABEL/],
    [['chmod', '/dev/sda'], /unknown verb 'chmod'/],
  ];
  for (const [args, re] of cases) {
    const res = spawnSync(helper, args, { encoding: 'utf8' });
    t.equal(res.status, 2, `${args.join(' ')} refused`);
    t.match(res.stdout, re);
    t.match(res.stdout, /\nexit 2\n$/);
  }
  const served = spawnSync(helper, ['--serve'], {
    input: 'wipefs\n/dev/vda\n\n',
    encoding: 'utf8',
  });
  t.equal(served.status, 2);
  t.match(served.stdout, /only slot disks/);
  const incomplete = spawnSync(helper, ['--serve'], {
    input: 'wipefs\n',
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.match(incomplete.stdout, /request incomplete/);
});

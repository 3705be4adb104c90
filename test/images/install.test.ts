// images/install.sh run into a fake Debian root: files, the kiosk user and its groups,
// data directory permissions, enabled units, fstab, the image version.
import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { haveTools } from '../helpers/tools.js';
import { imagesDir, makeFakeRoot } from './fake-root.js';

function entry(text: string, name: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no ${name} entry`);
  return line.split(':');
}

t.test('creates the kiosk user with exactly its device groups', async (t) => {
  const root = makeFakeRoot(t);
  const passwd = entry(root.read('etc/passwd'), 'kiosk');
  const group = root.read('etc/group');
  t.equal(passwd[5], '/var/lib/disk-kiosk', 'home');
  t.equal(passwd[6], '/usr/sbin/nologin', 'no login shell');
  t.ok(Number(passwd[2]) < 1000, 'a system uid');
  t.equal(passwd[3], entry(group, 'kiosk')[2], 'primary group kiosk');
  for (const g of ['dialout', 'gpio', 'kiosk-slots', 'kiosk-keypad', 'kiosk-tech']) {
    t.ok(entry(group, g)[3]?.split(',').includes('kiosk'), `kiosk is in ${g}`);
  }
  for (const g of ['disk', 'root', 'sys']) {
    t.notOk(entry(group, g)[3]?.split(',').includes('kiosk'), `kiosk is not in ${g}`);
  }
});

t.test('data dir, version, commands, enabled units', async (t) => {
  const root = makeFakeRoot(t);
  const data = statSync(root.path('var/lib/disk-kiosk'));
  t.equal(data.mode & 0o777, 0o750, 'data dir mode 0750');
  t.equal(String(data.uid), entry(root.read('etc/passwd'), 'kiosk')[2], 'data dir owned by kiosk');
  t.equal(root.read('etc/disk-kiosk/image-version'), '9.8.7-test\n');
  t.equal(readlinkSync(root.path('usr/local/bin/kioskd')), '/opt/disk-kiosk/bin/kioskd.js');
  t.equal(readlinkSync(root.path('usr/local/bin/kioskctl')), '/opt/disk-kiosk/bin/kioskctl.js');
  const wants: Array<[string, string]> = [
    ['multi-user.target.wants', 'kioskd.service'],
    ['multi-user.target.wants', 'disk-kiosk-config.service'],
    ['multi-user.target.wants', 'disk-kiosk-enrol.service'],
    ['multi-user.target.wants', 'disk-kiosk-growdata.service'],
    ['sockets.target.wants', 'disk-kiosk-storage.socket'],
  ];
  for (const [dir, unit] of wants) {
    const link = root.path(`etc/systemd/system/${dir}/${unit}`);
    t.ok(lstatSync(link).isSymbolicLink(), `${dir}/${unit} enabled`);
    t.equal(readlinkSync(link), `/etc/systemd/system/${unit}`);
  }
  for (const exe of [
    'storage-helper',
    'grow-data',
    'port-power-perms',
    'apply-config.mjs',
    'enrol.mjs',
  ]) {
    t.ok(statSync(root.path(`usr/libexec/disk-kiosk/${exe}`)).mode & 0o111, `${exe} is executable`);
  }
  t.ok(statSync(root.path('usr/share/doc/disk-kiosk/README.md')).isFile(), 'README installed');
});

t.test('fstab: read-only boot, data partition, journal bind mount; overlayroot', async (t) => {
  const root = makeFakeRoot(t);
  const fstab = root.read('etc/fstab');
  t.match(fstab, /^LABEL=RASPIFIRM\s+\/boot\/firmware\s+vfat\s+ro,/m);
  t.match(fstab, /^LABEL=KIOSKDATA\s+\/var\/lib\/disk-kiosk\s+ext4\s/m);
  t.match(fstab, /^\/var\/lib\/disk-kiosk\/journal\s+\/var\/log\/journal\s+none\s+bind,/m);
  t.match(root.read('etc/overlayroot.conf'), /^overlayroot="tmpfs:recurse=0"$/m);
  t.match(root.read('etc/systemd/journald.conf.d/disk-kiosk.conf'), /^SystemMaxUse=\d+M$/m);
  t.match(root.read('etc/systemd/journald.conf.d/disk-kiosk.conf'), /^Storage=persistent$/m);
});

t.test('running install.sh twice changes nothing', async (t) => {
  const root = makeFakeRoot(t);
  const before = [
    'etc/passwd',
    'etc/group',
    'etc/fstab',
    'etc/udev/rules.d/70-disk-kiosk.rules',
  ].map(root.read);
  const res = spawnSync(
    `${imagesDir}/install.sh`,
    ['--root', root.dir, '--version', '9.8.7-test'],
    {
      encoding: 'utf8',
    },
  );
  t.equal(res.status, 0, res.stderr);
  const after = [
    'etc/passwd',
    'etc/group',
    'etc/fstab',
    'etc/udev/rules.d/70-disk-kiosk.rules',
  ].map(root.read);
  t.same(after, before);
});

t.test('refuses bad options and a directory that is not a root', async (t) => {
  const root = makeFakeRoot(t);
  const run = (...args: string[]) =>
    spawnSync(`${imagesDir}/install.sh`, args, { encoding: 'utf8' });
  const bad = run('--root', root.dir, '--board', 'xyz');
  t.not(bad.status, 0);
  t.match(bad.stderr, /--board must be VID:PID/);
  const notRoot = run('--root', root.path('var'));
  t.not(notRoot.status, 0);
  t.match(notRoot.stderr, /not a root file system/);
});

t.test(
  "kioskctl's man page and bash completion are installed where man and bash look",
  async (t) => {
    const root = makeFakeRoot(t);
    const page = root.path('usr/share/man/man1/kioskctl.1.gz');
    t.equal(statSync(page).mode & 0o777, 0o644);
    const roff = gunzipSync(readFileSync(page)).toString('utf8');
    t.equal(
      roff,
      readFileSync(path.join(imagesDir, 'man/kioskctl.1'), 'utf8'),
      'the generated page',
    );
    t.match(roff, /^\.TH KIOSKCTL 1 /m, 'a roff man page (man(7) macros)');
    if (haveTools(t, ['groff'], 'the man page check')) {
      // What `man kioskctl` shows, with every groff warning enabled: none may appear.
      const r = spawnSync('groff', ['-man', '-Tutf8', '-ww'], { input: roff, encoding: 'utf8' });
      t.equal(r.stderr, '', 'groff renders it without a warning');
      const text = r.stdout.replace(/.\x08/g, '');
      t.match(text, /KIOSKCTL\(1\)/);
      t.match(text, /kioskctl slot eject \[options\] <N>/, 'every command with its usage');
      t.match(text, /--yes/, 'and its options');
      t.match(text, /EXIT STATUS/);
    }
    const completion = root.path('usr/share/bash-completion/completions/kioskctl');
    t.equal(
      readFileSync(completion, 'utf8'),
      readFileSync(path.join(imagesDir, 'completions/kioskctl.bash'), 'utf8'),
    );
    // bash-completion loads completions/<command> on first Tab: it must register for kioskctl.
    const r = spawnSync(
      'bash',
      ['--norc', '-c', `source '${completion}' && complete -p kioskctl`],
      {
        encoding: 'utf8',
      },
    );
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^complete -F \S+ kioskctl$/m);
  },
);

t.test('RAUC: system.conf, the keyring, the backend and the update units', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyring-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pem = path.join(dir, 'ca.cert.pem');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const root = makeFakeRoot(t, ['--rauc-keyring', pem]);
  t.equal(root.read('etc/rauc/keyring.pem'), readFileSync(pem, 'utf8'), 'keyring installed');
  const conf = root.read('etc/rauc/system.conf');
  t.match(conf, /^compatible=disk-kiosk-rpi-arm64$/m);
  t.match(conf, /^bootloader=custom$/m);
  t.match(conf, /^bundle-formats=-plain$/m, 'verity bundles only');
  t.match(conf, /^path=\/etc\/rauc\/keyring\.pem$/m);
  t.match(conf, /^bootloader-custom-backend=\/usr\/libexec\/disk-kiosk\/rauc-tryboot$/m);
  t.match(
    conf,
    /^device=\/dev\/disk\/by-partuuid\/6b696f73-02\ntype=ext4\nbootname=A$/m,
    'slot A: partition 2',
  );
  t.match(
    conf,
    /^device=\/dev\/disk\/by-partuuid\/6b696f73-03\ntype=ext4\nbootname=B$/m,
    'slot B: partition 3',
  );
  for (const exe of ['rauc-tryboot', 'update-reboot', 'trial-guard']) {
    t.ok(statSync(root.path(`usr/libexec/disk-kiosk/${exe}`)).mode & 0o111, `${exe} is executable`);
  }
  for (const [dir, unit] of [
    ['multi-user.target.wants', 'disk-kiosk-update-reboot.path'],
    ['multi-user.target.wants', 'disk-kiosk-trial-guard.service'],
  ] as const) {
    t.ok(
      lstatSync(root.path(`etc/systemd/system/${dir}/${unit}`)).isSymbolicLink(),
      `${unit} enabled`,
    );
  }
  const policy = root.read('etc/dbus-1/system.d/disk-kiosk-rauc.conf');
  t.match(policy, /<policy context="default">\s*<deny send_destination="de\.pengutronix\.rauc"\/>/);
  t.match(policy, /<policy group="kiosk">\s*<allow send_destination="de\.pengutronix\.rauc"\/>/);
  const notPem = spawnSync(
    `${imagesDir}/install.sh`,
    ['--root', root.dir, '--rauc-keyring', root.path('etc/passwd')],
    { encoding: 'utf8' },
  );
  t.not(notPem.status, 0);
  t.match(notPem.stderr, /is not a PEM certificate file/);
});

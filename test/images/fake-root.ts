// A minimal Debian-like root file system in a temp dir, with images/install.sh run into
// it: what the image tests inspect (the real debootstrap path is exercised by
// `npm run image:build`).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const imagesDir = path.join(repo, 'images');

/** Debian 12 base accounts (as in a fresh debootstrap), enough for useradd --root. */
const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'bin:x:2:2:bin:/bin:/usr/sbin/nologin',
  'sys:x:3:3:sys:/dev:/usr/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
];
const GROUP = [
  'root:x:0:',
  'daemon:x:1:',
  'bin:x:2:',
  'sys:x:3:',
  'tty:x:5:',
  'disk:x:6:',
  'dialout:x:20:',
  'nogroup:x:65534:',
  'systemd-journal:x:999:',
];

export interface FakeRoot {
  dir: string;
  /** Output of install.sh (stdout + stderr). */
  installLog: string;
  read(file: string): string;
  path(file: string): string;
}

/** A fresh fake root with install.sh applied; removed at teardown of `t`. */
export function makeFakeRoot(
  t: { teardown(fn: () => void): void },
  installArgs: string[] = [],
): FakeRoot {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'disk-kiosk-rootfs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'etc'), { recursive: true });
  writeFileSync(path.join(dir, 'etc/passwd'), `${PASSWD.join('\n')}\n`);
  writeFileSync(path.join(dir, 'etc/group'), `${GROUP.join('\n')}\n`);
  writeFileSync(path.join(dir, 'etc/shadow'), '', { mode: 0o640 });
  writeFileSync(path.join(dir, 'etc/gshadow'), '', { mode: 0o640 });
  for (const f of ['usr/sbin/nologin', 'usr/bin/true']) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), '#!/bin/sh\n');
    chmodSync(path.join(dir, f), 0o755);
  }
  // systemd's own units, so that systemctl --root and systemd-analyze --root resolve
  // the targets our units hang off.
  cpSync('/usr/lib/systemd/system', path.join(dir, 'usr/lib/systemd/system'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  const res = spawnSync(
    path.join(imagesDir, 'install.sh'),
    ['--root', dir, '--version', '9.8.7-test', ...installArgs],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const installLog = `${res.stdout}${res.stderr}`;
  if (res.status !== 0) throw new Error(`install.sh failed (exit ${res.status}): ${installLog}`);
  return {
    dir,
    installLog,
    read: (file) => readFileSync(path.join(dir, file), 'utf8'),
    path: (file) => path.join(dir, file),
  };
}

/** Stubs for the executables units name, which the real image gets from install-app.sh. */
export function stubApp(root: FakeRoot): void {
  for (const f of [
    'opt/disk-kiosk/bin/kioskd.js',
    'opt/disk-kiosk/bin/kioskctl.js',
    'usr/local/bin/node',
  ]) {
    mkdirSync(path.dirname(root.path(f)), { recursive: true });
    writeFileSync(root.path(f), '#!/bin/sh\n');
    chmodSync(root.path(f), 0o755);
  }
}

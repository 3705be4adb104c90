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

/**
 * A minimal Debian-like root in a temp dir (base accounts, nologin, systemd's own units),
 * removed at teardown of `t`; nothing of ours installed yet.
 */
export function makeBareRoot(t: { teardown(fn: () => void): void }): string {
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
  return dir;
}

/** Runs `script --root <dir> ...args`; returns its output, throws on failure. */
export function runInstall(script: string, dir: string, args: string[]): string {
  const res = spawnSync(script, ['--root', dir, ...args], { encoding: 'utf8', timeout: 60_000 });
  const log = `${res.stdout}${res.stderr}`;
  if (res.status !== 0) throw new Error(`${script} failed (exit ${res.status}): ${log}`);
  return log;
}

/** The files of a fake root. */
export function rootFiles(dir: string): Pick<FakeRoot, 'read' | 'path'> {
  return {
    read: (file) => readFileSync(path.join(dir, file), 'utf8'),
    path: (file) => path.join(dir, file),
  };
}

/** A fresh fake root with images/install.sh applied; removed at teardown of `t`. */
export function makeFakeRoot(
  t: { teardown(fn: () => void): void },
  installArgs: string[] = [],
): FakeRoot {
  const dir = makeBareRoot(t);
  const installLog = runInstall(path.join(imagesDir, 'install.sh'), dir, [
    '--version',
    '9.8.7-test',
    ...installArgs,
  ]);
  return { dir, installLog, ...rootFiles(dir) };
}

/** Writes executable stubs at `files` (paths inside the root) for what units name. */
export function stubExecutables(root: Pick<FakeRoot, 'path'>, files: string[]): void {
  for (const f of files) {
    mkdirSync(path.dirname(root.path(f)), { recursive: true });
    writeFileSync(root.path(f), '#!/bin/sh\n');
    chmodSync(root.path(f), 0o755);
  }
}

/** Stubs for the executables units name, which the real image gets from install-app.sh. */
export function stubApp(root: FakeRoot): void {
  stubExecutables(root, [
    'opt/disk-kiosk/bin/kioskd.js',
    'opt/disk-kiosk/bin/kioskctl.js',
    'usr/local/bin/node',
  ]);
}

/** `systemd-analyze <args> --root=<root>` run in the root's unit directory. */
export function systemdAnalyze(
  root: string,
  args: string[],
): { status: number | null; output: string } {
  const res = spawnSync('systemd-analyze', [...args, `--root=${root}`], {
    cwd: `${root}/etc/systemd/system`,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: res.status, output: `${res.stdout}${res.stderr}`.trim() };
}

/** Asserts that `text` (a unit file) has each of `lines` as a whole line. */
export function hasLines(
  t: { match(found: string, wanted: RegExp, message: string): unknown },
  text: string,
  lines: string[],
): void {
  for (const line of lines)
    t.match(text, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line);
}

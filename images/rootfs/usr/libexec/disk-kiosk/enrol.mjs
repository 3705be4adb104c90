#!/usr/bin/env node
// First boot (disk-kiosk-enrol.service): when kiosk.conf holds ENROL_TOKEN, enrols the
// kiosk with its hub and then removes the token from kiosk.conf.
//
// The enrolment itself is kioskctl's (it works without a running kioskd):
//   kioskctl --config /etc/disk-kiosk/kioskd.json enrol --hub <HUB_URL> --token-file <file>
// run as the kiosk user. It reads the kiosk id from the config, calls
// POST <HUB_URL>/api/kiosks/enrol {kioskId, token}, writes the secret to hub.secretFile
// (0600) and the hub's public key to hub.publicKeyFile, and exits 0 on success; any
// other exit code means "not enrolled" (this unit retries every 20 s).
//
//   enrol.mjs [--root DIR] [--kioskctl CMD] [--no-systemctl]   (test options)
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readKioskConf, setKioskConfValue } from './kiosk-conf.mjs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = opt('--root') ?? '/';
const live = root === '/';
const p = (f) => path.join(root, f);
const confFile = p('/boot/firmware/kiosk.conf');
const kioskctl = opt('--kioskctl') ?? '/usr/local/bin/kioskctl';
const log = (msg) => process.stdout.write(`enrol: ${msg}\n`);

const { values } = readKioskConf(confFile);
if (!values.ENROL_TOKEN) {
  log('no ENROL_TOKEN in kiosk.conf: nothing to do');
  process.exit(0);
}
if (!values.HUB_URL || !values.KIOSK_ID) {
  log('kiosk.conf has ENROL_TOKEN but no HUB_URL or KIOSK_ID: cannot enrol; fix kiosk.conf');
  process.exit(1);
}

const passwd = readFileSync(p('/etc/passwd'), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('kiosk:'));
if (!passwd) {
  log('no kiosk user in /etc/passwd');
  process.exit(1);
}
const [uid, gid] = passwd.split(':').slice(2, 4).map(Number);
mkdirSync(p('/run'), { recursive: true });
const dir = mkdtempSync(p('/run/disk-kiosk-enrol-'));
const tokenFile = path.join(dir, 'token');
let status = 1;
try {
  writeFileSync(tokenFile, values.ENROL_TOKEN, { mode: 0o600 });
  if (live) {
    chownSync(dir, uid, gid);
    chownSync(tokenFile, uid, gid);
  }
  const cmd = [
    kioskctl,
    '--config',
    '/etc/disk-kiosk/kioskd.json',
    'enrol',
    '--hub',
    values.HUB_URL,
    '--token-file',
    tokenFile,
  ];
  const full = live
    ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', ...cmd]
    : cmd;
  log(`enrolling kiosk ${values.KIOSK_ID} with ${values.HUB_URL}`);
  const res = spawnSync(full[0], full.slice(1), { stdio: 'inherit' });
  status = res.status ?? 1;
  if (res.error) log(`cannot run ${full[0]}: ${res.error.message}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (status !== 0) {
  log(`kioskctl enrol failed (exit ${status}); retrying later`);
  process.exit(1);
}

// Enrolled: the one-time token must not stay on the card.
const remount = (mode) =>
  live && spawnSync('mount', ['-o', `remount,${mode}`, '/boot/firmware'], { stdio: 'inherit' });
remount('rw');
try {
  setKioskConfValue(
    confFile,
    'ENROL_TOKEN',
    '',
    `enrolled ${new Date().toISOString()}; token removed`,
  );
} finally {
  remount('ro');
}
log('enrolled; token removed from kiosk.conf');
// kioskd does not start without its secret (ConditionPathExists): start it now, or
// restart it so that a re-enrolled kiosk uses the new secret.
if (live && !args.includes('--no-systemctl')) {
  spawnSync('systemctl', ['reset-failed', 'kioskd.service'], { stdio: 'inherit' });
  spawnSync('systemctl', ['--no-block', 'restart', 'kioskd.service'], { stdio: 'inherit' });
}

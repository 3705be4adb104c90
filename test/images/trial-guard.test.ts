// The image's trial guard: on the trial boot of a new slot it reboots (to the committed slot)
// unless kioskd commits the trial in time. Run against the real rauc-tryboot on a directory
// standing in for the boot partition, with a `systemctl` stand-in that records its call.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { imagesDir } from './fake-root.js';

const GUARD = path.join(imagesDir, 'rootfs/usr/libexec/disk-kiosk/trial-guard');
const BACKEND = path.join(imagesDir, 'rootfs/usr/libexec/disk-kiosk/rauc-tryboot');

function setup(t: { teardown(fn: () => void): void }, booted: 'A' | 'B', trialState: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trial-guard-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const boot = path.join(dir, 'boot');
  mkdirSync(boot);
  const cfg = (slot: string) =>
    `arm_64bit=1\n\n[all]\n# disk-kiosk-slot=${slot} (test)\nkernel=vmlinuz-${slot.toLowerCase()}\n`;
  writeFileSync(path.join(boot, 'config.txt'), cfg('A'));
  writeFileSync(path.join(boot, 'tryboot.txt'), cfg('B'));
  writeFileSync(
    path.join(boot, 'disk-kiosk-slots.txt'),
    `A=good\nB=good\ntrial=B\ntrial_state=${trialState}\n`,
  );
  writeFileSync(path.join(dir, 'cmdline'), `root=/dev/x rauc.slot=${booted}\n`);
  writeFileSync(path.join(dir, 'kiosk.conf'), 'KIOSK_ID=k1\nUPDATE_TRIAL_SECONDS=1\n');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const record = path.join(dir, 'systemctl.args');
  writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\n`, {
    mode: 0o755,
  });
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    RAUC_TRYBOOT: BACKEND,
    KIOSK_CONF: path.join(dir, 'kiosk.conf'),
    TRIAL_GUARD_POLL: '0.1',
    DISK_KIOSK_UPDATES_DIR: path.join(dir, 'updates'),
    DISK_KIOSK_BOOT_DIR: boot,
    DISK_KIOSK_PROC_CMDLINE: path.join(dir, 'cmdline'),
  };
  return { dir, boot, env, record };
}

t.test('a trial that is not committed in time reboots', async (t) => {
  const s = setup(t, 'B', 'started');
  const r = spawnSync(GUARD, [], { env: s.env, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /slot B is on trial: kioskd has 1 s to commit it/);
  t.match(r.stdout, /slot B was not committed within 1 s: rebooting to slot A/);
  t.equal(
    readFileSync(s.record, 'utf8'),
    'reboot\n',
    'a plain reboot: the firmware starts config.txt',
  );
  t.match(
    readFileSync(path.join(s.dir, 'updates/trial-booted-B'), 'utf8'),
    /^\d{4}-\d\d-\d\dT/,
    'left a trace for kioskd on the old slot',
  );
});

t.test('a trial committed in time is left alone', async (t) => {
  const s = setup(t, 'B', 'started');
  writeFileSync(s.env.KIOSK_CONF, 'UPDATE_TRIAL_SECONDS=30\n');
  const guard = spawn(GUARD, [], { env: s.env });
  let out = '';
  guard.stdout.on('data', (d) => {
    out += String(d);
  });
  const ended = new Promise<number | null>((resolve) => guard.on('exit', resolve));
  t.teardown(() => guard.kill());
  while (!out.includes('is on trial')) await new Promise((r) => setTimeout(r, 20));
  // kioskd's mark-good through RAUC: the backend commits slot B.
  const commit = spawnSync(BACKEND, ['set-state', 'B', 'good'], { env: s.env, encoding: 'utf8' });
  t.equal(commit.status, 0, commit.stderr);
  t.equal(await ended, 0);
  t.match(out, /the trial of slot B ended; committed slot: B/);
  t.notOk(existsSync(s.record), 'no reboot');
});

t.test('not a trial boot: nothing to guard', async (t) => {
  for (const [booted, state] of [
    ['A', 'pending'],
    ['A', 'started'],
  ] as const) {
    const s = setup(t, booted, state);
    const r = spawnSync(GUARD, [], { env: s.env, encoding: 'utf8' });
    t.equal(r.status, 0);
    t.match(r.stdout, /not a trial boot/, `${booted} booted, trial ${state}`);
    t.notOk(existsSync(s.record), 'no reboot');
    t.notOk(existsSync(path.join(s.dir, 'updates')), 'no trace');
  }
});

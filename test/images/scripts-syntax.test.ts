// Every shell script of the image parses (bash -n / sh -n), including those only the
// slow image build and the pi-gen stage run.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { imagesDir } from './fake-root.js';

const SCRIPTS = [
  'build.sh',
  'install.sh',
  'install-app.sh',
  'lib.sh',
  'test-image.sh',
  'test-update.sh',
  'pi-gen/stage-disk-kiosk/prerun.sh',
  'pi-gen/stage-disk-kiosk/00-install/01-run.sh',
  'rootfs/usr/libexec/disk-kiosk/storage-helper',
  'rootfs/usr/libexec/disk-kiosk/grow-data',
  'rootfs/usr/libexec/disk-kiosk/port-power-perms',
  'rootfs/usr/libexec/disk-kiosk/rauc-tryboot',
  'rootfs/usr/libexec/disk-kiosk/update-reboot',
  'rootfs/usr/libexec/disk-kiosk/trial-guard',
  'bundle.sh',
  'rauc-keys.sh',
];

for (const rel of SCRIPTS) {
  t.test(`${rel} parses`, async (t) => {
    const file = path.join(imagesDir, rel);
    const shell = readFileSync(file, 'utf8').startsWith('#!/bin/sh') ? 'sh' : 'bash';
    const res = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
    t.equal(res.status, 0, res.stderr);
  });
}

t.test('a syntax error is caught', async (t) => {
  const res = spawnSync('bash', ['-n', '-c', 'if then fi'], { encoding: 'utf8' });
  t.not(res.status, 0);
});

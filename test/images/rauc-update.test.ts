// RAUC on the image's layout, for real (root): images/bundle.sh builds signed bundles,
// `rauc info` checks them against the keyring, and `rauc install` writes the inactive slot of
// a partitioned loop device laid out like the SD card, through the image's system.conf and
// its custom backend (rauc-tryboot) acting on a directory that stands in for the FAT boot
// partition. The rig (test/helpers/rauc-rig.ts) is the Pi firmware: it boots the slot that
// tryboot.txt or config.txt names.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { requireRoot } from '../helpers/loop-device.js';
import {
  createRaucRig,
  makeKeys,
  makeRootfs,
  RAUC_RIG_TOOLS,
  slotOf,
} from '../helpers/rauc-rig.js';

const info = (
  rig: { rauc(a: string[]): { status: number; stdout: string; stderr: string } },
  keyring: string,
  bundle: string,
) => rig.rauc(['info', `--keyring=${keyring}`, '--output-format=json', bundle]);

t.test(
  'bundles: signed verity bundles verify with the keyring; a tampered or foreign one is refused',
  async (t) => {
    if (!requireRoot(t, RAUC_RIG_TOOLS)) return;
    const rig = await createRaucRig(t);
    const bundleSh = path.resolve(import.meta.dirname, '../../images/bundle.sh');
    const signed = (args: string[]) =>
      spawnSync(bundleSh, args, {
        encoding: 'utf8',
        env: {
          ...process.env,
          RAUC_CERT: rig.keys.cert,
          RAUC_KEY: rig.keys.key,
          RAUC_KEYRING: rig.keys.keyring,
        },
      });
    const rootfs = makeRootfs(rig.dir, '2.0.0');
    const verity = path.join(rig.dir, 'v.raucb');
    const made = signed(['--rootfs', rootfs, '--out', verity]);
    t.equal(made.status, 0, `bundle.sh: ${made.stderr}`);
    const ok = info(rig, rig.keys.keyring, verity);
    t.equal(ok.status, 0, `rauc info: ${ok.stderr}`);
    const manifest = JSON.parse(ok.stdout) as {
      compatible: string;
      version: string;
      images: Array<Record<string, { filename: string }>>;
    };
    t.equal(manifest.compatible, 'disk-kiosk-rpi-arm64', 'the image system.conf compatible');
    t.equal(manifest.version, '2.0.0', 'the root file system image-version');
    t.equal(manifest.images[0]?.rootfs?.filename, 'rootfs.ext4', 'the root file system image');
    t.match(ok.stderr, /Verified inline signature/, 'inline signature: the verity format');
    t.match(
      rig.rauc(['info', `--keyring=${rig.keys.keyring}`, verity]).stdout,
      /Bundle Format:\s+verity/,
    );

    // One flipped byte in the signed manifest (the CMS at the end): rauc info refuses.
    const bytes = readFileSync(verity);
    const cmsSize = Number(bytes.readBigUInt64BE(bytes.length - 8));
    const badSig = Buffer.from(bytes);
    const at = bytes.length - 8 - Math.floor(cmsSize / 2);
    badSig[at] = (badSig[at] ?? 0) ^ 0x01;
    const tamperedSig = path.join(rig.dir, 'tampered-signature.raucb');
    writeFileSync(tamperedSig, badSig);
    const bad = info(rig, rig.keys.keyring, tamperedSig);
    t.not(bad.status, 0, 'a bundle whose signed manifest was changed is refused');
    t.match(bad.stderr, /signature|failed/i);

    // One flipped byte in the payload (the squashfs holding rootfs.ext4): the signature
    // still verifies (it covers the verity root hash, not the bytes), so `rauc info` shows it;
    // the payload check refuses it (rauc extract here; dm-verity during a verity install).
    const badPayload = Buffer.from(bytes);
    badPayload[20000] = (badPayload[20000] ?? 0) ^ 0xff;
    const tamperedPayload = path.join(rig.dir, 'tampered-payload.raucb');
    writeFileSync(tamperedPayload, badPayload);
    const ex = rig.rauc([
      'extract',
      `--keyring=${rig.keys.keyring}`,
      tamperedPayload,
      path.join(rig.dir, 'extracted'),
    ]);
    t.not(ex.status, 0, 'a bundle whose payload was changed is refused');
    t.match(ex.stderr, /bundle payload is corrupted/);

    // Signed with another key: verifies with its own keyring, not with the image's.
    const other = makeKeys(path.join(rig.dir, 'other-keys'));
    const foreign = rig.bundle({ version: '2.0.1', keys: other });
    t.equal(info(rig, other.keyring, foreign).status, 0, 'verifies against its own CA');
    const refused = info(rig, rig.keys.keyring, foreign);
    t.not(refused.status, 0, 'refused against the image keyring');
    t.match(refused.stderr, /signature verification failed|unable to get local issuer/i);

    // bundle.sh refuses a version that is not the root file system's.
    const wrong = signed([
      '--rootfs',
      rootfs,
      '--version',
      '9.9.9',
      '--out',
      path.join(rig.dir, 'x.raucb'),
    ]);
    t.not(wrong.status, 0);
    t.match(wrong.stderr, /differs from the root file system's image-version 2\.0\.0/);
  },
);

t.test(
  'install into the inactive slot, tryboot, commit; then a failed trial leaves the old slot',
  async (t) => {
    if (!requireRoot(t, RAUC_RIG_TOOLS)) return;
    const rig = await createRaucRig(t, { initialVersion: '1.0.0' });
    t.comment(`bundle format for install: ${rig.format}`);

    // As shipped: A booted, committed, good; B empty and bad.
    let s = rig.status();
    t.equal(s.booted, 'A');
    t.equal(s.boot_primary, 'rootfs.0', 'primary A');
    t.equal(slotOf(s, 'A').boot_status, 'good');
    t.equal(slotOf(s, 'B').boot_status, 'bad', 'the empty slot is not bootable');
    const configBefore = rig.boot('config.txt') ?? '';
    t.match(configBefore, /^# disk-kiosk-slot=A /m);
    t.match(configBefore, /^kernel=vmlinuz-a$/m);

    // --- a tampered bundle is refused by the install; slot B stays as it was
    const tamperedBundle = rig.bundle({ version: '2.0.0' });
    const raw = readFileSync(tamperedBundle);
    raw[20000] = (raw[20000] ?? 0) ^ 0xff;
    writeFileSync(tamperedBundle, raw);
    const refused = rig.rauc(['install', tamperedBundle]);
    t.not(refused.status, 0, 'rauc install refuses a tampered bundle');
    t.equal(rig.boot('tryboot.txt'), undefined, 'no trial prepared');
    t.equal(rig.backendStatus().trial_state, 'none');

    // --- install 2.0.0: RAUC writes slot B, the backend writes B's boot files and tryboot.txt
    const b2 = rig.bundle({ version: '2.0.0' });
    const inst = rig.rauc(['install', b2]);
    t.equal(inst.status, 0, `rauc install: ${inst.stderr}${inst.stdout}`);
    t.equal(
      rig.slotFile('B', '/etc/disk-kiosk/image-version').trim(),
      '2.0.0',
      'slot B holds the bundle',
    );
    t.equal(rig.slotFile('A', '/etc/disk-kiosk/image-version').trim(), '1.0.0', 'slot A untouched');
    t.equal(
      rig.boot('vmlinuz-b'),
      'kernel of 2.0.0\n',
      "B's kernel on the boot partition under a new name",
    );
    t.equal(rig.boot('initrd-b.img'), 'initrd of 2.0.0\n');
    t.equal(rig.boot('vmlinuz-a'), 'kernel of 1.0.0\n', "A's kernel kept");
    const tryboot = rig.boot('tryboot.txt') ?? '';
    t.match(tryboot, /^# disk-kiosk-slot=B /m, 'tryboot.txt points at slot B');
    t.match(tryboot, /^kernel=vmlinuz-b$/m);
    t.match(tryboot, /^initramfs initrd-b\.img followkernel$/m);
    t.match(tryboot, /^cmdline=cmdline-b\.txt$/m);
    t.match(tryboot, /^arm_64bit=1$/m, 'the rest of config.txt carried over');
    t.match(
      rig.boot('cmdline-b.txt') ?? '',
      new RegExp(`^root=${rig.slots.B} rauc\\.slot=B console=`),
    );
    t.equal(
      rig.boot('config.txt'),
      configBefore,
      'config.txt unchanged: a plain reboot still starts A',
    );
    s = rig.status();
    t.equal(s.boot_primary, 'rootfs.1', 'rauc status: B is activated for the next (tryboot) boot');
    t.equal(slotOf(s, 'B').boot_status, 'good', 'B may be tried');

    // --- a power cut before the tryboot reboot: A again, the trial still pending
    t.equal(await rig.reboot({ tryboot: false }), 'A');
    t.equal(rig.backendStatus().trial_state, 'pending');

    // --- kioskd's reboot request, handled by the image's update-reboot
    const req = path.join(rig.dir, 'update-reboot');
    writeFileSync(req, 'tryboot\n');
    const handled = rig.handleRebootRequest(req);
    t.equal(handled.status, 0, handled.out);
    t.same(handled.systemctl, ['reboot', '0 tryboot'], "systemctl reboot '0 tryboot'");
    t.equal(await rig.reboot({ tryboot: true }), 'B', 'the firmware starts B once');
    s = rig.status();
    t.equal(s.booted, 'B');
    t.equal(s.boot_primary, 'rootfs.0', 'on trial: a reboot now would start A');
    t.equal(slotOf(s, 'B').boot_status, 'bad', 'not good until marked good');
    t.equal(rig.backendStatus().trial_state, 'running');

    // --- mark-good commits: config.txt := tryboot.txt, atomically
    const inodeBefore = statSync(path.join(rig.bootDir, 'config.txt')).ino;
    const good = rig.rauc(['status', 'mark-good']);
    t.equal(good.status, 0, good.stderr);
    t.equal(rig.boot('config.txt'), tryboot, 'config.txt is now what tryboot.txt was');
    t.not(statSync(path.join(rig.bootDir, 'config.txt')).ino, inodeBefore, 'replaced by rename');
    t.equal(rig.boot('tryboot.txt'), undefined, 'tryboot.txt gone');
    t.equal(rig.boot('config.txt.tmp'), undefined, 'no temporary file left');
    s = rig.status();
    t.equal(s.boot_primary, 'rootfs.1', 'primary B');
    t.equal(slotOf(s, 'B').boot_status, 'good');
    t.equal(slotOf(s, 'A').boot_status, 'good', 'A stays bootable (the previous version)');
    t.equal(await rig.reboot({ tryboot: false }), 'B', 'a plain reboot now starts B');

    // --- 3.0.0 goes to slot A (the inactive one); its trial fails (hang -> watchdog)
    const b3 = rig.bundle({ version: '3.0.0' });
    const inst3 = rig.rauc(['install', b3]);
    t.equal(inst3.status, 0, inst3.stderr);
    t.equal(rig.slotFile('A', '/etc/disk-kiosk/image-version').trim(), '3.0.0');
    t.equal(rig.boot('vmlinuz-a'), 'kernel of 3.0.0\n');
    t.match(rig.boot('tryboot.txt') ?? '', /^# disk-kiosk-slot=A /m);
    writeFileSync(req, 'tryboot\n');
    t.equal(rig.handleRebootRequest(req).status, 0);
    t.equal(await rig.reboot({ tryboot: true }), 'A', 'trial of A');
    // ... no mark-good: the watchdog (or the trial guard, or a power cut) resets the board.
    t.equal(await rig.reboot({ tryboot: false }), 'B', 'the firmware comes back to B by itself');
    s = rig.status();
    t.equal(s.booted, 'B');
    t.equal(s.boot_primary, 'rootfs.1');
    t.equal(slotOf(s, 'A').boot_status, 'bad', 'the failed slot reads bad');
    t.equal(rig.backendStatus().trial_state, 'failed');
    t.match(rig.boot('config.txt') ?? '', /^# disk-kiosk-slot=B /m, 'config.txt still starts B');
    const again = rig.rauc(['status', 'mark-good', 'other']);
    t.not(again.status, 0, 'a failed trial cannot be marked good');
    const ack = rig.rauc(['status', 'mark-bad', 'other']);
    t.equal(ack.status, 0, ack.stderr);
    t.equal(rig.boot('tryboot.txt'), undefined, 'acknowledged: tryboot.txt removed');
    t.equal(rig.backendStatus().trial_state, 'none');
    t.equal(slotOf(rig.status(), 'A').boot_status, 'bad');
    t.equal(await rig.reboot({ tryboot: true }), 'B', 'even a tryboot reboot now starts B');
  },
);

t.test('rauc-tryboot refuses to leave the card without a bootable slot', async (t) => {
  if (!requireRoot(t, RAUC_RIG_TOOLS)) return;
  const rig = await createRaucRig(t);
  const r = rig.rauc(['status', 'mark-bad', 'booted']);
  t.not(r.status, 0, 'the committed slot A cannot be marked bad while B is bad');
  t.match(rig.boot('config.txt') ?? '', /^# disk-kiosk-slot=A /m, 'config.txt unchanged');
  const noTrial = rig.backend(['begin-trial']);
  t.not(noTrial.status, 0);
  t.match(noTrial.stderr, /no trial pending/);
  const junk = rig.backend(['set-state', 'C', 'good']);
  t.not(junk.status, 0);
  t.match(junk.stderr, /unknown slot 'C'/);
});

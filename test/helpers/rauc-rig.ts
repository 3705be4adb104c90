/**
 * A real RAUC set-up for tests (root only): a partitioned loop device laid out like the SD
 * image (1 boot, 2 slot A, 3 slot B, 4 data; MBR disk id 6b696f73), a directory standing in
 * for the FAT boot partition, a system.conf pointing at the loop device's partitions with the
 * image's own custom backend (images/rootfs/usr/libexec/disk-kiosk/rauc-tryboot), a private
 * D-Bus session bus and `rauc service` on it in its own mount namespace, with /proc/cmdline
 * replaced by the booted slot's (`rauc.slot=X`), as the firmware would have started it.
 *
 * The rig is the Pi firmware: `reboot({ tryboot })` stops the service and starts it again on
 * the slot tryboot.txt names (tryboot) or config.txt names (a plain reboot, a power cut, a
 * watchdog reset).
 *
 *   const rig = await createRaucRig(t);           // teardown registered on t
 *   const b = await rig.bundle({ version: '2.0.0' });
 *   rig.rauc(['install', b]);
 *
 * Bundles are built by images/bundle.sh from a small ext4 root file system. Their format is
 * verity when the kernel has device-mapper (/dev/mapper/control), else plain (RAUC installs
 * verity bundles through dm-verity); `rig.format` says which, and system.conf allows it.
 * Everything (the service, the bus, partition nodes, the loop device, files) is undone in
 * teardown, failures included.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { imagesDir } from '../images/fake-root.js';

export type SlotName = 'A' | 'B';

/** The tools a RAUC rig needs (missing ones fail the test with the apt-get line). */
export const RAUC_RIG_TOOLS = [
  'rauc',
  'mksquashfs',
  'dbus-daemon',
  'sfdisk',
  'partx',
  'losetup',
  'blockdev',
  'mkfs.ext4',
  'debugfs',
  'openssl',
  'unshare',
];

export const BACKEND = path.join(imagesDir, 'rootfs/usr/libexec/disk-kiosk/rauc-tryboot');
export const UPDATE_REBOOT = path.join(imagesDir, 'rootfs/usr/libexec/disk-kiosk/update-reboot');
const BUNDLE_SH = path.join(imagesDir, 'bundle.sh');
export const COMPATIBLE = 'disk-kiosk-rpi-arm64';

export interface RaucStatus {
  compatible: string;
  booted: string;
  boot_primary: string | null;
  slots: Array<Record<string, { bootname: string; state: string; boot_status?: string }>>;
}

export interface RaucRig {
  dir: string;
  /** The directory standing in for the FAT boot partition. */
  bootDir: string;
  systemConf: string;
  keys: { cert: string; key: string; keyring: string };
  format: 'verity' | 'plain';
  /** `/dev/loopN` */
  device: string;
  /** Partition device nodes: slot A (2), slot B (3). */
  slots: Record<SlotName, string>;
  /** Environment for rauc clients and the backend (session bus, boot dir, conf, cmdline). */
  env: Record<string, string>;
  /** The slot the rig last booted. */
  booted: SlotName;
  /** Builds a signed bundle of a root fs holding image-version `version` (images/bundle.sh). */
  bundle(opts: {
    version: string;
    out?: string;
    keys?: { cert: string; key: string; keyring: string };
    /** Extra files of the root file system (path -> content). */
    files?: Record<string, string>;
  }): string;
  /** Runs the rauc CLI against the rig's service. */
  rauc(args: string[]): { status: number; stdout: string; stderr: string };
  status(): RaucStatus;
  /** The custom backend run directly (as the image's update-reboot and trial-guard do). */
  backend(args: string[]): { status: number; stdout: string; stderr: string };
  backendStatus(): Record<string, string>;
  /** A file of the root file system on a slot (debugfs, no mount). */
  slotFile(slot: SlotName, file: string): string;
  boot(file: string): string | undefined;
  /**
   * kioskd's reboot request handled as the image does: runs images/.../update-reboot on
   * `requestFile` with a `systemctl` stand-in; resolves with what it asked systemctl.
   */
  handleRebootRequest(requestFile: string): { status: number; systemctl: string[]; out: string };
  /** The firmware: stop, then start the slot tryboot.txt (tryboot) or config.txt names. */
  reboot(opts: { tryboot: boolean }): Promise<SlotName>;
  /** Stops the service, the bus, detaches everything. Idempotent. */
  close(): Promise<void>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

const run = (cmd: string, args: string[], env?: Record<string, string>, input?: string) => {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    ...(input !== undefined ? { input } : {}),
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};
const must = (cmd: string, args: string[], env?: Record<string, string>, input?: string) => {
  const r = run(cmd, args, env, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
};

/** A key pair for bundles: CA (keyring) + signer, generated by images/rauc-keys.sh. */
export function makeKeys(dir: string): { cert: string; key: string; keyring: string } {
  must(path.join(imagesDir, 'rauc-keys.sh'), [dir]);
  return {
    cert: path.join(dir, 'signer.cert.pem'),
    key: path.join(dir, 'signer.key.pem'),
    keyring: path.join(dir, 'ca.cert.pem'),
  };
}

/** The bundle format the kernel can install: verity needs device-mapper. */
export function installableFormat(): 'verity' | 'plain' {
  return existsSync('/dev/mapper/control') ? 'verity' : 'plain';
}

/** A small disk-kiosk-like root file system image (ext4, 16 MiB) with image-version `version`. */
export function makeRootfs(
  dir: string,
  version: string,
  files: Record<string, string> = {},
): string {
  const root = mkdtempSync(path.join(dir, 'rootfs-'));
  const put = (rel: string, content: string | Buffer) => {
    const f = path.join(root, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, content);
  };
  put('etc/disk-kiosk/image-version', `${version}\n`);
  put('boot/vmlinuz-6.1.0-99-arm64', `kernel of ${version}\n`);
  put('boot/initrd.img-6.1.0-99-arm64', `initrd of ${version}\n`);
  // Incompressible bytes: mksquashfs must produce more than one 4 KiB block.
  put('usr/share/disk-kiosk/padding', randomBytes(65536));
  for (const [rel, content] of Object.entries(files)) put(rel, content);
  const img = path.join(dir, `rootfs-${version}-${Date.now()}.ext4`);
  must('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'KIOSKROOT', '-d', root, img, '16M']);
  rmSync(root, { recursive: true, force: true });
  return img;
}

export async function createRaucRig(
  t: Teardown,
  opts: { initialVersion?: string } = {},
): Promise<RaucRig> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rauc-rig-'));
  const undo: Array<() => unknown> = [];
  let closed = false;
  let service: ChildProcess | undefined;
  let bus: ChildProcess | undefined;
  const stopService = async () => {
    const s = service;
    service = undefined;
    if (!s || s.exitCode !== null || s.signalCode !== null) return;
    const gone = new Promise((r) => s.once('exit', r));
    s.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
  };
  const close = async () => {
    if (closed) return;
    closed = true;
    await stopService();
    if (bus && bus.exitCode === null) bus.kill('SIGTERM');
    for (const fn of undo.reverse()) {
      try {
        await fn();
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  t.teardown(close);

  // --- the card: partition table like images/build.sh, on a loop device ----------------
  const diskFile = path.join(dir, 'card.img');
  writeFileSync(diskFile, '');
  must('truncate', ['-s', '48M', diskFile]);
  must(
    'sfdisk',
    ['-q', diskFile],
    undefined,
    [
      'label: dos',
      'label-id: 0x6b696f73',
      'unit: sectors',
      'start=2048, size=8192, type=c, bootable',
      'start=10240, size=32768, type=83',
      'start=43008, size=32768, type=83',
      'start=75776, size=16384, type=83',
      '',
    ].join('\n'),
  );
  const device = must('losetup', ['--find', '--show', '--partscan', diskFile]).trim();
  undo.push(() => run('losetup', ['-d', device]));
  must('blockdev', ['--setrw', device]);
  undo.push(() => run('partx', ['-d', device]));
  const name = path.basename(device);
  const devDir = path.join(dir, 'dev');
  mkdirSync(devDir);
  const partNode = (n: number): string => {
    const sys = `/sys/block/${name}/${name}p${n}/dev`;
    if (!existsSync(sys)) run('partx', ['-a', device]);
    if (!existsSync(sys)) run('partx', ['-u', device]);
    const [major, minor] = readFileSync(sys, 'utf8').trim().split(':');
    const node = path.join(devDir, `${name}p${n}`);
    must('mknod', [node, 'b', String(major), String(minor)]);
    return node;
  };
  const slots: Record<SlotName, string> = { A: partNode(2), B: partNode(3) };
  for (const node of Object.values(slots)) must('blockdev', ['--setrw', node]);

  // --- keys, slot A as the image ships it, the boot directory ---------------------------
  const keys = makeKeys(path.join(dir, 'keys'));
  const initial = opts.initialVersion ?? '1.0.0';
  const rootA = makeRootfs(dir, initial);
  must('dd', [`if=${rootA}`, `of=${slots.A}`, 'bs=1M', 'conv=fsync', 'status=none']);
  const bootDir = path.join(dir, 'boot');
  mkdirSync(bootDir);
  writeFileSync(
    path.join(bootDir, 'config.txt'),
    '[pi4]\narm_64bit=1\n\n[all]\nkernel=vmlinuz-6.1.0-99-arm64\ninitramfs initrd.img-6.1.0-99-arm64\n',
  );
  writeFileSync(
    path.join(bootDir, 'cmdline.txt'),
    'console=ttyS1,115200 console=tty0 root=PARTUUID=6b696f73-02 rw fsck.repair=yes rootwait\n',
  );
  writeFileSync(path.join(bootDir, 'vmlinuz-6.1.0-99-arm64'), `kernel of ${initial}\n`);
  writeFileSync(path.join(bootDir, 'initrd.img-6.1.0-99-arm64'), `initrd of ${initial}\n`);

  const format = installableFormat();
  const systemConf = path.join(dir, 'system.conf');
  writeFileSync(
    systemConf,
    readFileSync(path.join(imagesDir, 'rootfs/etc/rauc/system.conf'), 'utf8')
      .replace(/^bundle-formats=.*$/m, `bundle-formats=${format}`)
      .replace(/^data-directory=.*$/m, `data-directory=${path.join(dir, 'rauc-data')}`)
      .replace(/^mountprefix=.*$/m, `mountprefix=${path.join(dir, 'mnt')}`)
      .replace(/^path=\/etc\/rauc\/keyring.pem$/m, `path=${keys.keyring}`)
      .replace(/^bootloader-custom-backend=.*$/m, `bootloader-custom-backend=${BACKEND}`)
      .replace('device=/dev/disk/by-partuuid/6b696f73-02', `device=${slots.A}`)
      .replace('device=/dev/disk/by-partuuid/6b696f73-03', `device=${slots.B}`),
  );
  mkdirSync(path.join(dir, 'mnt'));
  const cmdline = path.join(dir, 'cmdline');

  // --- a private session bus --------------------------------------------------------------
  const busSocket = path.join(dir, 'bus');
  bus = spawn(
    'dbus-daemon',
    ['--session', '--nofork', '--nopidfile', `--address=unix:path=${busSocket}`],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !existsSync(busSocket); i++) await sleep(20);
  if (!existsSync(busSocket)) throw new Error('dbus-daemon did not create its socket');
  const env: Record<string, string> = {
    DBUS_STARTER_BUS_TYPE: 'session',
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${busSocket}`,
    DISK_KIOSK_BOOT_DIR: bootDir,
    DISK_KIOSK_RAUC_CONF: systemConf,
    DISK_KIOSK_PROC_CMDLINE: cmdline,
  };

  const backend = (args: string[]) => run(BACKEND, args, env);
  const provision = backend([
    'provision',
    'A',
    '--kernel',
    path.join(bootDir, 'vmlinuz-6.1.0-99-arm64'),
    '--initrd',
    path.join(bootDir, 'initrd.img-6.1.0-99-arm64'),
  ]);
  if (provision.status !== 0) throw new Error(`provision A: ${provision.stderr}`);

  const rauc = (args: string[]) => run('rauc', args, env);
  const startService = async (slot: SlotName) => {
    writeFileSync(cmdline, `console=tty0 root=${slots[slot]} rauc.slot=${slot} rootwait\n`);
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'mount --bind "$1" /proc/cmdline && exec rauc --conf="$2" service',
        'sh',
        cmdline,
        systemConf,
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr?.on('data', (d) => {
      log = (log + String(d)).slice(-8000);
    });
    service = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`rauc service exited: ${log}`);
      if (rauc(['status', '--output-format=json']).status === 0) return;
      await sleep(50);
    }
    throw new Error(`rauc service did not come up: ${log}`);
  };

  const rig: RaucRig = {
    dir,
    bootDir,
    systemConf,
    keys,
    format,
    device,
    slots,
    env,
    booted: 'A',
    bundle(b) {
      const rootfs = makeRootfs(dir, b.version, b.files);
      const out = b.out ?? path.join(dir, `bundle-${b.version}-${Date.now()}.raucb`);
      const k = b.keys ?? keys;
      must(BUNDLE_SH, ['--rootfs', rootfs, '--format', format, '--out', out], {
        RAUC_CERT: k.cert,
        RAUC_KEY: k.key,
        RAUC_KEYRING: k.keyring,
      });
      rmSync(rootfs, { force: true });
      return out;
    },
    rauc,
    status() {
      const r = rauc(['status', '--detailed', '--output-format=json']);
      if (r.status !== 0) throw new Error(`rauc status: ${r.stderr}`);
      return JSON.parse(r.stdout) as RaucStatus;
    },
    backend,
    backendStatus() {
      const r = backend(['status']);
      if (r.status !== 0) throw new Error(`rauc-tryboot status: ${r.stderr}`);
      return Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    },
    slotFile(slot, file) {
      return must('debugfs', ['-R', `cat ${file}`, slots[slot]]);
    },
    boot(file) {
      const f = path.join(bootDir, file);
      return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
    },
    handleRebootRequest(requestFile) {
      const bin = path.join(dir, 'fake-bin');
      mkdirSync(bin, { recursive: true });
      const record = path.join(dir, 'systemctl.args');
      rmSync(record, { force: true });
      writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\n`, {
        mode: 0o755,
      });
      const r = run(UPDATE_REBOOT, [requestFile], {
        ...env,
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        RAUC_TRYBOOT: BACKEND,
      });
      const systemctl = existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : [];
      return { status: r.status, systemctl, out: r.stdout + r.stderr };
    },
    async reboot({ tryboot }) {
      await stopService();
      const file =
        tryboot && existsSync(path.join(bootDir, 'tryboot.txt')) ? 'tryboot.txt' : 'config.txt';
      const m = /^# disk-kiosk-slot=([AB])/m.exec(readFileSync(path.join(bootDir, file), 'utf8'));
      if (!m) throw new Error(`${file} names no slot`);
      const slot = m[1] as SlotName;
      await startService(slot);
      rig.booted = slot;
      return slot;
    },
    close,
  };
  await startService('A');
  return rig;
}

/** The slot entry of a `rauc status` for a bootname. */
export function slotOf(s: RaucStatus, bootname: SlotName) {
  for (const entry of s.slots) {
    const [name, v] = Object.entries(entry)[0] as [string, RaucStatus['slots'][0][string]];
    if (v.bootname === bootname) return { name, ...v };
  }
  throw new Error(`no slot ${bootname}`);
}

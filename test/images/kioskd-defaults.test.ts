// The image's kioskd defaults (/usr/share/disk-kiosk/kioskd.defaults.json): a valid kioskd
// configuration for a Raspberry Pi 4 kiosk on real hardware (GPIO lines by chip label +
// offset, a USB port per slot, the root storage helper), consistent with the units that
// provide the helper socket and its mount directory.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createDrives } from '../../hal/drives/index.js';
import { createMotorBoard } from '../../hal/motor-board/index.js';
import { RealStorage } from '../../hal/storage/real.js';
import { createUsb } from '../../hal/usb/index.js';
import { parseConfig } from '../../kiosk/config.js';
import { createHardware } from '../../kiosk/hardware.js';
import { imagesDir } from './fake-root.js';

const rootfs = path.join(imagesDir, 'rootfs');
const read = (f: string) => readFileSync(path.join(rootfs, f), 'utf8');
const raw = JSON.parse(read('usr/share/disk-kiosk/kioskd.defaults.json'));

// BCM pins with another job on a kiosk: ID EEPROM (0, 1), I2C (2, 3), UART console (14, 15).
const RESERVED = [0, 1, 2, 3, 14, 15];

t.test('the defaults are a valid kioskd configuration', async (t) => {
  const cfg = parseConfig(raw, { env: {} });
  t.equal(cfg.slots.count, 12);
  t.equal(cfg.hardware.motorBoard.driver, 'real');
});

t.test('GPIO: one relay per slot, door and tamper, by chip label and BCM offset', async (t) => {
  const gpio = raw.hardware.gpio;
  t.equal(gpio.driver, 'real');
  const slots = gpio.relays.map((r: { slot: number }) => r.slot);
  t.same(
    slots,
    Array.from({ length: raw.slots.count }, (_, i) => i + 1),
    'slots 1..N in order',
  );
  const lines = [...gpio.relays, gpio.door, gpio.tamper];
  for (const l of lines) {
    t.equal(l.chip, 'pinctrl-bcm2711', 'chip by label, never by sysfs base number');
    t.ok(
      Number.isInteger(l.offset) && l.offset >= 0 && l.offset <= 27,
      `offset ${l.offset} on the header`,
    );
    t.notOk(RESERVED.includes(l.offset), `offset ${l.offset} is free for kiosk use`);
  }
  const offsets = lines.map((l: { offset: number }) => l.offset);
  t.equal(new Set(offsets).size, offsets.length, 'no line used twice');
});

t.test('USB: a distinct port path for every slot', async (t) => {
  const ports = raw.hardware.usb.slotPorts as Record<string, string>;
  t.same(
    Object.keys(ports),
    Array.from({ length: raw.slots.count }, (_, i) => String(i + 1)),
  );
  for (const p of Object.values(ports)) t.match(p, /^\d+-\d+(\.\d+)*$/);
  t.equal(new Set(Object.values(ports)).size, raw.slots.count);
});

t.test('kioskd builds its hardware from the defaults (real GPIO, USB ports, helper)', async (t) => {
  const cfg = parseConfig(raw, { env: {} });
  const n = cfg.slots.count;
  const hw = await createHardware(cfg, {
    board: await createMotorBoard({ driver: 'sim', slots: n }),
    usb: await createUsb({ driver: 'sim', ports: ['1-1.1.1'] }),
    drives: await createDrives({ driver: 'sim', slotCount: n }),
  });
  t.equal(hw.usbPortOf(1), '1-1.1.1');
  t.equal(hw.usbPortOf(12), '1-1.3.4');
  t.ok(hw.storage instanceof RealStorage);
  t.equal((hw.storage as RealStorage).privileged.via, 'helper', 'mkfs/mount/wipe go to the helper');
});

t.test('storage: the helper socket and mount root are the ones the image provides', async (t) => {
  const storage = raw.hardware.storage;
  t.match(
    read('etc/systemd/system/disk-kiosk-storage.socket'),
    new RegExp(`^ListenStream=${storage.helperSocket}$`, 'm'),
  );
  t.match(read('etc/tmpfiles.d/disk-kiosk.conf'), new RegExp(`^d ${storage.mountRoot} `, 'm'));
  t.match(
    read('usr/libexec/disk-kiosk/storage-helper'),
    new RegExp(`mnt_root=\\$\\{DISK_KIOSK_MNT_ROOT:-${storage.mountRoot}\\}`),
  );
  t.match(
    read('etc/systemd/system/kioskd.service'),
    new RegExp(`^ReadWritePaths=-${storage.mountRoot}$`, 'm'),
  );
});

t.test('technicians (kiosk-tech) can reach the maintenance socket', async (t) => {
  const unit = read('etc/systemd/system/kioskd.service');
  t.equal(path.dirname(raw.maintenanceSocket), '/run/disk-kiosk');
  t.match(
    unit,
    /^RuntimeDirectory=disk-kiosk$/m,
    "the socket directory is kioskd's runtime directory",
  );
  const mode = /^RuntimeDirectoryMode=(\d+)$/m.exec(unit)?.[1];
  t.ok(mode && (Number.parseInt(mode, 8) & 0o001) !== 0, `others may traverse it (mode ${mode})`);
  t.match(
    unit,
    /^SupplementaryGroups=.*\bkiosk-tech\b/m,
    'kioskd may give the socket to kiosk-tech',
  );
  t.match(unit, /^UMask=0027$/m);
});

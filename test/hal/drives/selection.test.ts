import t from 'tap';
import { emptyTable } from '../../../hal/drives/calibration-table.js';
import { type DrivelistDrive, RealDiskScanner } from '../../../hal/drives/real.js';
import { selectDisks } from '../../../hal/drives/selection.js';
import type { CalibrationTable } from '../../../hal/drives/types.js';

const USB2_PORT = 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3';
const USB3_PORT = 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:2';

function drive(device: string, over: Partial<DrivelistDrive> = {}): DrivelistDrive {
  return {
    device,
    size: 1e9,
    isUSB: true,
    isRemovable: true,
    isVirtual: false,
    isSystem: false,
    isReadOnly: false,
    error: null,
    mountpoints: [],
    ...over,
  };
}

/** A Raspberry Pi booted from a USB SSD, with an SD card reader, zram, and two rental disks. */
const drives: DrivelistDrive[] = [
  drive('/dev/sda', { mountpoints: [{ path: '/boot/firmware' }, { path: '/' }], isSystem: false }),
  drive('/dev/sdb'),
  drive('/dev/sdc'),
  drive('/dev/zram0', { isUSB: null, isVirtual: true, size: null }),
  drive('/dev/mmcblk0', { isUSB: false, isRemovable: false }),
  drive('/dev/sdd', { mountpoints: [{ path: '/var' }] }),
  drive('/dev/sde'), // the system disk by another name: only systemDisks tells
];
const links = [
  {
    name: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.1:1.0-scsi-0:0:0:0',
    device: '/dev/sda',
  },
  { name: `${USB2_PORT}:1.0-scsi-0:0:0:0`, device: '/dev/sdb' },
  {
    name: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.4:1.0-scsi-0:0:0:0',
    device: '/dev/sdc',
  },
  { name: 'platform-fe340000.mmc', device: '/dev/mmcblk0' },
  {
    name: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.2:1.0-scsi-0:0:0:0',
    device: '/dev/sdd',
  },
  {
    name: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.1:1.0-scsi-0:0:0:0',
    device: '/dev/sde',
  },
];

const scanner = (over: { drives?: DrivelistDrive[]; systemDisks?: string[] } = {}) =>
  new RealDiskScanner({
    listDrives: async () => over.drives ?? drives,
    lsblk: async () => [
      { path: '/dev/sdb', serial: 'WD-123 ', ro: false, tran: 'usb' },
      { path: '/dev/sdc', serial: null, ro: '1', tran: 'usb' },
    ],
    byPath: async () => links,
    systemDisks: async () => over.systemDisks ?? ['/dev/sde'],
  });

const table: CalibrationTable = {
  version: 1,
  slots: {
    '1': [USB2_PORT, USB3_PORT],
    // A bad calibration that points at the system disk's port must not expose it.
    '7': ['platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.1'],
    '8': ['platform-fe340000.mmc'],
    '9': ['platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.2'],
  },
};

t.test('system disks are excluded even when the table maps their port', async (t) => {
  const sel = selectDisks(await scanner().scan(), table);
  const excluded = Object.fromEntries(sel.excluded.map((e) => [e.device, e.reason]));
  t.match(excluded['/dev/sda'], /system mountpoint/);
  t.match(excluded['/dev/sdd'], /system mountpoint \/var/);
  t.match(excluded['/dev/sde'], /system mount/);
  t.match(excluded['/dev/zram0'], /neither USB/);
  for (const d of ['/dev/sda', '/dev/sdd', '/dev/sde']) {
    t.notOk(
      sel.candidates.some((c) => c.device === d),
      `${d} is not a candidate`,
    );
    t.notOk(
      sel.slotDisks.some((c) => c.device === d),
      `${d} is not a slot disk`,
    );
  }
});

t.test('drivelist isSystem alone is enough to exclude', async (t) => {
  const sel = selectDisks(
    await scanner({ drives: [drive('/dev/sdb', { isSystem: true })], systemDisks: [] }).scan(),
    table,
  );
  t.same(sel.slotDisks, []);
  t.same(sel.candidates, []);
});

t.test(
  'USB disks are candidates; calibrated ones are slot disks with serial and ports',
  async (t) => {
    const sel = selectDisks(await scanner().scan(), table);
    t.same(
      sel.candidates.map((c) => c.device),
      ['/dev/sdb', '/dev/sdc', '/dev/mmcblk0'],
      'the non-USB, non-removable mmc is in only because slot 8 names its path',
    );
    t.same(
      sel.slotDisks.map((d) => [d.slot, d.device]),
      [
        [1, '/dev/sdb'],
        [8, '/dev/mmcblk0'],
      ],
    );
    const sdb = sel.slotDisks[0]!;
    t.equal(sdb.serial, 'WD-123');
    t.same(sdb.portPaths, [USB2_PORT]);
    t.equal(sdb.usb, true);
    const sdc = sel.candidates.find((c) => c.device === '/dev/sdc')!;
    t.equal(sdc.readOnly, true, 'lsblk RO=1 is reported');
    t.equal(sdc.serial, null);
  },
);

t.test('without a table, the mmc card (not USB, not removable) is excluded', async (t) => {
  const sel = selectDisks(await scanner().scan(), emptyTable());
  t.same(sel.slotDisks, []);
  t.notOk(sel.candidates.some((c) => c.device === '/dev/mmcblk0'));
});

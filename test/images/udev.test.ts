// The udev rules, parsed by udev itself: `udevadm verify` does not exist in Debian 12's
// udev (252), so `udevadm test` loads every rules file in a private mount namespace in
// which /etc/udev/rules.d and /etc/group are the installed root's; any complaint about
// our file fails the test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { makeFakeRoot } from './fake-root.js';

const RULES = 'etc/udev/rules.d/70-disk-kiosk.rules';

/** udev's messages about our rules file, loaded as the installed root would. */
function udevComplaints(rootDir: string, file = RULES): string[] {
  const script = [
    'set -e',
    `mount --bind ${rootDir}/etc/udev/rules.d /etc/udev/rules.d`,
    `mount --bind ${rootDir}/etc/group /etc/group`,
    'udevadm test --action=add /sys/devices/virtual/mem/null 2>&1',
  ].join('\n');
  const res = spawnSync('unshare', ['--mount', 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (res.status !== 0)
    throw new Error(`udevadm test failed (exit ${res.status}): ${res.stdout}${res.stderr}`);
  const name = file.split('/').pop() ?? file;
  const lines = res.stdout.split('\n');
  if (!lines.some((l) => l.includes(`Reading rules file: /etc/udev/rules.d/${name}`))) {
    throw new Error(`udev did not read ${name}:\n${res.stdout.slice(0, 2000)}`);
  }
  return lines.filter((l) => l.includes(`${name}:`));
}

const canRun = process.getuid?.() === 0 && existsSync('/sys/devices/virtual/mem/null');
const full = process.env.DISK_KIOSK_FULL_TESTS === '1';
const skip = !canRun && !full ? 'needs root (unshare --mount) and udevadm' : false;

t.test('udev parses the rules without a complaint', { skip }, async (t) => {
  const root = makeFakeRoot(t, [
    '--board',
    '0403:6001:A10KX3B2',
    '--hub',
    '2109:2817,2109:0817,05e3:0610',
  ]);
  t.same(udevComplaints(root.dir), []);
  const rules = root.read(RULES);
  t.match(
    rules,
    /ATTRS\{idVendor\}=="0403", ATTRS\{idProduct\}=="6001", ATTRS\{serial\}=="A10KX3B2", SYMLINK\+="kiosk-board"/,
  );
  t.match(
    rules,
    /ATTRS\{idVendor\}=="05e3", ATTRS\{idProduct\}=="0610", ENV\{DISK_KIOSK_SLOT_HUB\}="1"/,
  );
  t.match(rules, /ENV\{UDISKS_IGNORE\}="1", ENV\{UDISKS_AUTO\}="0"/);
  t.match(rules, /KERNEL=="gpiochip\*", GROUP="gpio", MODE="0660"/);
  t.match(
    rules,
    /KERNEL=="event\*", ENV\{ID_BUS\}=="usb", ENV\{ID_INPUT_KEY\}=="1", GROUP="kiosk-keypad", MODE="0640"/,
  );
});

t.test('a broken rule is reported', { skip }, async (t) => {
  const root = makeFakeRoot(t);
  mkdirSync(root.path('etc/udev/rules.d'), { recursive: true });
  writeFileSync(
    root.path('etc/udev/rules.d/71-broken.rules'),
    'SUBSYSTEM=="block", BOGUS{x}="1"\nKERNEL=="sd*", GROUP="no-such-group"\n',
  );
  const complaints = udevComplaints(root.dir, 'etc/udev/rules.d/71-broken.rules');
  t.equal(complaints.length, 2, complaints.join('\n'));
});

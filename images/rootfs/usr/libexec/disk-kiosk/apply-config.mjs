#!/usr/bin/env node
// Every boot (disk-kiosk-config.service): applies /boot/firmware/kiosk.conf.
//  - /etc/disk-kiosk/kioskd.json from /usr/share/disk-kiosk/kioskd.defaults.json, the
//    kiosk.conf values and /var/lib/disk-kiosk/config/kioskd.local.json (persistent
//    technician overrides, deep-merged last)
//  - timezone, hostname
//  - network: systemd-networkd files in /run/systemd/network, wpa_supplicant for Wi-Fi
// The root is a read-only overlay with a tmpfs upper layer: /etc changes last until the
// next boot, which applies them again.
//   apply-config.mjs [--root DIR] [--conf FILE]    (--root: act on a directory tree, no
//                                                    live changes; used by the tests)
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { readKioskConf } from './kiosk-conf.mjs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = opt('--root') ?? '/';
const live = root === '/';
const p = (f) => path.join(root, f);
const confFile = opt('--conf') ?? p('/boot/firmware/kiosk.conf');
const log = (msg) => process.stdout.write(`apply-config: ${msg}\n`);

function write(file, text, mode = 0o644) {
  mkdirSync(path.dirname(p(file)), { recursive: true });
  writeFileSync(p(file), text, { mode });
  chmodSync(p(file), mode);
}

function deepMerge(base, over) {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

function groupId(name) {
  const line = readFileSync(p('/etc/group'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return line ? Number(line.split(':')[2]) : undefined;
}

/** ws(s)://host/kiosk from the hub's http(s) base URL. */
export function kioskSocketUrl(hubUrl) {
  const u = new URL(hubUrl);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (!u.pathname.endsWith('/kiosk')) u.pathname = `${u.pathname.replace(/\/$/, '')}/kiosk`;
  return u.toString();
}

let conf = {};
if (existsSync(confFile)) {
  const parsed = readKioskConf(confFile);
  for (const e of parsed.errors) log(`${confFile}: ${e} (ignored)`);
  for (const k of parsed.unknown) log(`${confFile}: unknown key ${k} (ignored)`);
  conf = parsed.values;
} else {
  log(`${confFile} not found: using the image defaults`);
}

// --- kioskd configuration ---------------------------------------------------------
let cfg = JSON.parse(readFileSync(p('/usr/share/disk-kiosk/kioskd.defaults.json'), 'utf8'));
if (conf.KIOSK_ID) {
  if (/^[A-Za-z0-9._-]{1,128}$/.test(conf.KIOSK_ID)) cfg.kioskId = conf.KIOSK_ID;
  else log(`KIOSK_ID "${conf.KIOSK_ID}" refused: use 1-128 of A-Z a-z 0-9 . _ -`);
}
if (conf.HUB_URL) {
  try {
    cfg.hub.url = kioskSocketUrl(conf.HUB_URL);
  } catch {
    log(`HUB_URL "${conf.HUB_URL}" is not a URL (ignored)`);
  }
}
if (conf.HARDWARE === 'sim') {
  for (const dev of Object.keys(cfg.hardware)) cfg.hardware[dev] = { driver: 'sim' };
} else if (conf.HARDWARE && conf.HARDWARE !== 'real')
  log(`HARDWARE must be real or sim (ignored "${conf.HARDWARE}")`);
if (conf.SLOTS) {
  const n = Number(conf.SLOTS);
  if (Number.isInteger(n) && n >= 1 && n <= 512) cfg.slots.count = n;
  else log(`SLOTS must be 1..512 (ignored "${conf.SLOTS}")`);
}
if (conf.LOG_LEVEL) cfg.logLevel = conf.LOG_LEVEL;
const localFile = p('/var/lib/disk-kiosk/config/kioskd.local.json');
if (existsSync(localFile)) {
  try {
    cfg = deepMerge(cfg, JSON.parse(readFileSync(localFile, 'utf8')));
    log(`merged ${localFile}`);
  } catch (err) {
    log(`${localFile} is not valid JSON, ignored: ${err.message}`);
  }
}
write('/etc/disk-kiosk/kioskd.json', `${JSON.stringify(cfg, null, 2)}\n`, 0o640);
const kioskGid = groupId('kiosk');
if (kioskGid !== undefined) chownSync(p('/etc/disk-kiosk/kioskd.json'), 0, kioskGid);
log(
  `kioskd.json: kiosk ${cfg.kioskId}, hub ${cfg.hub.url}, hardware ${cfg.hardware.motorBoard.driver}`,
);

// --- timezone, hostname -----------------------------------------------------------
const tz = conf.TIMEZONE || 'Etc/UTC';
if (
  /^[A-Za-z0-9_+/-]+$/.test(tz) &&
  !tz.includes('..') &&
  existsSync(p(`/usr/share/zoneinfo/${tz}`))
) {
  rmSync(p('/etc/localtime'), { force: true });
  symlinkSync(`/usr/share/zoneinfo/${tz}`, p('/etc/localtime'));
  write('/etc/timezone', `${tz}\n`);
} else log(`TIMEZONE "${tz}" is not a known zone (kept the image's)`);
const host = (conf.HOSTNAME || `kiosk-${cfg.kioskId}`)
  .toLowerCase()
  .replace(/[^a-z0-9-]/g, '-')
  .slice(0, 63);
write('/etc/hostname', `${host}\n`);
if (live) execFileSync('hostname', [host]);

// --- network ----------------------------------------------------------------------
const wired = ['[Match]', 'Type=ether', '', '[Network]'];
if (conf.ETH_ADDRESS) {
  wired.push(`Address=${conf.ETH_ADDRESS}`);
  if (conf.ETH_GATEWAY) wired.push(`Gateway=${conf.ETH_GATEWAY}`);
} else wired.push('DHCP=yes');
for (const dns of (conf.DNS ?? '').split(/[\s,]+/).filter(Boolean)) wired.push(`DNS=${dns}`);
write('/run/systemd/network/10-disk-kiosk-wired.network', `${wired.join('\n')}\n`);
if (conf.WIFI_SSID) {
  const bad = (s) => /["\n\\]/.test(s);
  if (bad(conf.WIFI_SSID) || bad(conf.WIFI_PSK ?? '')) {
    log(
      'WIFI_SSID / WIFI_PSK must not contain quotes, backslashes or newlines: Wi-Fi not configured',
    );
  } else {
    const psk = /^[0-9a-fA-F]{64}$/.test(conf.WIFI_PSK ?? '')
      ? conf.WIFI_PSK
      : `"${conf.WIFI_PSK ?? ''}"`;
    const net = conf.WIFI_PSK ? `  psk=${psk}\n` : '  key_mgmt=NONE\n';
    write(
      '/etc/wpa_supplicant/wpa_supplicant-wlan0.conf',
      `ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev\nupdate_config=0\ncountry=${(conf.WIFI_COUNTRY || 'DE').slice(0, 2)}\n\nnetwork={\n  ssid="${conf.WIFI_SSID}"\n${net}}\n`,
      0o600,
    );
    write(
      '/run/systemd/network/20-disk-kiosk-wifi.network',
      '[Match]\nName=wlan0\n\n[Network]\nDHCP=yes\n',
    );
    if (live) execFileSync('systemctl', ['--no-block', 'start', 'wpa_supplicant@wlan0.service']);
    log(`Wi-Fi: ${conf.WIFI_SSID}`);
  }
}
log('done');

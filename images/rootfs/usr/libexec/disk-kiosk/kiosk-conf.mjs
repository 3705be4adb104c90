// Reads and rewrites kiosk.conf, the provisioning file on the FAT boot partition.
// Format: KEY=value lines, '#' comments, optional single or double quotes around the
// value. It is parsed, never sourced by a shell.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Every key kiosk.conf may hold (unknown keys are reported, not fatal). */
export const KNOWN_KEYS = [
  'KIOSK_ID',
  'HUB_URL',
  'ENROL_TOKEN',
  'TIMEZONE',
  'HOSTNAME',
  'WIFI_SSID',
  'WIFI_PSK',
  'WIFI_COUNTRY',
  'ETH_ADDRESS',
  'ETH_GATEWAY',
  'DNS',
  'HARDWARE',
  'SLOTS',
  'LOG_LEVEL',
  'UPDATE_TRIAL_SECONDS',
];

/** Parses kiosk.conf text into { values, unknown, errors }. */
export function parseKioskConf(text) {
  const values = {};
  const unknown = [];
  const errors = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      errors.push(`line ${i + 1}: expected KEY=value, got "${line}"`);
      return;
    }
    let value = m[2];
    const q = /^(["'])(.*)\1$/.exec(value);
    if (q) value = q[2];
    else value = value.replace(/\s+#.*$/, '').trim();
    if (!KNOWN_KEYS.includes(m[1])) unknown.push(m[1]);
    values[m[1]] = value;
  });
  return { values, unknown, errors };
}

export function readKioskConf(file) {
  return parseKioskConf(readFileSync(file, 'utf8'));
}

/** Sets one key's value in place (keeps comments and order), durably: temp file, fsync, rename. */
export function setKioskConfValue(file, key, value, note) {
  const text = readFileSync(file, 'utf8');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const re = new RegExp(`^\\s*${key}\\s*=`);
  let found = false;
  const out = [];
  for (const line of lines) {
    if (re.test(line)) {
      found = true;
      if (note) out.push(`# ${note}`);
      out.push(`${key}=${value}`);
    } else out.push(line);
  }
  if (!found) out.push(`${key}=${value}`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, out.join(eol));
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
}

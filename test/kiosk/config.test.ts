import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig, parseConfig, resolveHubCredentials } from '../../kiosk/config.js';
import { tempDir } from './fixtures/kit.js';

const base = () => ({
  kioskId: 'kiosk-1',
  dataDir: '/var/lib/disk-kiosk',
  hub: { url: 'wss://hub.example/kiosk', secretFile: 'secret', publicKeyPem: 'PEM' },
  slots: { count: 12 },
  hardware: {
    motorBoard: { driver: 'real', path: '/dev/ttyAMA0' },
    gpio: { driver: 'sim' },
    usb: { driver: 'sim', ports: 12 },
    drives: { driver: 'real' },
    storage: { driver: 'sim' },
  },
});

function write(t: Parameters<typeof tempDir>[0], value: unknown): string {
  const file = path.join(tempDir(t), 'kioskd.json');
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test('a good file loads with defaults filled', async (t) => {
  const cfg = loadConfig(write(t, base()), { env: {} });
  t.equal(cfg.kioskId, 'kiosk-1');
  t.equal(cfg.hub.heartbeatFallbackSeconds, 60);
  t.same(cfg.hub.backoff, { baseMs: 1000, capMs: 60_000, stableSeconds: 60 });
  t.equal(cfg.dispense.pickupWindowSeconds, 60);
  t.equal(cfg.logLevel, 'info');
  t.match(cfg.hardware.motorBoard, { driver: 'real', path: '/dev/ttyAMA0', baudRate: 115200 });
  t.match(cfg.hardware.usb, { driver: 'sim', ports: 12 }, 'driver options pass through');
});

t.test('env overrides win over the file', async (t) => {
  const cfg = loadConfig(write(t, base()), {
    env: { KIOSKD_HUB_URL: 'ws://127.0.0.1:9/kiosk', KIOSKD_SLOTS: '3', KIOSKD_LOG_LEVEL: 'debug' },
  });
  t.equal(cfg.hub.url, 'ws://127.0.0.1:9/kiosk');
  t.equal(cfg.slots.count, 3);
  t.equal(cfg.logLevel, 'debug');
  const err = errorOf(() => loadConfig(write(t, base()), { env: { KIOSKD_SLOTS: 'many' } }));
  t.match(err.message, /KIOSKD_SLOTS=many is not a number/);
});

t.test('a typo is an error naming the key path and the file', async (t) => {
  const cfg = base() as Record<string, unknown>;
  (cfg.hub as Record<string, unknown>).heartbeatFalbackSeconds = 5;
  const file = write(t, cfg);
  const err = errorOf(() => loadConfig(file, { env: {} }));
  t.equal(err.code, 'ECONFIG');
  t.equal(err.keyPath, '/hub/heartbeatFalbackSeconds');
  t.equal(err.file, file);
  t.match(err.message, file);
  t.match(err.message, /\/hub\/heartbeatFalbackSeconds: unknown key/);
});

t.test('a missing key and a wrong type name their paths', async (t) => {
  const missing = base() as Record<string, unknown>;
  delete missing.kioskId;
  t.match(
    errorOf(() => parseConfig(missing, { env: {} })),
    {
      keyPath: '/kioskId',
      message: /\/kioskId: missing required key/,
    },
  );
  const wrong = base();
  (wrong.slots as { count: unknown }).count = 'twelve';
  t.match(
    errorOf(() => parseConfig(wrong, { env: {} })),
    { keyPath: '/slots/count' },
  );
  const dev = base();
  (dev.hardware.motorBoard as Record<string, unknown>).baudRate = 'fast';
  t.match(
    errorOf(() => parseConfig(dev, { env: {} })),
    {
      keyPath: '/hardware/motorBoard/baudRate',
    },
  );
  const drv = base();
  (drv.hardware.gpio as Record<string, unknown>).driver = 'fake';
  t.match(
    errorOf(() => parseConfig(drv, { env: {} })),
    {
      keyPath: '/hardware/gpio/driver',
      message: /"real" or "sim"/,
    },
  );
  const both = base();
  (both.hub as Record<string, unknown>).secret = 's';
  t.match(
    errorOf(() => parseConfig(both, { env: {} })),
    { message: /exactly one of/ },
  );
});

t.test('unreadable and non-JSON files are clear errors', async (t) => {
  t.match(
    errorOf(() => loadConfig('/nonexistent/kioskd.json', { env: {} })),
    {
      file: '/nonexistent/kioskd.json',
      message: /cannot read configuration file/,
    },
  );
  t.match(
    errorOf(() => loadConfig(write(t, '{"kioskId": '), { env: {} })),
    {
      message: /is not valid JSON/,
    },
  );
});

t.test('credentials are read from files', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'secret'), 'abc\n');
  const cfg = parseConfig(base(), { env: {} });
  t.same(resolveHubCredentials(cfg, dir), { secret: 'abc', publicKeyPem: 'PEM' });
  t.throws(() => resolveHubCredentials(cfg, '/nonexistent'), { code: 'ECONFIG' });
});

t.test('hub.caFile: a private CA for the hub TLS, read with the credentials', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'secret'), 'abc\n');
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  writeFileSync(path.join(dir, 'hub-ca.pem'), `${pem}\n`);
  const cfg = parseConfig({ ...base(), hub: { ...base().hub, caFile: 'hub-ca.pem' } }, { env: {} });
  t.same(resolveHubCredentials(cfg, dir), { secret: 'abc', publicKeyPem: 'PEM', caPem: pem });
  const fromEnv = parseConfig(base(), {
    env: { KIOSKD_HUB_CA_FILE: '/etc/disk-kiosk/hub-ca.pem' },
  });
  t.equal(fromEnv.hub.caFile, '/etc/disk-kiosk/hub-ca.pem', 'KIOSKD_HUB_CA_FILE');
  writeFileSync(path.join(dir, 'not-a-cert.pem'), 'hello\n');
  const bad = parseConfig(
    { ...base(), hub: { ...base().hub, caFile: 'not-a-cert.pem' } },
    { env: {} },
  );
  const err = errorOf(() => resolveHubCredentials(bad, dir));
  t.equal(err.keyPath, '/hub/caFile');
  t.match(err.message, /holds no PEM certificate/);
  const missing = parseConfig(
    { ...base(), hub: { ...base().hub, caFile: 'nope.pem' } },
    { env: {} },
  );
  t.equal(errorOf(() => resolveHubCredentials(missing, dir)).keyPath, '/hub/caFile');
});

t.test(
  'the real GPIO lines and the USB slot ports are checked where kioskd reads them',
  async (t) => {
    const lines = base();
    lines.hardware.gpio = {
      driver: 'real',
      relays: [{ slot: 1, chip: 'pinctrl-bcm2711', offset: -5 }],
      door: { chip: 'pinctrl-bcm2711', offset: 25, openLevel: 1 },
      tamper: { chip: 'pinctrl-bcm2711', offset: 26, activeLevel: 1 },
    } as never;
    t.match(
      errorOf(() => parseConfig(lines, { env: {} })),
      {
        keyPath: '/hardware/gpio/relays/0/offset',
      },
    );
    const level = base();
    level.hardware.gpio = {
      driver: 'real',
      door: { chip: 'pinctrl-bcm2711', offset: 25, openLevel: 2 },
    } as never;
    t.match(
      errorOf(() => parseConfig(level, { env: {} })),
      {
        keyPath: '/hardware/gpio/door/openLevel',
      },
    );
    const ports = base();
    (ports.hardware.usb as Record<string, unknown>).slotPorts = { 1: 3 };
    t.match(
      errorOf(() => parseConfig(ports, { env: {} })),
      {
        keyPath: '/hardware/usb/slotPorts/1',
      },
    );
    const ok = base();
    ok.hardware.gpio = { driver: 'real' } as never;
    t.equal(
      parseConfig(ok, { env: {} }).hardware.gpio.driver,
      'real',
      'the lines stay optional in the file (kiosk/hardware.ts names a missing one)',
    );
  },
);

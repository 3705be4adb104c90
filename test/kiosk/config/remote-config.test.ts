// ApplyConfig on a real kioskd (sim hardware, real WebSocket test hub): a valid version is
// written atomically to <dataDir>/remote-config.json, the log level applies at once and the rest
// is reported as waiting for a restart; an invalid, stale or unwritable version is refused with
// ConfigRejected and changes nothing; the file is merged over the configuration at the next start.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import t from 'tap';
import { loadRemoteConfig, remoteConfigPath } from '../../../kiosk/config/remote-config.js';
import { createLogger, setLogLevel } from '../../../kiosk/log.js';
import { signCommand } from '../../../protocol/index.js';
import { KIOSK_ID, simConfig, startRig } from '../daemon/harness.js';

t.test('ApplyConfig: applied, refused, stale, unwritable; loaded at the next start', async (t) => {
  const rig = await startRig(t);
  const d = rig.daemon;
  const base = simConfig(rig.dir, rig.hub.url, rig.keys.publicKeyPem);
  const file = remoteConfigPath(base);
  t.same(rig.hub.boots[0]!.config, { version: 0, restartPending: false }, 'Boot reports version 0');

  const apply = (version: number, settings: Record<string, unknown>) =>
    rig.hub.call(
      'ApplyConfig',
      signCommand(
        rig.keys.privateKeyPem,
        KIOSK_ID,
        'ApplyConfig',
        { commandId: randomUUID(), version, settings },
        { ttlMs: 60_000 },
      ) as never,
    );

  // Version 1: the log level at once, the prestage interval at the next start.
  t.same(await apply(1, { logLevel: 'debug', 'cloning.prestageIntervalSeconds': 30 }), {
    status: 'Accepted',
  });
  await rig.until('ConfigApplied', () => rig.eventsOf('ConfigApplied').length === 1);
  t.match(rig.eventsOf('ConfigApplied')[0], {
    version: 1,
    restartRequired: ['cloning.prestageIntervalSeconds'],
  });
  t.equal(d.log.level, 'debug', 'the log level is in effect at once');
  t.same(d.remoteConfig.state(), { version: 1, restartPending: true });
  const written = JSON.parse(readFileSync(file, 'utf8'));
  t.same(written.settings, { logLevel: 'debug', 'cloning.prestageIntervalSeconds': 30 });
  t.equal(written.version, 1);

  // Invalid: every offending key named; nothing changes.
  const bad = await apply(2, { logLevel: 'loud', 'hub.url': 'ws://evil/kiosk' });
  t.equal(bad.status, 'Rejected');
  await rig.until('ConfigRejected', () => rig.eventsOf('ConfigRejected').length === 1);
  const rej = rig.eventsOf('ConfigRejected')[0];
  t.equal(rej.code, 'EINVALID');
  t.same(
    rej.errors.map((e: { key: string }) => e.key),
    ['logLevel', 'hub.url'],
  );
  t.same(d.remoteConfig.state(), { version: 1, restartPending: true }, 'still version 1');
  t.same(JSON.parse(readFileSync(file, 'utf8')), written, 'the file is unchanged');
  t.equal(d.log.level, 'debug');

  // Stale: an older or equal version with other settings; the same one again is a no-op.
  t.equal((await apply(1, { logLevel: 'warn' })).status, 'Rejected');
  await rig.until('ESTALE', () => rig.eventsOf('ConfigRejected').length === 2);
  t.equal(rig.eventsOf('ConfigRejected')[1].code, 'ESTALE');
  t.same(await apply(1, { logLevel: 'debug', 'cloning.prestageIntervalSeconds': 30 }), {
    status: 'Accepted',
  });

  // The file cannot be replaced (a directory in its way): EWRITE, no temp file left behind.
  rmSync(file);
  mkdirSync(`${file}/x`, { recursive: true });
  t.equal((await apply(3, { logLevel: 'error' })).status, 'Rejected');
  await rig.until('EWRITE', () => rig.eventsOf('ConfigRejected').length === 3);
  t.equal(rig.eventsOf('ConfigRejected')[2].code, 'EWRITE');
  t.same(d.remoteConfig.state(), { version: 1, restartPending: true });
  t.equal(d.log.level, 'debug', 'the refused level was not applied');
  t.same(
    readdirSync(base.dataDir).filter((n) => n.endsWith('.tmp')),
    [],
  );
  rmSync(file, { recursive: true });
  writeFileSync(file, `${JSON.stringify(written)}\n`);

  // The next start: the file merged over the configuration, nothing pending.
  const next = loadRemoteConfig(base);
  t.equal(next.version, 1);
  t.equal(next.config.cloning.prestageIntervalSeconds, 30);
  t.equal(next.config.logLevel, 'debug');
  t.equal(base.cloning.prestageIntervalSeconds, 60, 'the base configuration is untouched');
  // A file this kioskd cannot use is ignored (kioskd starts on its own configuration).
  writeFileSync(file, JSON.stringify({ version: 4, settings: { 'slots.count': 9 } }));
  const ignored = loadRemoteConfig(base);
  t.equal(ignored.version, 0);
  t.match(ignored.problem, /slots\.count: not a setting that can be changed remotely/);
});

t.test('setLogLevel reaches the children made before it', async (t) => {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const root = createLogger({ kioskId: 'k', level: 'info', destination: out });
  const child = root.child({ component: 'c' }).child({ slot: 1 });
  child.debug('hidden');
  setLogLevel(root, 'debug');
  child.debug('shown');
  t.equal(lines.length, 1);
  t.match(lines[0], /"msg":"shown"/);
});

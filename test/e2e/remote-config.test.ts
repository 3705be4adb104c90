// Remote configuration end to end: a real hub, a real kioskd (in process, sim hardware) over a
// real WebSocket, and a scripted kiosk. Operator API (authorised, per-field validation errors,
// optimistic versions, audited), fleet default + kiosk settings merged and delivered signed,
// applied by kioskd (log level at once, the rest after a restart), desired vs applied on the
// hub; an offline kiosk gets its settings when it comes back; a refusal is shown with its reason
// and not sent again; a version the hub never issued is ignored and flagged; a kioskd that lost
// its overrides file gets them again at its next Boot.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { remoteConfigPath } from '../../kiosk/config/remote-config.js';
import { Daemon } from '../../kiosk/daemon.js';
import { silentLogger } from '../../kiosk/log.js';
import { FEATURE_NAMES } from '../../protocol/index.js';
import { startTestHub, waitUntil } from '../cloud-lite/fixtures/test-hub.js';
import { startHubKioskd } from '../helpers/hub-kioskd.js';

t.test('remote configuration: operator -> hub -> kiosks and back', async (t) => {
  const hub = await startTestHub(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remote-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const k1 = await startHubKioskd(t, hub, dir, 'rc-1');
  const k2 = await hub.enrolKiosk('rc-2'); // offline for now
  const cfg = async (id: string) =>
    (await hub.api('GET', `/api/operator/kiosks/${id}/config`)).body.config;
  await waitUntil('kioskd booted', async () => (await cfg('rc-1')).applied !== null);
  t.match(await cfg('rc-1'), {
    state: 'in_sync',
    applied: { version: 0 },
    desired: { version: 0 },
  });

  // Authorisation, and validation per field.
  t.equal((await hub.api('GET', '/api/operator/config', undefined, null)).status, 401);
  const bad = await hub.api('POST', '/api/operator/config', {
    settings: {
      logLevel: 'loud',
      'hub.url': 'ws://x/kiosk',
      'cloning.prestage': [{ contentId: 'c' }],
    },
  });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'INVALID_SETTINGS');
  t.same(
    bad.body.error.errors.map((e: { key: string }) => e.key),
    ['logLevel', 'hub.url', 'cloning.prestage'],
  );

  // The fleet default, then rc-1's own on top.
  const fleet = await hub.api('POST', '/api/operator/config', {
    settings: { 'cloning.prestageIntervalSeconds': 30, logLevel: 'error' },
    expectedVersion: 0,
  });
  t.equal(fleet.status, 200);
  t.equal(fleet.body.config.version, 1);
  const stale = await hub.api('POST', '/api/operator/config', { settings: {}, expectedVersion: 0 });
  t.equal(stale.status, 409);
  t.equal(stale.body.error.code, 'CONFIG_CHANGED');
  const own = await hub.api('POST', '/api/operator/kiosks/rc-1/config', {
    settings: { logLevel: 'fatal' },
  });
  t.equal(own.body.config.version, 2);
  t.equal(
    (await hub.api('POST', '/api/operator/kiosks/nope/config', { settings: {} })).status,
    404,
  );

  await waitUntil('rc-1 applied version 2', async () => (await cfg('rc-1')).applied?.version === 2);
  const v1 = await cfg('rc-1');
  t.match(v1, {
    state: 'restart_pending',
    desired: { version: 2, settings: { 'cloning.prestageIntervalSeconds': 30, logLevel: 'fatal' } },
    applied: { version: 2, restartPending: true },
    rejected: null,
  });
  t.equal(k1.daemon.log.level, 'fatal', 'the log level is in effect at once');
  const file = JSON.parse(readFileSync(remoteConfigPath(k1.config), 'utf8'));
  t.same(file.settings, { 'cloning.prestageIntervalSeconds': 30, logLevel: 'fatal' });

  // Audited with who.
  const audit = await hub.server.store.transaction((tx) => tx.audit.list(100));
  const actions = audit
    .filter((a) => a.action.startsWith('config.'))
    .map((a) => `${a.action} ${a.actor} ${a.subject}`);
  t.ok(actions.includes('config.set admin-token fleet'), 'fleet change audited');
  t.ok(actions.includes('config.set admin-token rc-1'), 'kiosk change audited');
  t.ok(actions.includes('config.applied kiosk:rc-1 rc-1'), 'the kiosk report audited');

  // The offline kiosk comes back: its ApplyConfig (fleet default) waited for it. It refuses.
  const k2s = await hub.connectKiosk(k2, {
    onCommand: (c) =>
      c.action === 'ApplyConfig'
        ? { status: 'Rejected', reason: 'EINVALID: no' }
        : { status: 'Accepted' },
  });
  // As kioskd does: its Boot lists its features (apply-config among them) and the version it
  // runs (none yet); the hub sends the settings that waited for it.
  await k2s.peer.call('Boot', {
    kioskId: 'rc-2',
    softwareVersion: '0.1.0-test',
    slotCount: 4,
    bootReason: 'PowerOn',
    features: [...FEATURE_NAMES],
    config: { version: 0, restartPending: false },
  });
  const cmd = await k2s.waitForCommand((c) => c.action === 'ApplyConfig');
  t.match(cmd.payload, {
    version: 1,
    settings: { 'cloning.prestageIntervalSeconds': 30, logLevel: 'error' },
    signature: { kioskId: 'rc-2' },
  });
  await k2s.sendEvent('ConfigRejected', {
    commandId: cmd.payload.commandId,
    version: 1,
    code: 'EINVALID',
    reason: 'logLevel: not here',
    errors: [{ key: 'logLevel', message: 'not here' }],
  });
  await waitUntil('rc-2 refusal recorded', async () => (await cfg('rc-2')).state === 'rejected');
  t.match((await cfg('rc-2')).rejected, {
    version: 1,
    code: 'EINVALID',
    errors: [{ key: 'logLevel' }],
  });
  const listed = (await hub.api('GET', '/api/operator/config')).body;
  t.same(
    listed.kiosks.map((k: { kioskId: string; state: string }) => [k.kioskId, k.state]),
    [
      ['rc-1', 'restart_pending'],
      ['rc-2', 'rejected'],
    ],
  );
  t.ok(
    listed.settingKeys.some(
      (s: { key: string; applies: string }) => s.key === 'logLevel' && s.applies === 'now',
    ),
  );

  // A kiosk reporting a version the hub never issued (forged, buggy: 2^53 - 1) in a Heartbeat
  // or a ConfigApplied: not recorded, flagged, and the hub's next version is still its own.
  const huge = Number.MAX_SAFE_INTEGER;
  await k2s.peer.call('Heartbeat', { config: { version: huge, restartPending: false } });
  await k2s.sendEvent('ConfigApplied', {
    commandId: cmd.payload.commandId as string,
    version: huge,
    restartRequired: [],
  });
  t.match(
    await cfg('rc-2'),
    { state: 'rejected', applied: { version: 0 } },
    'the unissued version is not recorded',
  );
  const flags = (await hub.api('GET', '/api/operator/reconciliation')).body.flags;
  t.match(
    flags.find((f: { kind: string }) => f.kind === 'KIOSK_CONFIG_VERSION_UNKNOWN'),
    {
      subject: 'rc-2',
      message: /version 9007199254740991 .*above the highest this hub issued \(2\)/,
    },
    'the operator is told',
  );
  const next = await hub.api('POST', '/api/operator/kiosks/rc-2/config', {
    settings: { logLevel: 'warn' },
  });
  t.equal(next.body.config.version, 3, 'the next version follows what the hub issued');
  t.match(
    (await k2s.waitForCommand((c) => c.action === 'ApplyConfig' && c.payload.version === 3))
      .payload,
    { settings: { logLevel: 'warn' } },
  );

  // kioskd restarts having lost its overrides file: its Boot says version 0, the hub sends
  // version 2 again.
  await k1.daemon.stop();
  rmSync(remoteConfigPath(k1.config));
  const again = new Daemon({ config: k1.config, log: silentLogger(), env: {} });
  t.teardown(() => again.stop());
  await again.start();
  // (This failed 2 in 10 runs: the kiosk refused the re-sent version, signed for exactly 24 h,
  // as "more than 1440 minutes ahead" when its clock read a few ms behind the hub's; fixed by
  // the skew allowance, test/kiosk/handlers/verify-signed.test.ts. A failure says what the hub
  // sent rc-1 and what it recorded.)
  await waitUntil(
    'rc-1 back at version 2',
    () => again.remoteConfig.state().version === 2,
    30_000,
  ).catch(async (err: Error) => {
    const sent = await hub.server.store.read((r) => r.commands.listForKiosk('rc-1', { limit: 6 }));
    const seen = sent.map((c) => ({
      action: c.action,
      version: (c.payload as { version?: number }).version,
      state: c.state,
      createdAt: c.createdAt,
      result: c.result,
    }));
    const status = (await hub.server.store.read((r) => r.kiosks.get('rc-1')))?.status;
    err.message += `; the kiosk runs ${JSON.stringify(again.remoteConfig.state())}; the hub says ${status}, ${JSON.stringify(await cfg('rc-1'))}; its newest commands: ${JSON.stringify(seen)}`;
    throw err;
  });
  t.same(JSON.parse(readFileSync(remoteConfigPath(k1.config), 'utf8')).version, 2);
});

// Protocol feature negotiation (docs/protocol.md "Versions and features") against a real hub over
// real WebSockets: a Boot without `features` gets the baseline only, a kiosk that lists features
// gets their commands and fields, unknown names are ignored, a field the kiosk did not list is
// left out before signing, and a command recorded for a feature the kiosk no longer lists is
// failed, not sent. One hub for the whole file.
import t from 'tap';
import {
  BASELINE_FEATURES,
  FEATURE_NAMES,
  kioskFeatures,
  REMOTE_SETTINGS,
  verifyCommand,
} from '../../../protocol/index.js';
import { startTestHub, waitUntil } from '../fixtures/test-hub.js';

const hub = await startTestHub(t);
const h = hub.server.hub;
const soon = () => new Date(Date.now() + 60_000);
const applyConfig = { version: 1, settings: { logLevel: 'debug' } } as const;
const prepare = {
  reservationId: 'res-1',
  contentId: 'films',
  contentVersion: '1',
  minCapacityBytes: 1,
  writeProtect: true,
  holdUntil: new Date(Date.now() + 3600_000).toISOString(),
  slot: 2,
  reformatReady: { keepReady: 1 },
};
const sha = 'a'.repeat(64);
const installUpdate = {
  version: '2',
  bundleUrl: `${hub.baseUrl}/blobs/sha256/${sha}`,
  sha256: sha,
  size: 10,
  deadline: new Date(Date.now() + 3600_000).toISOString(),
};
const commandsOf = async (kioskId: string): Promise<Array<{ action: string }>> =>
  (await hub.api('GET', `/api/operator/kiosks/${kioskId}/commands`)).body.commands;

t.test('the baseline: the first self-updating kioskd', async (t) => {
  t.same(
    [...kioskFeatures(undefined)],
    ['prepare-slot', 'prepare-reformat-ready', 'install-update'],
  );
  t.same([...kioskFeatures(null)], [...BASELINE_FEATURES]);
  t.same([...kioskFeatures([])], [], 'an empty list: the core commands only');
  t.same(
    [...kioskFeatures(['apply-config', 'teleport-disk'])],
    ['apply-config'],
    'unknown ignored',
  );
  // One set per combination, shared by every kiosk that listed it (a hub holds one per session).
  t.equal(
    kioskFeatures(['apply-config', 'install-update', 'apply-config']),
    kioskFeatures(['install-update', 'teleport-disk', 'apply-config']),
    'the same names in another order, repeated or beside unknown ones: the same set',
  );
  t.same(
    [...kioskFeatures(['apply-config', 'install-update'])],
    ['install-update', 'apply-config'],
  );
  t.equal(kioskFeatures(undefined), kioskFeatures(null));
  t.not(kioskFeatures([]), kioskFeatures(undefined));
});

t.test('an old-style Boot (no features) gets nothing beyond the baseline', async (t) => {
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k-old'));
  t.equal((await kiosk.boot({ features: null })).status, 'Accepted');
  const view = await hub.api('GET', '/api/operator/kiosks/k-old');
  t.equal(view.body.kiosk.features, null, 'stored: none listed');

  for (const [action, payload, feature] of [
    ['ApplyConfig', applyConfig, 'apply-config'],
    ['ArmPickupCode', {}, 'arm-pickup-code'],
    ['UploadDiagnostics', {}, 'upload-diagnostics'],
  ] as const) {
    await t.rejects(
      h.sendCommand('k-old', action, payload as never, soon()),
      { code: 'KIOSK_LACKS_FEATURE', features: [feature], message: /cannot take/ },
      `${action} refused when it is created`,
    );
  }
  const diag = await hub.api('POST', '/api/operator/kiosks/k-old/diagnostics', { kind: 'bundle' });
  t.equal(diag.status, 409);
  t.equal(diag.body.error.code, 'KIOSK_LACKS_FEATURE', 'the operator is told');
  t.same(diag.body.error.features, ['upload-diagnostics']);
  t.match(diag.body.error.message, 'kiosk k-old cannot take UploadDiagnostics');
  t.same(
    (await hub.api('GET', '/api/operator/kiosks/k-old/diagnostics')).body.diagnostics,
    [],
    'no request recorded',
  );

  // The fleet's remote configuration is stored but not sent to it (it gets it once it boots
  // with software that lists apply-config).
  const set = await hub.api('POST', '/api/operator/config', { settings: { logLevel: 'warn' } });
  t.equal(set.status, 200);
  t.notOk(
    (await commandsOf('k-old')).some((c) => c.action === 'ApplyConfig'),
    'no ApplyConfig recorded for it',
  );

  // The baseline's command and fields go out as before.
  await h.sendCommand('k-old', 'PrepareDisk', prepare, soon());
  const got = await kiosk.waitForCommand((c) => c.action === 'PrepareDisk');
  t.equal(got.payload.slot, 2, 'PrepareDisk keeps slot');
  t.same(got.payload.reformatReady, { keepReady: 1 }, 'and reformatReady');
  await h.sendCommand('k-old', 'InstallUpdate', installUpdate, soon());
  await kiosk.waitForCommand((c) => c.action === 'InstallUpdate');
  t.notOk(
    kiosk.commands.some((c) => c.action === 'ApplyConfig' || c.action === 'UploadDiagnostics'),
    'it never received a command it did not list',
  );
  await kiosk.close();
});

t.test('a kiosk that lists features gets them; an unknown name is ignored', async (t) => {
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k-new'));
  const listed = [...FEATURE_NAMES, 'teleport-disk'];
  t.equal((await kiosk.boot({ features: listed })).status, 'Accepted', 'not refused');
  t.same((await hub.api('GET', '/api/operator/kiosks/k-new')).body.kiosk.features, listed);

  const set = await hub.api('POST', '/api/operator/config', { settings: { logLevel: 'info' } });
  t.equal(set.status, 200);
  const cfg = await kiosk.waitForCommand((c) => c.action === 'ApplyConfig');
  t.same(cfg.payload.settings, { logLevel: 'info' }, 'the fleet configuration reaches it');
  const diag = await hub.api('POST', '/api/operator/kiosks/k-new/diagnostics', { kind: 'bundle' });
  t.equal(diag.status, 202);
  await kiosk.waitForCommand((c) => c.action === 'UploadDiagnostics');

  // The features are the store's, not the connection's: offline, commands are still recorded
  // by them (by this process here; another process reads the same row).
  await kiosk.close();
  await waitUntil('k-new offline', () => !h.isConnected('k-new'));
  const later = await h.sendCommand('k-new', 'ApplyConfig', { ...applyConfig, version: 9 }, soon());
  t.equal(later.state, 'pending', 'recorded for the offline kiosk');
  await t.rejects(h.sendCommand('k-old', 'ApplyConfig', applyConfig, soon()), {
    code: 'KIOSK_LACKS_FEATURE',
  });
});

t.test('a kiosk without prepare-slot: the fields are left out before signing', async (t) => {
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k-vendor'));
  await kiosk.boot({ features: ['install-update'] });
  const cmd = await h.sendCommand('k-vendor', 'PrepareDisk', prepare, soon());
  t.notOk('slot' in cmd.payload, 'recorded without slot');
  const got = await kiosk.waitForCommand((c) => c.payload.commandId === cmd.id);
  t.notOk('slot' in got.payload || 'reformatReady' in got.payload, 'sent without both fields');
  t.equal(got.payload.reservationId, 'res-1');
  const key = hub.server.signingKey.publicKeyPem;
  t.ok(verifyCommand(key, 'k-vendor', 'PrepareDisk', got.payload).ok, 'the signature covers it');
  const plain = await h.sendCommand('k-vendor', 'InstallUpdate', installUpdate, soon());
  const sent = await kiosk.waitForCommand((c) => c.payload.commandId === plain.id);
  t.equal(sent.payload.sha256, sha, 'a command it lists is sent as is');
});

t.test('a kiosk that never booted is judged by its first Boot', async (t) => {
  const creds = await hub.enrolKiosk('k-first');
  const cmd = await h.sendCommand('k-first', 'ApplyConfig', applyConfig, soon());
  t.equal(cmd.state, 'pending', 'recorded: its features are not known yet');
  const kiosk = await hub.connectKiosk(creds);
  await kiosk.boot({ features: null });
  const done = await h.waitFor(cmd.id, { until: ['failed'], timeoutMs: 5000 });
  t.equal(done.result?.code, 'KIOSK_LACKS_FEATURE', 'its Boot lacks it: failed unsent');
  t.equal(kiosk.commands.length, 0);
});

t.test('a command recorded for a feature the kiosk no longer lists fails unsent', async (t) => {
  const creds = await hub.enrolKiosk('k-back');
  const first = await hub.connectKiosk(creds);
  await first.boot();
  await first.close();
  await waitUntil('k-back offline', () => !h.isConnected('k-back'));
  // Recorded while its last Boot listed apply-config (e.g. before it rolled back an update).
  const cmd = await h.sendCommand('k-back', 'ApplyConfig', applyConfig, soon());
  const again = await hub.connectKiosk(creds);
  await again.boot({ features: null });
  const done = await h.waitFor(cmd.id, { until: ['failed'], timeoutMs: 5000 });
  t.equal(done.result?.code, 'KIOSK_LACKS_FEATURE');
  t.same(done.result?.details, { features: ['apply-config'] });
  const stored = (await hub.api('GET', `/api/operator/commands/${cmd.id}`)).body.command;
  t.equal(stored.state, 'failed');
  t.equal(stored.attempts, 0, 'never sent');
  t.notOk(
    again.commands.some((c) => c.action === 'ApplyConfig'),
    'the kiosk did not get it',
  );
});

t.test('remote configuration follows the features, not a reported `config`', async (t) => {
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k-cfg'));
  await kiosk.boot({ features: null, config: { version: 0, restartPending: false } });
  const own = await hub.api('POST', '/api/operator/kiosks/k-cfg/config', {
    settings: { logLevel: 'warn' },
  });
  t.equal(own.status, 409, 'its own settings are refused at once');
  t.equal(own.body.error.code, 'KIOSK_LACKS_FEATURE');
  t.same(own.body.error.features, ['apply-config']);
  const view = (await hub.api('GET', '/api/operator/kiosks/k-cfg/config')).body.config;
  t.same(view.own, null, 'nothing recorded');
  t.same(view.applied, null, 'its reported config is not taken as support');

  const fleet = await hub.api('POST', '/api/operator/config', { settings: { logLevel: 'error' } });
  t.equal(fleet.status, 200, 'the fleet default is kept for it');
  await kiosk.heartbeat();
  t.notOk(
    kiosk.commands.some((c) => c.action === 'ApplyConfig'),
    'no ApplyConfig for a kiosk without apply-config',
  );
  // Updated software lists apply-config (and reports the version it runs): its features decide.
  await kiosk.boot({ features: ['apply-config'], config: { version: 0, restartPending: false } });
  const cfg = await kiosk.waitForCommand((c) => c.action === 'ApplyConfig');
  t.same(cfg.payload.settings, { logLevel: 'error' }, 'the fleet default reaches it at its Boot');
  t.equal(cfg.payload.version, fleet.body.config.version);
  await kiosk.close();
});

t.test(
  'settings left out for a feature the kiosk lacked reach it once its Boot lists the feature',
  async (t) => {
    // Every setting needs apply-config alone today: one is made to need upload-diagnostics too,
    // as a setting added later names a feature of its own.
    const setting = REMOTE_SETTINGS['cloning.wipeMode'] as { feature: string };
    const was = setting.feature;
    setting.feature = 'upload-diagnostics';
    t.teardown(() => {
      setting.feature = was;
    });
    const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k-gain'));
    const before = FEATURE_NAMES.filter((f) => f !== 'upload-diagnostics');
    await kiosk.boot({ features: before, config: { version: 0, restartPending: false } });
    const fleet = await hub.api('POST', '/api/operator/config', {
      settings: { logLevel: 'info', 'cloning.wipeMode': 'full' },
    });
    t.equal(fleet.status, 200);
    const v = fleet.body.config.version as number;
    const first = await kiosk.waitForCommand(
      (c) => c.action === 'ApplyConfig' && c.payload.version === v,
    );
    t.same(first.payload.settings, { logLevel: 'info' }, 'cloning.wipeMode left out');
    // It applied that version; updated software lists the feature.
    await kiosk.boot({ features: FEATURE_NAMES, config: { version: v, restartPending: false } });
    const second = await kiosk.waitForCommand(
      (c) => c.action === 'ApplyConfig' && (c.payload.version as number) > v,
    );
    t.same(
      second.payload.settings,
      { logLevel: 'info', 'cloning.wipeMode': 'full' },
      'completed, in a newer version (kioskd takes no other settings for a version it runs)',
    );
    const view = (await hub.api('GET', '/api/operator/kiosks/k-gain/config')).body.config;
    t.equal(view.desired.version, second.payload.version, 'its desired version');
    t.match(view.own, { settings: {}, updatedBy: 'system:remote-config' });
    const reported = await hub.server.store.read((r) => r.remoteConfig.reported('k-gain'));
    t.equal(
      reported?.configLacking,
      null,
      'nothing left out any more: the next Boot sends nothing',
    );
    await kiosk.close();
  },
);

t.test("a kiosk's own settings can be cleared whatever its software understands", async (t) => {
  const creds = await hub.enrolKiosk('k-clear');
  const set = await hub.api('POST', '/api/operator/kiosks/k-clear/config', {
    settings: { logLevel: 'warn' },
  });
  t.equal(set.status, 200, 'before its first Boot the kiosk is not judged');
  const kiosk = await hub.connectKiosk(creds);
  await kiosk.boot({ features: null, config: { version: 0, restartPending: false } });
  const cleared = await hub.api('POST', '/api/operator/kiosks/k-clear/config', { settings: {} });
  t.equal(cleared.status, 200, 'cleared, though it lacks apply-config');
  const view = (await hub.api('GET', '/api/operator/kiosks/k-clear/config')).body.config;
  t.same(view.own.settings, {});
  t.notOk(
    (await commandsOf('k-clear')).some(
      (c) =>
        c.action === 'ApplyConfig' &&
        (c as { payload?: { version?: number } }).payload?.version === cleared.body.config.version,
    ),
    'nothing sent for it',
  );
  const again = await hub.api('POST', '/api/operator/kiosks/k-clear/config', {
    settings: { logLevel: 'warn' },
  });
  t.equal(again.status, 409, 'a setting it cannot apply is still refused');
  t.equal(again.body.error.code, 'KIOSK_LACKS_FEATURE');
  await kiosk.close();
});

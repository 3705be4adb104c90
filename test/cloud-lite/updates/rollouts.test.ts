// Staged rollouts on a real hub with test kiosks over WebSocket: the canary wave alone first,
// the next wave once it settled, an automatic halt when a wave fails beyond the threshold
// (later kiosks never get the update), per-kiosk states for the operator, a busy kiosk sent
// the update again, an offline kiosk getting it when it connects, a rollout made by the CLI
// taken up by the running hub, and the API's refusals.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { storeBlob } from '../../../cloud-lite/content/import-tree.js';
import { runRolloutCommand } from '../../../cloud-lite/updates/cli.js';
import {
  type InstallUpdateRequest,
  type UpdateStatusData,
  verifyCommand,
} from '../../../protocol/index.js';
import type { HubTestKiosk } from '../../helpers/hub-test-kiosk.js';
import { startTestHub, waitUntil } from '../fixtures/test-hub.js';

async function fleet(t: Parameters<typeof startTestHub>[0], ids: string[], online = ids) {
  const hub = await startTestHub(t, { rolloutTickMs: 50 });
  const bundle = path.join(hub.dir, 'disk-kiosk-2.0.0.raucb');
  writeFileSync(bundle, Buffer.alloc(4096, 7));
  const blob = await storeBlob(hub.server.content, bundle);
  const creds = new Map<string, { kioskId: string; secret: string }>();
  const kiosks = new Map<string, HubTestKiosk>();
  for (const id of ids) creds.set(id, await hub.enrolKiosk(id));
  const connect = async (id: string) => {
    const k = await hub.connectKiosk(creds.get(id) as { kioskId: string; secret: string });
    await k.boot();
    kiosks.set(id, k);
    return k;
  };
  for (const id of online) await connect(id);
  const installs = (id: string) =>
    (kiosks.get(id)?.commands ?? []).filter((c) => c.action === 'InstallUpdate');
  /** The kiosk reports `states` for its latest InstallUpdate. */
  const report = async (id: string, ...states: Partial<UpdateStatusData>[]) => {
    const k = kiosks.get(id) as HubTestKiosk;
    const cmd = installs(id).at(-1);
    if (!cmd) throw new Error(`${id} got no InstallUpdate`);
    for (const s of states)
      await k.sendEvent('UpdateStatus', {
        commandId: cmd.payload.commandId,
        version: '2.0.0',
        fromVersion: '1.0.0',
        state: 'downloading',
        ...s,
      } as UpdateStatusData);
  };
  const view = async (id: string) => (await hub.api('GET', `/api/operator/rollouts/${id}`)).body;
  const stateOf = async (rollout: string, kiosk: string) =>
    (await view(rollout)).kiosks.find((k: { kioskId: string }) => k.kioskId === kiosk)?.state;
  return { hub, blob, bundle, kiosks, connect, installs, report, view, stateOf };
}

t.test('waves: canary alone, then the next wave; a failing wave halts the rollout', async (t) => {
  const ids = ['k1', 'k2', 'k3', 'k4', 'k5'];
  const f = await fleet(t, ids);
  const created = await f.hub.api('POST', '/api/operator/rollouts', {
    version: '2.0.0',
    bundleSha256: f.blob.sha256,
    waves: ['1', '40%', '100%'],
    maxFailureRate: 0.3,
  });
  t.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.rollout.id as string;
  t.same(created.body.rollout.waves, [1, 2, 5], 'cumulative wave sizes');

  await waitUntil('the canary gets the update', () => f.installs('k1').length === 1);
  const cmd = f.installs('k1')[0]?.payload as unknown as InstallUpdateRequest;
  t.equal(cmd.version, '2.0.0');
  t.equal(cmd.sha256, f.blob.sha256);
  t.equal(cmd.size, 4096);
  t.match(cmd.bundleUrl, new RegExp(`/blobs/sha256/${f.blob.sha256}$`));
  t.ok(
    verifyCommand(f.hub.server.signingKey.publicKeyPem, 'k1', 'InstallUpdate', cmd as never).ok,
    'signed by the hub like a Dispense',
  );
  await f.hub.server.rollouts.settled();
  for (const k of ['k2', 'k3', 'k4', 'k5'])
    t.equal(f.installs(k).length, 0, `${k} waits for the canary`);

  await f.report('k1', { state: 'downloading', percent: 50 }, { state: 'installing' });
  await waitUntil('k1 installing', async () => (await f.stateOf(id, 'k1')) === 'installing');
  await f.report('k1', { state: 'rebooting' }, { state: 'trial' }, { state: 'committed' });
  await waitUntil('wave 2 starts', () => f.installs('k2').length === 1);
  await f.hub.server.rollouts.settled();
  t.equal(f.installs('k3').length, 0, 'wave 2 is k2 only (40% of 5)');

  await f.report('k2', {
    state: 'rolled_back',
    code: 'ETRIALFAILED',
    reason: 'version 2.0.0 started on slot B but was not committed',
  });
  await waitUntil('halted', async () => (await f.view(id)).rollout.state === 'halted');
  const v = await f.view(id);
  t.match(v.rollout.reason, /wave 2 of 3: 1 of 1 kiosks failed \(100% > 30%\)/);
  t.same(v.counts, { committed: 1, rolled_back: 1, pending: 3 });
  const k2 = v.kiosks.find((k: { kioskId: string }) => k.kioskId === 'k2');
  t.equal(k2.code, 'ETRIALFAILED', 'per-kiosk state and reason for the operator');
  t.equal(k2.fromVersion, '1.0.0');
  await f.hub.server.rollouts.settled();
  for (const k of ['k3', 'k4', 'k5']) t.equal(f.installs(k).length, 0, `${k} never got it`);
  const commands = await f.hub.api('GET', '/api/operator/kiosks/k2/commands');
  t.equal(
    commands.body.commands.find((c: { action: string }) => c.action === 'InstallUpdate')?.state,
    'failed',
    "the kiosk's InstallUpdate command ends failed",
  );

  t.equal(
    (await f.hub.api('POST', `/api/operator/rollouts/${id}/resume`, {})).status,
    200,
    'the operator resumes',
  );
  await f.hub.server.rollouts.settled();
  // The wave settled with 1 of 1 failed: resuming re-checks and halts again.
  t.equal((await f.view(id)).rollout.state, 'halted', 'the failure still counts');
  const cancel = await f.hub.api('POST', `/api/operator/rollouts/${id}/cancel`, {});
  t.equal(cancel.body.rollout.state, 'cancelled');
  const again = await f.hub.api('POST', `/api/operator/rollouts/${id}/halt`, {});
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'ROLLOUT_ENDED');
});

t.test('a busy kiosk is sent it again; an offline kiosk gets it when it connects', async (t) => {
  const f = await fleet(t, ['k1', 'k2', 'k3'], ['k1', 'k2']);
  const created = await f.hub.api('POST', '/api/operator/rollouts', {
    version: '2.0.0',
    bundleSha256: f.blob.sha256,
    waves: ['100%'],
  });
  const id = created.body.rollout.id as string;
  await waitUntil(
    'k1 and k2 get it',
    () => f.installs('k1').length + f.installs('k2').length === 2,
  );
  await f.report('k1', { state: 'committed' });
  await f.report('k2', { state: 'waiting', waitingFor: ['dispense slot 1'] });
  await f.report('k2', {
    state: 'failed',
    code: 'ETIMEDOUT',
    reason: 'the kiosk stayed busy (dispense slot 1) until the deadline',
  });
  await waitUntil('k2 sent it again', () => f.installs('k2').length === 2);
  t.not(
    f.installs('k2')[1]?.payload.commandId,
    f.installs('k2')[0]?.payload.commandId,
    'a new command',
  );
  await f.report('k2', { state: 'committed' });
  await f.hub.server.rollouts.settled();
  let v = await f.view(id);
  t.equal(v.rollout.state, 'running', 'k3 is offline: not done yet');
  t.same(v.counts, { committed: 2, pending: 1 });

  await f.connect('k3');
  await waitUntil('k3 gets it on connecting', () => f.installs('k3').length === 1);
  await f.report('k3', { state: 'committed', reason: 'already running version 2.0.0' });
  await waitUntil('completed', async () => (await f.view(id)).rollout.state === 'completed');
  v = await f.view(id);
  t.match(v.rollout.reason, /3 of 3 kiosks run version 2\.0\.0/);
});

t.test(
  'a kiosk refusing the command counts as failed; the CLI makes and halts rollouts',
  async (t) => {
    const f = await fleet(t, ['k1', 'k2']);
    f.kiosks.get('k1')!.onCommand = (c) =>
      c.action === 'InstallUpdate'
        ? { status: 'Rejected', reason: 'this kioskd does not run from a disk-kiosk SD image' }
        : { status: 'Accepted' };
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      env: {},
      out: (s: string) => out.push(s),
      err: (s: string) => err.push(s),
    };
    const cfg = path.join(f.hub.dir, 'hub.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        databasePath: f.hub.config.databasePath,
        signingKeyPath: f.hub.config.signingKeyPath,
        adminToken: 'x'.repeat(32),
      }),
    );
    const code = await runRolloutCommand(
      ['create', '--version', '2.0.0', '--bundle', f.bundle, '--waves', '1,100%', '-c', cfg],
      io,
    );
    t.equal(code, 0, err.join(''));
    const made = JSON.parse(out.join(''));
    t.same(made.rollout.waves, [1, 2]);
    const id = made.rollout.id as string;
    await waitUntil('the running hub takes it up', () => f.installs('k1').length === 1);
    await waitUntil('halted', async () => (await f.view(id)).rollout.state === 'halted');
    const v = await f.view(id);
    t.equal(v.kiosks[0].state, 'failed');
    t.equal(v.kiosks[0].code, 'EREJECTED');
    t.match(v.kiosks[0].reason, /does not run from a disk-kiosk SD image/);
    t.equal(f.installs('k2').length, 0, 'the canary failed: nobody else gets it');

    out.length = 0;
    t.equal(await runRolloutCommand(['cancel', id, '-c', cfg], io), 0);
    t.equal(JSON.parse(out.join('')).rollout.state, 'cancelled');
    err.length = 0;
    t.equal(await runRolloutCommand(['resume', id, '-c', cfg], io), 1);
    t.match(err.join(''), /ROLLOUT_ENDED: rollout .* is cancelled/);
  },
);

t.test('a kiosk left `sent` without a command by a hub stop is sent it again', async (t) => {
  const f = await fleet(t, ['k1'], []);
  const created = await f.hub.api('POST', '/api/operator/rollouts', {
    version: '2.0.0',
    bundleSha256: f.blob.sha256,
  });
  const id = created.body.rollout.id as string;
  // What a stop between marking and sending leaves behind.
  await f.hub.server.store.transaction((tx) =>
    tx.rollouts.updateKiosk(id, 'k1', { state: 'sent', attempts: 1 }),
  );
  await f.connect('k1');
  await waitUntil('k1 gets it', () => f.installs('k1').length === 1);
  await waitUntil('recorded', async () => (await f.view(id)).kiosks[0].commandId !== null);
  const k1 = (await f.view(id)).kiosks[0];
  t.equal(k1.state, 'sent');
  t.equal(k1.attempts, 1, 'the lost send is not counted');
  t.equal(k1.commandId, f.installs('k1')[0]?.payload.commandId);
});

t.test('refusals', async (t) => {
  const f = await fleet(t, ['k1']);
  const post = (body: unknown, token?: string | null) =>
    f.hub.api('POST', '/api/operator/rollouts', body, token);
  const ok = { version: '2.0.0', bundleSha256: f.blob.sha256 };
  t.equal((await post(ok, null)).status, 401, 'operators only');
  const missing = await post({ ...ok, bundleSha256: 'a'.repeat(64) });
  t.equal(missing.status, 404);
  t.match(missing.body.error.message, /is not in the content store; import it first/);
  const waves = await post({ ...ok, waves: ['ten'] });
  t.equal(waves.status, 400);
  t.equal(waves.body.error.code, 'VALIDATION');
  t.equal((await post({ ...ok, kiosks: ['nope'] })).status, 404);
  t.equal((await post({ ...ok, extra: 1 })).status, 400);
  t.equal((await post(ok)).status, 201);
  const second = await post(ok);
  t.equal(second.status, 409);
  t.equal(second.body.error.code, 'ROLLOUT_ACTIVE');
  t.equal((await f.hub.api('GET', '/api/operator/rollouts/nope')).status, 404);
  const list = await f.hub.api('GET', '/api/operator/rollouts');
  t.equal(list.body.rollouts.length, 1);
});

t.test(
  "a kiosk's update history: its UpdateStatus steps, newest first, progress collapsed",
  async (t) => {
    const f = await fleet(t, ['k1', 'k2']);
    const created = await f.hub.api('POST', '/api/operator/rollouts', {
      version: '2.0.0',
      bundleSha256: f.blob.sha256,
      waves: ['1', '100%'],
    });
    t.equal(created.status, 201);
    await waitUntil('the canary gets the update', () => f.installs('k1').length === 1);
    await f.report(
      'k1',
      { state: 'downloading', percent: 10 },
      { state: 'downloading', percent: 90 },
      { state: 'installing', percent: 50 },
      { state: 'failed', code: 'EHASH', reason: 'bundle hash mismatch' },
    );
    const answer = await f.hub.api('GET', '/api/operator/kiosks/k1/updates');
    t.equal(answer.status, 200, JSON.stringify(answer.body));
    t.equal(answer.body.softwareVersion, '0.1.0-test', 'what the kiosk booted with');
    t.same(
      answer.body.history.map((h: { state: string; percent?: number }) => [h.state, h.percent]),
      [
        ['failed', undefined],
        ['installing', 50],
        ['downloading', 90],
      ],
    );
    t.match(answer.body.history[0], {
      version: '2.0.0',
      fromVersion: '1.0.0',
      code: 'EHASH',
      reason: 'bundle hash mismatch',
      commandId: f.installs('k1')[0]?.payload.commandId,
    });
    t.same((await f.hub.api('GET', '/api/operator/kiosks/k2/updates')).body.history, []);
    t.equal(
      (await f.hub.api('GET', '/api/operator/kiosks/k1/updates', undefined, null)).status,
      401,
    );
    const missing = await f.hub.api('GET', '/api/operator/kiosks/nope/updates');
    t.equal(missing.status, 404);
    t.equal(missing.body.error.code, 'NOT_FOUND');
    // The typed rollout answer: every field of the record, nothing else.
    const view = await f.view(created.body.rollout.id);
    t.same(Object.keys(view.rollout).sort(), [
      'bundleSha256',
      'bundleSize',
      'createdAt',
      'createdBy',
      'currentWave',
      'id',
      'installWindowSeconds',
      'maxFailureRate',
      'reason',
      'state',
      'updatedAt',
      'version',
      'waveSpec',
      'waves',
    ]);
  },
);

t.test(
  'a kiosk revoked during a rollout ends its part; the rollout completes without it',
  async (t) => {
    // k1 canary online; k2 and k3 offline in the last wave. k2 is revoked: without this the
    // rollout waited for it for ever (and refused every new rollout as ROLLOUT_ACTIVE).
    const f = await fleet(t, ['k1', 'k2', 'k3'], ['k1']);
    const created = await f.hub.api('POST', '/api/operator/rollouts', {
      version: '2.0.0',
      bundleSha256: f.blob.sha256,
      waves: ['1', '100%'],
      maxFailureRate: 0,
    });
    const id = created.body.rollout.id as string;
    await waitUntil('the canary gets it', () => f.installs('k1').length === 1);
    await f.report('k1', { state: 'committed' });
    t.equal((await f.hub.api('POST', '/api/operator/kiosks/k2/revoke')).status, 200);
    await f.hub.server.rollouts.settled();
    f.hub.server.rollouts.kick();
    await f.hub.server.rollouts.settled();
    let v = await f.view(id);
    t.match(
      v.kiosks.find((k: { kioskId: string }) => k.kioskId === 'k2'),
      {
        state: 'failed',
        code: 'KIOSK_REVOKED',
        reason: 'the kiosk was revoked',
      },
    );
    t.equal(v.rollout.state, 'running', 'not held against the wave: no halt at maxFailureRate 0');
    await f.connect('k3');
    await waitUntil('k3 gets it', () => f.installs('k3').length === 1);
    await f.report('k3', { state: 'committed' });
    await waitUntil('completed', async () => (await f.view(id)).rollout.state === 'completed');
    v = await f.view(id);
    t.match(v.rollout.reason, /2 of 3 kiosks run version 2\.0\.0 \(1 revoked\)/);
  },
);

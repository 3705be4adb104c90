// kioskd's UploadDiagnostics without a hub: the upload is retried after a 503 and a dropped
// connection, is sent once with its SHA-256 and the kiosk's Basic credentials; a refusal (4xx)
// is final and reported as a DiagnosticsFailed event; a result above maxBytes is not sent.
import { createHash, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { RemoteDiagnostics } from '../../../kiosk/diag/remote-diagnostics.js';
import { silentLogger } from '../../../kiosk/log.js';
import { signCommand } from '../../../protocol/index.js';
import { waitUntil } from '../../cloud-lite/fixtures/test-hub.js';
import { KIOSK_ID, simConfig, startRig } from '../daemon/harness.js';

t.test('upload retried, then sent once; a refusal becomes DiagnosticsFailed', async (t) => {
  const rig = await startRig(t);
  const d = rig.daemon;
  const commandDeps = {
    kioskId: KIOSK_ID,
    db: d.db,
    slots: d.slots,
    inbox: d.inbox,
    outbox: d.outbox,
    nonces: d.nonces,
    clock: d.clock,
    hardware: d.hardware,
    hubPublicKeyPem: rig.keys.publicKeyPem,
    log: silentLogger(),
    hooks: d.hooks,
  };
  const answers: Array<number | 'drop'> = [];
  const calls: Array<{ url: string; headers: Record<string, string>; body: Buffer }> = [];
  const fakeFetch = (async (url: string, init: RequestInit) => {
    calls.push({
      url,
      headers: init.headers as Record<string, string>,
      body: Buffer.from(init.body as Buffer),
    });
    const a = answers.shift() ?? 200;
    if (a === 'drop') throw new TypeError('fetch failed');
    return new Response(a === 200 ? '{}' : '{"error":{"code":"X","message":"no"}}', { status: a });
  }) as unknown as typeof fetch;
  const make = () => {
    const rd = new RemoteDiagnostics({
      commandDeps,
      config: simConfig(rig.dir, 'ws://127.0.0.1:9/kiosk', rig.keys.publicKeyPem),
      secret: 'test-secret-for-diag-0123456789',
      db: d.db,
      call: async () => ({}),
      fetch: fakeFetch,
      retryBaseMs: 1,
    });
    t.teardown(() => rd.stop());
    return rd;
  };
  const rd = make();
  const ask = (o: Record<string, unknown>) =>
    signCommand(
      rig.keys.privateKeyPem,
      KIOSK_ID,
      'UploadDiagnostics',
      {
        commandId: randomUUID(),
        requestId: `diag-${randomUUID()}`,
        kind: 'logs',
        maxBytes: 4096,
        ...o,
      },
      { ttlMs: 60_000 },
    ) as never;
  const ctx = (p: { commandId: string }) => ({ commandId: p.commandId, log: silentLogger() });
  // The rig's hub acknowledges events, so they are read where it received them.
  const failedEvents = () => rig.hub.events.filter((e) => e.type === 'DiagnosticsFailed');

  // 503, a dropped connection, then 200: three calls, the same bytes and hash each time.
  answers.push(503, 'drop', 200);
  const p1 = ask({});
  t.same(await rd.handle(p1, ctx(p1)), { status: 'Accepted' });
  await waitUntil('three upload attempts', () => calls.length === 3);
  await rd.stop();
  const first = calls[0]!;
  t.match(first.url, /\/api\/kiosk\/diagnostics\/diag-/);
  t.equal(
    first.headers.authorization,
    `Basic ${Buffer.from(`${KIOSK_ID}:test-secret-for-diag-0123456789`).toString('base64')}`,
  );
  t.equal(first.headers['x-content-sha256'], createHash('sha256').update(first.body).digest('hex'));
  t.ok(
    calls.every((c) => c.body.equals(first.body)),
    'the same bytes every attempt',
  );
  t.equal(failedEvents().length, 0, 'delivered: no DiagnosticsFailed');

  // A refusal (400) is final: one call, then DiagnosticsFailed EUPLOAD naming the answer.
  calls.length = 0;
  answers.push(400);
  const rd2 = make();
  const p2 = ask({});
  await rd2.handle(p2, ctx(p2));
  await waitUntil('DiagnosticsFailed', () => failedEvents().length === 1);
  t.equal(calls.length, 1, 'not retried');
  t.match(failedEvents()[0]!.data, {
    commandId: (p2 as { commandId: string }).commandId,
    code: 'EUPLOAD',
    reason: /hub answered 400/,
  });

  // Larger than maxBytes: nothing is sent, ETOOBIG.
  calls.length = 0;
  writeFileSync(
    path.join(rig.dir, 'data', 'kioskd.log'),
    `${JSON.stringify({ level: 30, msg: 'x'.repeat(200) })}\n`.repeat(20),
  );
  const p3 = ask({ lines: 20, maxBytes: 1024 });
  await rd2.handle(p3, ctx(p3));
  await waitUntil('ETOOBIG', () => failedEvents().length === 2);
  t.equal(calls.length, 0, 'nothing uploaded');
  t.match(failedEvents()[1]!.data, { code: 'ETOOBIG' });
});

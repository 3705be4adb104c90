// Two hub processes on one throw-away PostgreSQL (issue 22): process A is a real
// `bin/cloud-lite` child, process B the fleet's hub (HubServer in this test process, the same
// code). Three real kioskd processes dial A first and know B as their next URL (`hub.urls`);
// the renter and the operator use B's API only. The scripted demo (rent, reserve + prepare +
// pickup, return) runs with every command routed from B to A's sockets by LISTEN/NOTIFY. Then
// A is SIGKILLed with an order in flight (Dispense accepted, the disk not yet taken): the kiosk
// moves to B by its URL list, the order completes, the payment is captured exactly once, and
// the leader's sweeps run on B.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { contentDir } from '../../cloud-lite/config.js';
import { HubProcess } from '../../scripts/fleet-sim/hub-process.js';
import type { Json } from '../../scripts/lib/api-client.js';
import { type Fleet, startFleet } from '../../scripts/lib/fleet.js';
import { takeWhenOut } from '../../scripts/lib/person.js';
import { runScripted } from '../../scripts/lib/scripted.js';
import { demoCard } from '../../scripts/lib/seed.js';
import { waitFor } from '../../scripts/lib/wait.js';
import { pgServer } from '../helpers/postgres.js';
import { haveTools } from '../helpers/tools.js';

t.setTimeout(480_000);

const server = await pgServer(t);

t.test('two hub processes: kiosks on A, the renter on B; A killed mid-order', async (t) => {
  if (!server || !haveTools(t, ['rsync'], 'the several-hubs e2e test')) return;
  const url = await server.createDatabase();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'several-hubs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = { kind: 'postgres', url, poolSize: 5 };
  let a: HubProcess | undefined;
  t.teardown(() => a?.kill('SIGKILL'));
  const fleet: Fleet = await startFleet({
    dir: path.join(dir, 'fleet'),
    kiosks: 3,
    backing: 'directory',
    readyStock: 'registered',
    hub: {
      config: {
        store,
        rental: { maxOpenRentals: 3 } as never,
      } as never,
    },
    kioskLink: async (hub) => {
      // Process A: the same store, signing key, admin token and content as B.
      a = new HubProcess({
        dir: path.join(dir, 'hub-a'),
        adminToken: hub.adminToken,
        config: {
          store,
          signingKeyPath: hub.config.signingKeyPath,
          content: { dir: contentDir(hub.config) },
          commandSweepIntervalMs: 250,
        },
      });
      await a.start(120_000);
      return { wsUrl: `ws://127.0.0.1:${a.port}/kiosk`, urls: [hub.wsUrl] };
    },
  });
  t.teardown(() => fleet.stop());
  const hubA = a!;
  const b = fleet.hub;
  const admin = { token: b.adminToken };
  const me = { token: fleet.renter.token };
  const kioskRow = (id: string) => b.server.store.transaction((tx) => tx.kiosks.get(id));
  const holderA = (await kioskRow('kiosk-1'))?.hubProcess;
  for (const k of fleet.kiosks) {
    const row = await kioskRow(k.id);
    t.equal(row?.status, 'online', `${k.id} online`);
    t.not(row?.hubProcess, b.server.cluster.processId, `${k.id} is held by A, not B`);
    t.notOk(b.server.hub.isConnected(k.id), `${k.id} has no socket on B`);
  }

  const lines: string[] = [];
  const run = await runScripted(fleet, { log: (l) => lines.push(l), stepTimeoutMs: 90_000 });
  t.ok(run.ok, `scripted run through B with the kiosks on A\n${lines.join('\n')}`);

  // A second rent at kiosk-1, from B; A dies once the kiosk accepted the Dispense.
  const k1 = fleet.kiosk('kiosk-1');
  const created = await b.api.ok(
    'POST',
    '/api/orders',
    {
      kioskId: 'kiosk-1',
      diskTypeId: (
        fleet.diskTypes.find((d) => d.contentId === 'nature-films') ?? fleet.diskTypes[0]!
      ).id,
      writeProtect: true,
      days: 1,
      card: demoCard(),
    },
    { ...me, headers: { 'idempotency-key': `several-hubs-${Date.now()}` } },
  );
  const orderId = created.order.id as string;
  const dispense = async (): Promise<Json | undefined> =>
    (
      await b.api.ok('GET', '/api/operator/kiosks/kiosk-1/commands?limit=1000', undefined, admin)
    ).commands.find((c: Json) => c.action === 'Dispense' && c.payload?.orderId === orderId);
  await waitFor(
    'the Dispense accepted by the kiosk (through A)',
    async () => ((await dispense())?.state === 'accepted' ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  await hubA.kill('SIGKILL');
  t.notOk(hubA.running(), 'process A is gone');
  const order = await waitFor(
    'the order to name its slot',
    async () => {
      const o = (await b.api.ok('GET', `/api/orders/${orderId}`, undefined, me)).order;
      return o.slot !== undefined ? o : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  await takeWhenOut(k1.kiosk.sim, order.slot as number, 60_000);
  await waitFor(
    'kiosk-1 to move to B',
    async () => (b.server.hub.isConnected('kiosk-1') ? true : undefined),
    { timeoutMs: 90_000, intervalMs: 100 },
  );
  const done = await waitFor(
    'the order to complete on B',
    async () => {
      const o = (await b.api.ok('GET', `/api/orders/${orderId}`, undefined, me)).order;
      if (o.state === 'failed') throw new Error(`order failed: ${o.failureReason}`);
      return o.state === 'completed' ? o : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
  t.equal(done.state, 'completed', 'the order completed after A died');
  const row = await kioskRow('kiosk-1');
  t.equal(row?.hubProcess, b.server.cluster.processId, 'B holds kiosk-1 now');
  t.not(holderA, b.server.cluster.processId, 'kiosk-1 was held by A before');
  const audit = (await b.api.ok('GET', '/api/operator/audit?limit=1000', undefined, admin)).audit;
  const captures = audit.filter(
    (x: Json) => x.action === 'payment.captured' && x.details?.refId === orderId,
  );
  t.equal(captures.length, 1, 'captured exactly once');
  const completions = (
    await b.api.ok('GET', '/api/operator/kiosks/kiosk-1/events?limit=1000', undefined, admin)
  ).events.filter((e: Json) => e.type === 'DispenseCompleted' && e.data.orderId === orderId);
  t.equal(completions.length, 1, 'one DispenseCompleted recorded');

  // The leader's work runs on B now: it leads, and a command past its deadline expires.
  await waitFor('B to lead', async () => (b.server.cluster.isLeader() ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  await b.api.ok('POST', '/api/operator/kiosks', { id: 'kiosk-away' }, admin);
  const cmd = await b.server.hub.sendCommand(
    'kiosk-away',
    'TriggerMessage',
    { message: 'Heartbeat' },
    new Date(Date.now() + 500),
  );
  const expired = await b.server.hub.waitFor(cmd.id, { until: ['expired'], timeoutMs: 30_000 });
  t.equal(expired.state, 'expired', 'the command sweep runs on B, the new leader');
});

import { TypeCompiler } from '@sinclair/typebox/compiler';
import t from 'tap';
import type { CommandDispatcher } from '../../../kiosk/link/command-gate.js';
import { HubLink, type HubLinkConfig } from '../../../kiosk/link/hub-link.js';
import { silentLogger } from '../../../kiosk/log.js';
import { inventorySnapshot } from '../../../kiosk/slots/inventory.js';
import { Inbox } from '../../../kiosk/state/inbox.js';
import {
  BootRequest,
  CallError,
  errorCodeFor,
  RpcError,
  StrictObject,
} from '../../../protocol/index.js';
import { TestHubPeer } from '../../helpers/test-hub-peer.js';
import { type Kit, kit, openKit, tempDir } from '../fixtures/kit.js';

type T = { teardown(fn: () => unknown): void };
const SECRET = 's3cret-s3cret';

async function startHub(t: T, opts: Partial<ConstructorParameters<typeof TestHubPeer>[0]> = {}) {
  const hub = new TestHubPeer({ kiosks: { 'kiosk-1': SECRET }, ...opts });
  await hub.start();
  t.teardown(() => hub.close());
  return hub;
}

function startLink(
  t: T,
  k: Kit,
  hub: TestHubPeer,
  opts: {
    config?: Partial<HubLinkConfig>;
    dispatch?: CommandDispatcher;
    boot?: () => Omit<BootRequest, 'kioskId'>;
  } = {},
) {
  const link = new HubLink({
    config: {
      url: hub.url,
      kioskId: 'kiosk-1',
      secret: SECRET,
      callTimeoutMs: 2000,
      backoff: { baseMs: 20, capMs: 200, stableMs: 60_000 },
      ...opts.config,
    },
    outbox: k.outbox,
    inbox: new Inbox({ db: k.db, clock: k.clock }),
    clock: k.clock,
    log: silentLogger(),
    dispatch: opts.dispatch ?? (async () => ({ status: 'Accepted' })),
    boot: opts.boot ?? (() => ({ softwareVersion: '0.1.0', slotCount: 4, bootReason: 'PowerOn' })),
    inventory: () => inventorySnapshot(k.db, k.clock),
  });
  link.start();
  t.teardown(() => link.stop());
  return link;
}

const fault = (n: number) => ({ slot: 1, code: `E${n}`, message: `fault ${n}` });

t.test(
  'Boot lists its features; a hub older than negotiation gets Boot again without',
  async (t) => {
    const features = ['apply-config', 'install-update'];
    const boot = () => ({
      softwareVersion: '0.1.0',
      slotCount: 4,
      bootReason: 'PowerOn' as const,
      features,
    });
    const hub = await startHub(t);
    startLink(t, kit(t), hub, { boot });
    await hub.waitFor(() => hub.inventories.length === 1, 'synced with a current hub');
    t.same(hub.boots[0]?.features, features, 'the features as listed');

    // A hub from before feature negotiation validates Boot against its schema then: no features.
    const { features: _new, ...before } = BootRequest.properties;
    const oldBoot = TypeCompiler.Compile(StrictObject(before));
    let refused = 0;
    const old = await startHub(t, {
      bootCheck: (p) => {
        const e = oldBoot.Errors(p).First();
        if (!e) return;
        refused++;
        throw new CallError(errorCodeFor(e), `Boot request: ${e.path}: ${e.message}`);
      },
    });
    const link = startLink(t, kit(t), old, { boot });
    await old.waitFor(() => old.inventories.length === 1, 'synced with the old hub');
    t.equal(refused, 1, 'the old hub refused the first Boot');
    t.equal(old.boots.length, 1);
    t.notOk('features' in old.boots[0]!, 'the second Boot left them out');
    t.equal(old.connections, 1, 'on the same connection');
    t.equal(link.status.connected, true);
  },
);
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

t.test('boot, clock, inventory, heartbeats and drain over a real WebSocket', async (t) => {
  const k = kit(t);
  const beforeFirst = Date.now();
  k.outbox.append('FaultRaised', fault(1));
  const afterFirst = Date.now();
  const hub = await startHub(t, { heartbeatInterval: 1, now: () => Date.now() + 3_600_000 });
  const link = startLink(t, k, hub);
  await hub.waitFor(() => hub.events.length === 1 && k.outbox.depth() === 0, 'first event');
  t.match(hub.boots[0], { kioskId: 'kiosk-1', slotCount: 4, bootReason: 'PowerOn' });
  t.equal(hub.inventories[0]?.slots.length, 4, 'inventory of every slot');
  t.ok(Math.abs(k.clock.offset - 3_600_000) < 1000, `clock follows the hub (${k.clock.offset})`);
  // Stamped when appended (however long the sync took since): the local clock, then hub time
  // (the hub's clock is 1 h ahead; the kiosk's offset is right within half a round trip).
  const first = Date.parse(hub.events[0]!.at);
  t.ok(first >= beforeFirst && first <= afterFirst, 'event stamped before sync');
  const beforeSecond = Date.now();
  k.outbox.append('FaultRaised', fault(2));
  const afterSecond = Date.now();
  await hub.waitFor(() => hub.events.length === 2, 'a new append wakes the drain');
  const second = Date.parse(hub.events[1]!.at) - 3_600_000;
  t.ok(
    second >= beforeSecond - 1000 && second <= afterSecond + 1000,
    `later events carry hub time (${second - beforeSecond} ms off)`,
  );
  await hub.waitFor(() => hub.heartbeats >= 1, 'a heartbeat', 5000);
  t.match(link.status, {
    connected: true,
    outboxDepth: 0,
    heartbeatIntervalSeconds: 1,
    connects: 1,
  });
  t.equal(hub.connections, 1);
});

t.test(
  'kiosk restart with 1,000 queued events: all delivered in seq order exactly once',
  async (t) => {
    const dir = tempDir(t);
    const a = openKit(dir);
    a.db.transaction(() => {
      for (let n = 1; n <= 1000; n++) a.outbox.append('FaultRaised', fault(n));
    })();
    a.db.close();
    const k = openKit(dir);
    t.teardown(() => k.db.close());
    t.equal(k.outbox.depth(), 1000, 'queued events survived the restart');
    const hub = await startHub(t);
    startLink(t, k, hub);
    await hub.waitFor(() => k.outbox.depth() === 0, 'outbox drained', 60_000);
    t.equal(hub.events.length, 1000, 'exactly 1000 deliveries');
    t.same(
      hub.events.map((e) => e.seq),
      Array.from({ length: 1000 }, (_, i) => i + 1),
      'in seq order',
    );
    t.equal(new Set(hub.events.map((e) => e.eventId)).size, 1000, 'each once');
  },
);

t.test('hub restart mid-drain: reconnect, no loss, acked events never repeat', async (t) => {
  const k = kit(t);
  k.db.transaction(() => {
    for (let n = 1; n <= 300; n++) k.outbox.append('FaultRaised', fault(n));
  })();
  const ids = new Map(k.outbox.peek(300).map((e) => [e.seq, e.eventId]));
  let restarted = false;
  let ackedRepeats = 0;
  const hub = await startHub(t, {
    onEvent: (ev, h) => {
      if (h.acked.has(ev.eventId)) ackedRepeats++;
      if (ev.seq === 120 && !restarted) {
        restarted = true;
        void h.restart();
      }
    },
  });
  const link = startLink(t, k, hub);
  await hub.waitFor(() => k.outbox.depth() === 0, 'drain after the restart', 30_000);
  t.ok(restarted);
  t.ok(hub.connections >= 2, 'reconnected');
  t.equal(ackedRepeats, 0, 'no acknowledged event was sent again');
  const seqs = new Set(hub.events.map((e) => e.seq));
  t.equal(seqs.size, 300, 'every event arrived');
  for (const ev of hub.events) {
    if (ids.get(ev.seq) !== ev.eventId) t.fail(`seq ${ev.seq} changed eventId`);
  }
  t.ok(hub.events.length <= 301, `at most the in-flight event repeated (${hub.events.length})`);
  t.equal(hub.acked.size, 300);
  t.equal(link.status.connected, true);
});

t.test('refused events stay queued and are re-sent with the same eventId', async (t) => {
  const k = kit(t);
  const ev = k.outbox.append('FaultRaised', fault(1));
  const hub = await startHub(t);
  hub.eventMode = 'refuse';
  startLink(t, k, hub);
  await hub.waitFor(() => hub.events.length >= 2, 'retries');
  t.equal(k.outbox.depth(), 1, 'not deleted while refused');
  hub.eventMode = 'ack';
  await hub.waitFor(() => k.outbox.depth() === 0, 'accepted at last');
  t.ok(
    hub.events.every((e) => e.eventId === ev.eventId),
    'same eventId every time',
  );
});

t.test('commands go through the inbox: a repeat gets the stored answer', async (t) => {
  const k = kit(t);
  const hub = await startHub(t);
  const runs: string[] = [];
  startLink(t, k, hub, {
    dispatch: async (action, payload) => {
      runs.push(`${action}:${payload.commandId}`);
      await new Promise((r) => setTimeout(r, 50));
      if (action === 'DisableSlot') throw new CallError('SecurityError', 'not allowed');
      return { status: 'Accepted' };
    },
  });
  await hub.waitFor(() => hub.inventories.length === 1, 'sync');
  const cmd = { commandId: uuid(1), slot: 1, on: true };
  const [r1, r2] = await Promise.all([
    hub.call('SetWriteProtect', cmd),
    hub.call('SetWriteProtect', cmd),
  ]);
  const r3 = await hub.call('SetWriteProtect', cmd);
  t.same([r1, r2, r3], [{ status: 'Accepted' }, { status: 'Accepted' }, { status: 'Accepted' }]);
  t.same(runs, [`SetWriteProtect:${uuid(1)}`], 'executed once');
  const disable = { commandId: uuid(2), slot: 1, reason: 'test' };
  for (let i = 0; i < 2; i++) {
    const err = await hub.call('DisableSlot', disable).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof RpcError);
    t.match(err, { code: 'ECALLERROR', errorCode: 'SecurityError' }, `answer ${i + 1}`);
  }
  t.equal(runs.length, 2, 'the refused command ran once too');
});

t.test('malformed frames from the hub get a CALLERROR and never break the link', async (t) => {
  const k = kit(t);
  const hub = await startHub(t);
  startLink(t, k, hub);
  await hub.waitFor(() => hub.inventories.length === 1, 'sync');
  const before = hub.received.length;
  hub.sendRaw('this is not json');
  hub.sendRaw('[2,"m-1","Dispense",{"bogus":true}]');
  hub.sendRaw('[2,"m-2","Boot",{}]');
  hub.sendRaw('[2,"m-3","NoSuchAction",{}]');
  hub.sendRaw(`[2,"m-4","Reset",${'['.repeat(5000)}${']'.repeat(5000)}]`);
  await hub.waitFor(
    () =>
      ['m-1', 'm-2', 'm-3', 'm-4'].every((id) =>
        hub.received.some((r) => r.startsWith(`[4,"${id}"`)),
      ),
    'CALLERRORs',
  );
  t.ok(hub.received.length > before);
  const res = await hub.call('Reset', { commandId: uuid(9), kind: 'Soft' });
  t.same(res, { status: 'Accepted' }, 'the link still works');
  t.equal(hub.connections, 1, 'never reconnected');
});

t.test('a wrong secret is refused on the upgrade; the link keeps retrying', async (t) => {
  const k = kit(t);
  const hub = await startHub(t);
  const link = startLink(t, k, hub, { config: { secret: 'wrong' } });
  await hub.waitFor(() => hub.rejectedUpgrades >= 3, 'retries with backoff');
  t.equal(hub.connections, 0);
  t.match(link.status, { connected: false, lastError: /HTTP 401/ });
});

t.test('a hung hub is detected by failed heartbeats and the link reconnects', async (t) => {
  const k = kit(t);
  const hub = await startHub(t, { heartbeatInterval: 1 });
  startLink(t, k, hub, { config: { callTimeoutMs: 400 } });
  await hub.waitFor(() => hub.inventories.length === 1, 'sync');
  hub.mute = true;
  await hub.waitFor(() => hub.connections >= 2, 'reconnect after heartbeat failure', 10_000);
  hub.mute = false;
  await hub.waitFor(() => hub.inventories.length >= 2, 'sync again', 10_000);
  t.pass('recovered');
});

t.test('stop() closes the socket and stops reconnecting', async (t) => {
  const k = kit(t);
  const hub = await startHub(t);
  const link = startLink(t, k, hub);
  await hub.waitFor(() => hub.connected, 'connect');
  await link.stop();
  await hub.waitFor(() => !hub.connected, 'hub sees the close');
  t.equal(link.status.state, 'stopped');
  const n = hub.connections;
  await new Promise((r) => setTimeout(r, 300));
  t.equal(hub.connections, n, 'no reconnect after stop');
});

t.test('several hub URLs: a hub that is gone makes the link try the next one', async (t) => {
  const k = kit(t);
  const a = await startHub(t);
  const b = await startHub(t);
  // A URL nobody listens on first (a dead process), then A, then B.
  const dead = await startHub(t);
  const deadUrl = dead.url;
  await dead.close();
  const link = startLink(t, k, a, { config: { url: deadUrl, urls: [a.url, b.url] } });
  await a.waitFor(() => a.boots.length === 1, 'boot on A after the dead URL failed', 10_000);
  t.equal(link.status.url, a.url, 'connected to the second URL');
  t.equal(b.connections, 0);
  k.outbox.append('FaultRaised', fault(1));
  await a.waitFor(() => a.events.length === 1, 'the event reaches A');
  // A dies: its URL is tried again once, refused, then B takes the kiosk and the events.
  await a.close();
  k.outbox.append('FaultRaised', fault(2));
  await b.waitFor(
    () => b.boots.length === 1 && b.events.length === 1,
    'boot and event on B',
    10_000,
  );
  t.equal(link.status.url, b.url, 'moved to the third URL');
  t.equal(b.events[0]?.seq, 2, 'the queued event went to B, once');
  t.equal(k.outbox.depth(), 0);
});

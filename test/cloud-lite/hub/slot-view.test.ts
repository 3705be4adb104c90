// The hub's slot table follows SlotStateChanged between Inventories (real hub, real socket,
// real SQLite): snapshots by version, and without a snapshot only availability is taken away.
import t from 'tap';
import type { SlotSnapshot } from '../../../protocol/index.js';
import { startTestHub, type TestHub, waitUntil } from '../fixtures/test-hub.js';

const GB = 1_000_000_000;

function ready(slot: number, version?: number, extra: Partial<SlotSnapshot> = {}): SlotSnapshot {
  return {
    slot,
    state: 'ready',
    diskId: `d${slot}`,
    capacityBytes: 64 * GB,
    contentId: 'c1',
    contentVersion: 'v1',
    writeProtect: false,
    ...(version !== undefined ? { version } : {}),
    ...extra,
  };
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const hub = await startTestHub(t);
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k1'));
  await kiosk.boot();
  return { hub, kiosk };
}

function slot(hub: TestHub, n: number) {
  return hub.server.store.transaction((tx) => tx.slots.get('k1', n));
}

t.test('a snapshot with a newer version replaces the slot', async (t) => {
  const { hub, kiosk } = await setup(t);
  await kiosk.inventory([ready(1, 3), ready(2, 5)]);
  const emptied: SlotSnapshot = { slot: 1, state: 'empty', writeProtect: false, version: 4 };
  await kiosk.sendEvent('SlotStateChanged', {
    slot: 1,
    from: 'ready',
    to: 'empty',
    snapshot: emptied,
  });
  const s1 = await slot(hub, 1);
  t.equal(s1?.state, 'empty');
  t.same(s1?.snapshot, emptied);
  t.same((await slot(hub, 2))?.snapshot, ready(2, 5), 'other slots untouched');

  // An update without a state change (from === to) carries new content.
  const rewritten = ready(2, 6, { contentId: 'c2', contentVersion: 'v9' });
  await kiosk.sendEvent('SlotStateChanged', {
    slot: 2,
    from: 'ready',
    to: 'ready',
    snapshot: rewritten,
  });
  t.same((await slot(hub, 2))?.snapshot, rewritten, 'content change without a state change');

  // A slot the hub had never heard of.
  await kiosk.sendEvent('SlotStateChanged', {
    slot: 3,
    from: 'empty',
    to: 'loaded',
    snapshot: { slot: 3, state: 'loaded', diskId: 'd3', writeProtect: false, version: 1 },
  });
  t.equal((await slot(hub, 3))?.state, 'loaded');
  t.equal(kiosk.commands.length, 0, 'no Inventory requested');
});

t.test('events older than the Inventory (drained after it) do not regress the view', async (t) => {
  const { hub, kiosk } = await setup(t);
  await kiosk.inventory([
    {
      slot: 1,
      state: 'loaded',
      diskId: 'd1',
      capacityBytes: 64 * GB,
      writeProtect: false,
      version: 10,
    },
  ]);
  await kiosk.sendEvent('SlotStateChanged', {
    slot: 1,
    from: 'preparing',
    to: 'ready',
    snapshot: ready(1, 7),
  });
  await kiosk.sendEvent('SlotStateChanged', {
    slot: 1,
    from: 'ready',
    to: 'ready',
    snapshot: ready(1, 10),
  });
  let s1 = await slot(hub, 1);
  t.equal(s1?.state, 'loaded', 'older and equal versions ignored');
  t.equal(s1?.snapshot.version, 10);
  t.notOk(s1?.snapshot.contentId);

  await kiosk.sendEvent('SlotStateChanged', {
    slot: 1,
    from: 'loaded',
    to: 'preparing',
    snapshot: { slot: 1, state: 'preparing', diskId: 'd1', writeProtect: false, version: 11 },
  });
  s1 = await slot(hub, 1);
  t.equal(s1?.state, 'preparing', 'newer version applied');
  t.equal(s1?.snapshot.version, 11);

  // A new Inventory is the baseline again, even with lower versions (a re-flashed kiosk).
  await kiosk.inventory([ready(1, 2)]);
  t.equal((await slot(hub, 1))?.snapshot.version, 2);
});

t.test(
  'without a snapshot: a change to empty takes the disk away, no Inventory asked',
  async (t) => {
    const { hub, kiosk } = await setup(t);
    await kiosk.inventory([ready(1), ready(2)]);
    await kiosk.sendEvent('SlotStateChanged', { slot: 1, from: 'ready', to: 'empty' });
    await kiosk.sendEvent('SlotStateChanged', { slot: 2, from: 'ready', to: 'fault' });
    const s1 = await slot(hub, 1);
    t.equal(s1?.state, 'empty');
    t.same(s1?.snapshot, { slot: 1, state: 'empty', writeProtect: false });
    const s2 = await slot(hub, 2);
    t.equal(s2?.state, 'fault');
    t.equal(s2?.snapshot.state, 'fault');
    t.notOk(s2?.snapshot.contentId, 'content dropped');
    t.equal(s2?.snapshot.diskId, 'd2', 'the disk is still there');
    t.equal(kiosk.commands.length, 0);
  },
);

t.test(
  'without a snapshot: a change into ready is not sellable and asks for an Inventory',
  async (t) => {
    const { hub, kiosk } = await setup(t);
    await kiosk.inventory([
      { slot: 1, state: 'preparing', diskId: 'd1', capacityBytes: 64 * GB, writeProtect: false },
      ready(2),
    ]);
    await kiosk.sendEvent('SlotStateChanged', { slot: 1, from: 'preparing', to: 'ready' });
    const trig = await kiosk.waitForCommand((c) => c.action === 'TriggerMessage');
    t.equal(trig.payload.message, 'Inventory');
    const s1 = await slot(hub, 1);
    t.equal(s1?.state, 'ready');
    t.notOk(s1?.snapshot.contentId, 'no content: the catalog cannot sell it');
    t.notOk(s1?.snapshot.capacityBytes, 'no capacity: the catalog cannot prepare on it');

    // The kiosk answers with an Inventory: the slot is sellable again.
    // (the Inventory call returns after the hub committed it)
    await kiosk.inventory([ready(1), ready(2)]);
    t.match((await slot(hub, 1))?.snapshot, { contentId: 'c1', capacityBytes: 64 * GB });
  },
);

t.test('one Inventory request at a time per kiosk; another after the Inventory came', async (t) => {
  const { hub, kiosk } = await setup(t);
  const triggers = async () =>
    (
      await hub.server.store.transaction((tx) => tx.commands.listForKiosk('k1', { limit: 100 }))
    ).filter((c) => c.action === 'TriggerMessage').length;
  const preparing = (n: number): SlotSnapshot => ({
    slot: n,
    state: 'preparing',
    diskId: `d${n}`,
    writeProtect: false,
  });
  await kiosk.inventory([preparing(1), preparing(2), preparing(3)]);
  await kiosk.sendEvent('SlotStateChanged', { slot: 1, from: 'preparing', to: 'ready' });
  await kiosk.sendEvent('SlotStateChanged', { slot: 2, from: 'preparing', to: 'ready' });
  await waitUntil('a TriggerMessage recorded', async () => (await triggers()) >= 1);
  await kiosk.sendEvent('SlotStateChanged', { slot: 3, from: 'preparing', to: 'ready' });
  t.equal(await triggers(), 1, 'three changes, one request');

  await kiosk.inventory([ready(1), ready(2), preparing(3)]);
  await kiosk.sendEvent('SlotStateChanged', { slot: 3, from: 'preparing', to: 'ready' });
  await waitUntil(
    'a second TriggerMessage after the Inventory',
    async () => (await triggers()) >= 2,
  );
  t.equal(await triggers(), 2, 'asked again once the first Inventory arrived, once');
});

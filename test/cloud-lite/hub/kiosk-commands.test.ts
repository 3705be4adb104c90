import t from 'tap';
import type { CommandRecord } from '../../../cloud-lite/store/types.js';
import { startTestHub } from '../fixtures/test-hub.js';

const dispense = (orderId: string) => ({
  slot: 1,
  diskId: 'disk-1',
  orderId,
  writeProtect: false,
  pickupWindowSeconds: 60,
});

t.test(
  'send(tx) records a command with the transaction: a rolled-back one sends nothing',
  async (t) => {
    const hub = await startTestHub(t);
    const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k1'));
    await kiosk.boot();
    const h = hub.server.hub;
    const store = hub.server.store;
    const deadline = new Date(Date.now() + 10_000);
    let dropped: CommandRecord | undefined;
    await t.rejects(
      store.transaction(async (tx) => {
        dropped = await h.send(tx, 'k1', 'DisableSlot', { slot: 2, reason: 'test' }, deadline);
        throw new Error('the domain changed its mind');
      }),
      /changed its mind/,
    );
    t.equal(
      await store.transaction((tx) => tx.commands.get(dropped!.id)),
      undefined,
      'not recorded',
    );
    const kept = await store.transaction((tx) =>
      h.send(tx, 'k1', 'EnableSlot', { slot: 2 }, deadline),
    );
    t.equal(
      (await h.waitFor(kept.id, { timeoutMs: 5000 })).state,
      'completed',
      'sent after commit',
    );
    t.same(
      kiosk.commands.map((c) => c.action),
      ['EnableSlot'],
      'the kiosk got only the committed command',
    );
  },
);

t.test(
  "an outcome event settles its command (only its own kiosk's); onCommandEnded hears only ends without one",
  async (t) => {
    const hub = await startTestHub(t);
    const k1 = await hub.connectKiosk(await hub.enrolKiosk('k1'));
    await k1.boot();
    const k2 = await hub.connectKiosk(await hub.enrolKiosk('k2'));
    await k2.boot();
    const h = hub.server.hub;
    const ended: string[] = [];
    h.onCommandEnded((c) => ended.push(`${c.action}:${c.state}`));
    const deadline = new Date(Date.now() + 30_000);

    const cmd = await h.sendCommand('k1', 'Dispense', dispense('ord-1'), deadline);
    t.equal((await h.waitFor(cmd.id, { timeoutMs: 5000 })).state, 'accepted');
    const outcome = { commandId: cmd.id, slot: 1, diskId: 'disk-1', outcome: 'not_taken' as const };
    await k2.sendEvent('DispenseCompleted', outcome);
    t.equal(
      (await h.commands.get(cmd.id))?.state,
      'accepted',
      "another kiosk's outcome: no effect",
    );
    await k1.sendEvent('DispenseCompleted', outcome);
    const settled = await h.commands.get(cmd.id);
    t.equal(settled?.state, 'failed', 'settled by the event, in its transaction');
    t.same(settled?.result, { outcome: 'not_taken', diskId: 'disk-1' });
    t.same(ended, [], 'an end an event settled is not announced again');

    k1.onCommand = () => ({ status: 'Rejected', reason: 'slot busy' });
    const rej = await h.sendCommand('k1', 'Dispense', dispense('ord-2'), deadline);
    t.equal((await h.waitFor(rej.id, { timeoutMs: 5000 })).state, 'rejected');
    t.same(ended, ['Dispense:rejected'], 'a rejected command is announced');
  },
);

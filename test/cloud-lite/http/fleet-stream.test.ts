// The operator's live fleet (GET /api/operator/fleet/events): the whole list once, then only the
// kiosks that changed (re-read by id, not the whole fleet per change), the whole list again
// after a cluster resync; the page's merge keeps the others. One hub for the file.
import t from 'tap';
import { SseParser } from '../../../cloud-lite/web/src/lib/sse-parser.js';
import type { OpsKiosk } from '../../../cloud-lite/web/src/lib/types.js';
import { mergeKiosks } from '../../../cloud-lite/web/src/ops/fleet-merge.js';
import { holdTransaction } from '../fixtures/hold-transaction.js';
import { ADMIN_TOKEN, startTestHub } from '../fixtures/test-hub.js';

const hub = await startTestHub(t);
const creds: Array<{ kioskId: string; secret: string }> = [];
for (const id of ['k1', 'k2', 'k3']) creds.push(await hub.enrolKiosk(id));

type Row = { id: string; connected: boolean; lastBootAt: string | null };
type Msg = { event: string; kiosks: Row[] };

async function follow(path: string) {
  const ac = new AbortController();
  const res = await fetch(hub.baseUrl + path, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: ac.signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const queued: Msg[] = [];
  t.teardown(() => ac.abort());
  return {
    async next(): Promise<Msg> {
      while (queued.length === 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        for (const m of parser.feed(value))
          queued.push({ event: m.event, kiosks: JSON.parse(m.data).kiosks });
      }
      return queued.shift()!;
    },
  };
}

t.test('the whole fleet once, then only the kiosks that changed', async (t) => {
  const fleet = await follow('/api/operator/fleet/events');
  const first = await fleet.next();
  t.equal(first.event, 'kiosks');
  t.same(
    first.kiosks.map((k) => k.id),
    ['k1', 'k2', 'k3'],
  );
  const kiosk = await hub.connectKiosk(creds[1]!);
  await kiosk.boot();
  let msg = await fleet.next();
  t.equal(msg.event, 'kiosksChanged', 'a change: only what changed');
  t.same(
    msg.kiosks.map((k) => k.id),
    ['k2'],
    'k2 alone, re-read by its id',
  );
  while (!msg.kiosks[0]?.connected) msg = await fleet.next();
  t.equal(msg.event, 'kiosksChanged');
  t.same(
    msg.kiosks.map((k) => [k.id, k.connected]),
    [['k2', true]],
  );

  hub.server.hub.emit('fleetResync');
  // Changes of k2 still under way come as they are; the resync's answer is the whole list.
  let again = await fleet.next();
  while (again.event === 'kiosksChanged') {
    t.same(
      again.kiosks.map((k) => k.id),
      ['k2'],
    );
    again = await fleet.next();
  }
  t.equal(again.event, 'kiosks', 'after a resync (changes may be lost): the whole list');
  t.equal(again.kiosks.length, 3);
  await kiosk.close();
});

t.test("one kiosk's stream ignores the others' changes", async (t) => {
  const one = await follow('/api/operator/fleet/events?kiosk=k3');
  t.same(
    (await one.next()).kiosks.map((k) => k.id),
    ['k3'],
  );
  const k1 = await hub.connectKiosk(creds[0]!);
  await k1.boot();
  const k3 = await hub.connectKiosk(creds[2]!);
  await k3.boot();
  const msg = await one.next();
  t.same(
    [msg.event, msg.kiosks.map((k) => k.id)],
    ['kiosksChanged', ['k3']],
    'k1 connecting sent nothing',
  );
  await k1.close();
  await k3.close();
});

t.test(
  'a change that commits while the first whole-fleet read runs is sent after it',
  async (t) => {
    const k4 = await hub.enrolKiosk('k4');
    // The route's first whole-fleet read (its transaction listed the kiosks) is held after it has
    // read, until released: k4 connects and boots meanwhile.
    const held = holdTransaction(t, hub.server.store, 'kiosks', 'list', 'commit');
    const opening = follow('/api/operator/fleet/events');
    await held.reached;
    const kiosk = await hub.connectKiosk(k4);
    await kiosk.boot();
    held.release();
    const fleet = await opening;
    const first = await fleet.next();
    t.equal(first.event, 'kiosks');
    t.same(
      first.kiosks.filter((k) => k.id === 'k4').map((k) => k.lastBootAt),
      [null],
      "the first list was read before k4's Boot",
    );
    // A later change of another kiosk: k4's change must have come before or with it.
    hub.server.hub.emit('fleetChange', 'k3');
    const seen: Row[] = [];
    for (;;) {
      const msg = await fleet.next();
      seen.push(...msg.kiosks);
      if (msg.kiosks.some((k) => k.id === 'k3')) break;
    }
    t.ok(
      seen.some((k) => k.id === 'k4' && k.lastBootAt !== null),
      "k4's Boot, committed during the first read, was sent",
    );
    await kiosk.close();
  },
);

t.test(
  "the page's merge: changed kiosks replace theirs, a new one joins in id order",
  async (t) => {
    const k = (id: string, connected = false) => ({ id, connected }) as unknown as OpsKiosk;
    const merged = mergeKiosks([k('a'), k('c')], [k('c', true), k('b', true)]);
    t.same(
      merged.map((x) => [x.id, x.connected]),
      [
        ['a', false],
        ['b', true],
        ['c', true],
      ],
    );
  },
);

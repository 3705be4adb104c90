import fc from 'fast-check';
import t from 'tap';
import { startTestHub } from './fixtures/test-hub.js';

const frameArb = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .tuple(
      fc.constantFrom(2, 3, 4, 5, '2', null),
      fc.oneof(fc.uuid(), fc.string(), fc.integer()),
      fc.constantFrom(
        'Boot',
        'Heartbeat',
        'Inventory',
        'Event',
        'Dispense',
        '__proto__',
        'constructor',
        'Nope',
      ),
      fc.jsonValue(),
    )
    .map((f) => JSON.stringify(f)),
  fc.constant('[2,"x","Event",{"__proto__":{"polluted":true},"eventId":"not-a-uuid","seq":-1}]'),
  fc.constant(`${'['.repeat(5000)}${']'.repeat(5000)}`),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
);

t.test(
  'random frames from an authenticated kiosk never crash the hub; others keep working',
  async (t) => {
    const hub = await startTestHub(t);
    const bad = await hub.connectKiosk(await hub.enrolKiosk('bad'));
    await bad.boot();
    const good = await hub.connectKiosk(await hub.enrolKiosk('good'));
    await good.boot();
    const h = hub.server.hub;
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 20 }), async (frames) => {
        for (const f of frames) {
          if (bad.ws.readyState === bad.ws.OPEN) bad.ws.send(f);
        }
        const cmd = await h.sendCommand(
          'good',
          'EnableSlot',
          { slot: 1 },
          new Date(Date.now() + 10_000),
        );
        const done = await h.waitFor(cmd.id, { timeoutMs: 5000 });
        return done.state === 'completed';
      }),
      { numRuns: 40 },
    );
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    t.ok(h.isConnected('good'), 'the good kiosk is still connected');
    const res = await hub.api('GET', '/healthz', undefined, null);
    t.equal(res.status, 200);
  },
);

t.test(
  'an oversized message closes that socket with 1009; the hub keeps serving others',
  async (t) => {
    const hub = await startTestHub(t, { maxPayloadBytes: 4096 });
    const big = await hub.connectKiosk(await hub.enrolKiosk('big'));
    await big.boot();
    const other = await hub.connectKiosk(await hub.enrolKiosk('other'));
    await other.boot();
    big.ws.send(JSON.stringify([2, 'm1', 'Heartbeat', { pad: 'x'.repeat(10_000) }]));
    const closed = await big.closed;
    t.equal(closed.code, 1009);
    const cmd = await hub.server.hub.sendCommand(
      'other',
      'Reset',
      { kind: 'Soft' },
      new Date(Date.now() + 10_000),
    );
    t.equal((await hub.server.hub.waitFor(cmd.id, { timeoutMs: 5000 })).state, 'completed');
  },
);

// The hub's admission (KioskHubDeps.admitConcurrency, admitWaitMs): upgrades' secret checks and
// Boots wait in separate queues, and a Boot turned away gets its CALLERROR before the 1013
// close. One hub for the file: limit 2 (1 upgrade check, 1 Boot at once), 300 ms of waiting.
import t from 'tap';
import { RpcError } from '../../../protocol/errors.js';
import { holdTransaction } from '../fixtures/hold-transaction.js';
import { startTestHub } from '../fixtures/test-hub.js';

const hub = await startTestHub(t, {}, { hubAdmission: { concurrency: 2, waitMs: 300 } });
const creds: Array<{ kioskId: string; secret: string }> = [];
for (const id of ['k1', 'k2', 'k3']) creds.push(await hub.enrolKiosk(id));

t.test(
  "a flood of upgrades does not hold the permits a connected kiosk's Boot needs",
  async (t) => {
    const kiosk = await hub.connectKiosk(creds[0]!);
    // Every upgrade's secret check is held until released.
    const registry = hub.server.registry;
    const authenticate = registry.authenticate;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let checks = 0;
    registry.authenticate = async (...a) => {
      checks++;
      await gate;
      return authenticate.apply(registry, a);
    };
    let upgrades = 0;
    const counted = () => upgrades++;
    hub.server.app.server.on('upgrade', counted);
    t.teardown(() => {
      release();
      registry.authenticate = authenticate;
      hub.server.app.server.off('upgrade', counted);
    });
    // Well-formed Basic headers with a wrong secret: each waits for (or holds) a permit.
    const flood = [1, 2, 3].map(() =>
      hub.connectKiosk({ kioskId: 'k2', secret: 'not-the-secret' }).then(
        () => 'open',
        (err: Error) => err.message,
      ),
    );
    while (upgrades < 3 || checks < 1) await new Promise((r) => setImmediate(r));
    const answer = await kiosk.boot();
    t.equal(answer.status, 'Accepted', 'the Boot was admitted while the upgrades waited');
    release();
    for (const r of await Promise.all(flood)) t.match(r, /401/, 'each flood upgrade refused');
    await kiosk.close();
  },
);

t.test('a Boot turned away gets its CALLERROR GenericError, then the 1013 close', async (t) => {
  const holder = await hub.connectKiosk(creds[1]!);
  const late = await hub.connectKiosk(creds[2]!);
  // The holder's Boot statement holds the one Boot permit; the late kiosk's Boot waits 300 ms.
  const held = holdTransaction(t, hub.server.store, 'kiosks', 'recordBoot', 'call');
  const holding = holder.boot();
  await held.reached;
  const err = await late.boot().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof RpcError, 'the Boot failed');
  t.match(
    err,
    { code: 'ECALLERROR', errorCode: 'GenericError' },
    'answered with a CALLERROR before the close',
  );
  t.equal((await late.closed).code, 1013, 'then closed with 1013');
  held.release();
  t.equal((await holding).status, 'Accepted');
  await holder.close();
});

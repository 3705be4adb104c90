// Waiting for the kiosks' pre-staged stock (scripts/lib/stock.ts) against a stand-in for the
// hub's fleet API on loopback: a line per kiosk and slot as it starts preparing and becomes
// ready, done only when every kiosk has its disks; a timeout names each kiosk short of stock,
// its slots' states, the reason of their last change and its log; a kioskd that exits ends
// the wait at once, naming it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { HubApi } from '../../scripts/lib/api-client.js';
import { waitForReadyStock } from '../../scripts/lib/stock.js';

const FILMS = { id: 'nature-films', version: '1' };
const TOKEN = 'op-token';

type Slot = { slot: number; state: string; contentId?: string; contentVersion?: string };
const ready = (slot: number, contentId = FILMS.id): Slot => ({
  slot,
  state: 'ready',
  contentId,
  contentVersion: FILMS.version,
});

/** A fleet API whose answer is `frames[i]` at the i-th request (the last one repeats). */
async function fakeHub(
  t: Test,
  frames: Array<Record<string, Slot[]>>,
  events: Record<string, unknown[]> = {},
): Promise<{ api: HubApi; requests: () => number }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end('{"error":{"code":"UNAUTHENTICATED","message":"no"}}');
      return;
    }
    const ev = /^\/api\/operator\/kiosks\/([^/]+)\/events/.exec(req.url ?? '');
    let body: unknown;
    if (ev) body = { events: events[ev[1]!] ?? [] };
    else if (req.url === '/api/operator/kiosks') {
      const f = frames[Math.min(n++, frames.length - 1)]!;
      body = { kiosks: Object.entries(f).map(([id, slots]) => ({ id, slots })) };
    } else {
      res.writeHead(404).end('{}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  return { api: new HubApi(`http://127.0.0.1:${port}`), requests: () => n };
}

const kiosk = (id: string, running = () => true) => ({
  id,
  running,
  logFile: `/demo/${id}/kioskd.log`,
});

t.test(
  'a line per slot as it prepares and becomes ready; done when every kiosk has two',
  async (t) => {
    const loaded = (slot: number): Slot => ({ slot, state: 'loaded' });
    const preparing = (slot: number): Slot => ({ slot, state: 'preparing' });
    const hub = await fakeHub(t, [
      { 'kiosk-1': [loaded(1), loaded(2), loaded(3)], 'kiosk-2': [loaded(1), loaded(2)] },
      { 'kiosk-1': [preparing(1), preparing(2), loaded(3)], 'kiosk-2': [preparing(1), loaded(2)] },
      // kiosk-2 slot 2 ready with OTHER content does not count, nor does a third films disk matter.
      {
        'kiosk-1': [ready(1), ready(2), loaded(3)],
        'kiosk-2': [ready(1), ready(2, 'open-course')],
      },
      { 'kiosk-1': [ready(1), ready(2), loaded(3)], 'kiosk-2': [ready(1), preparing(2)] },
      { 'kiosk-1': [ready(1), ready(2), loaded(3)], 'kiosk-2': [ready(1), ready(2)] },
    ]);
    const lines: string[] = [];
    await waitForReadyStock({
      api: hub.api,
      token: TOKEN,
      kiosks: [kiosk('kiosk-1'), kiosk('kiosk-2')],
      content: FILMS,
      count: 2,
      timeoutMs: 10_000,
      intervalMs: 1,
      say: (l) => lines.push(l),
    });
    t.equal(hub.requests(), 5, 'polled until the last kiosk had both disks');
    t.same(
      lines.map((l) => l.replace(/ \(\d+\.\d s\)$/, '')),
      [
        'kiosk-1 slot 1: preparing (download, format, copy, verify)',
        'kiosk-1 slot 2: preparing (download, format, copy, verify)',
        'kiosk-2 slot 1: preparing (download, format, copy, verify)',
        'kiosk-1 slot 1: ready, nature-films@1 copied and verified',
        'kiosk-1 slot 2: ready, nature-films@1 copied and verified',
        'kiosk-2 slot 1: ready, nature-films@1 copied and verified',
        'kiosk-2 slot 2: preparing (download, format, copy, verify)',
        'kiosk-2 slot 2: ready, nature-films@1 copied and verified',
      ],
    );
  },
);

t.test('the timeout names the kiosks short of stock, their slots and why', async (t) => {
  const hub = await fakeHub(
    t,
    [
      {
        'kiosk-1': [ready(1), ready(2), { slot: 3, state: 'loaded' }],
        'kiosk-2': [
          ready(1),
          { slot: 2, state: 'fault' },
          { slot: 3, state: 'loaded' },
          { slot: 4, state: 'empty' },
        ],
      },
    ],
    {
      'kiosk-2': [
        { type: 'SlotStateChanged', data: { slot: 2, reason: 'pre-staging: nature-films@1' } },
        { type: 'Heartbeat', data: {} },
        {
          type: 'SlotStateChanged',
          data: { slot: 2, reason: 'pre-staging failed (EVERIFY): coast.mp4 differs' },
        },
      ],
    },
  );
  const err = await waitForReadyStock({
    api: hub.api,
    token: TOKEN,
    kiosks: [kiosk('kiosk-1'), kiosk('kiosk-2')],
    content: FILMS,
    count: 2,
    timeoutMs: 50,
    intervalMs: 5,
    say: () => {},
  }).catch((e: Error) => e);
  t.match(err, { code: 'ETIMEOUT' });
  t.equal(
    (err as Error).message,
    "the kiosks' stock was not ready after 0.05 s (2 nature-films@1 disks each): kiosk-2 has 1 of 2: " +
      'slot 2 fault (last change: "pre-staging failed (EVERIFY): coast.mp4 differs"), slot 3 loaded; ' +
      'its log is /demo/kiosk-2/kioskd.log',
  );
});

t.test('a kioskd that exits ends the wait at once, naming it and its log', async (t) => {
  const hub = await fakeHub(t, [{ 'kiosk-1': [{ slot: 1, state: 'preparing' }] }]);
  let alive = true;
  const waiting = waitForReadyStock({
    api: hub.api,
    token: TOKEN,
    kiosks: [kiosk('kiosk-1', () => alive)],
    content: FILMS,
    count: 2,
    timeoutMs: 60_000,
    intervalMs: 5,
    say: () => {},
  });
  while (hub.requests() < 2) await new Promise((r) => setTimeout(r, 5));
  alive = false;
  await t.rejects(waiting, {
    code: 'ESTART',
    message: 'kioskd kiosk-1 exited while preparing its stock; its log is /demo/kiosk-1/kioskd.log',
  });
});

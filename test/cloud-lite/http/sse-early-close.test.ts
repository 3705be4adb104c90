// Live streams (cloud-lite/http/sse.ts) whose client goes away while the first message is still
// being read: the stream ends once the read is done, and nothing it registered stays (the
// emitter's listeners, the keep-alive interval: both go in the same end). One hub for the file.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import t from 'tap';
import { holdTransaction } from '../fixtures/hold-transaction.js';
import { ADMIN_TOKEN, startTestHub, waitUntil } from '../fixtures/test-hub.js';

const hub = await startTestHub(t);
await hub.enrolKiosk('k1');

const streams = [
  {
    what: 'the fleet stream (changed items)',
    path: '/api/operator/fleet/events',
    held: ['kiosks', 'list'],
    listening: () =>
      hub.server.hub.listenerCount('fleetChange') + hub.server.hub.listenerCount('fleetResync'),
  },
  {
    what: 'the alerts stream (snapshots)',
    path: '/api/operator/alerts/events',
    held: ['alerts', 'list'],
    listening: () => hub.server.alerts.listenerCount('live'),
  },
] as const;

for (const s of streams)
  t.test(`${s.what}: a client that leaves during the first read leaves nothing`, async (t) => {
    const before = s.listening();
    // The route's first read is held after it has read; the client goes away meanwhile and the
    // hub sees its connection close before the read is released.
    const held = holdTransaction(t, hub.server.store, s.held[0], s.held[1], 'commit');
    const response = new Promise<ServerResponse>((resolve) =>
      hub.server.app.server.once('request', (_req, res) => resolve(res)),
    );
    const ac = new AbortController();
    const opening = fetch(hub.baseUrl + s.path, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: ac.signal,
    }).catch(() => undefined);
    const res = await response;
    await held.reached;
    ac.abort();
    await opening;
    if (!res.destroyed) await once(res, 'close');
    held.release();
    // The handler takes the reply over (writes the stream's head, to a closed connection) once
    // the read is done; what it does next runs in that same turn: by now it has ended.
    await waitUntil('the stream to open', () => res.headersSent);
    t.equal(s.listening(), before, 'no listener left (nor the keep-alive: both go in one end)');
    t.ok(res.destroyed, 'the connection is closed');
  });

// A hub holds one session per connected kiosk: a session makes its logger (a pino child binding
// its kioskId) only when it first logs, and answers its kiosk's calls with handlers shared by
// every session (hub/kiosk-messages.ts), so an idle session costs ~500 bytes of heap, not ~1.6 KB.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import type { KioskSession } from '../../../cloud-lite/hub/kiosk-session.js';
import { RpcError } from '../../../protocol/index.js';
import { startTestHub, waitUntil } from '../fixtures/test-hub.js';

t.test('a session makes its logger only when it logs; the lines name the kiosk', async (t) => {
  const lines: Array<{ msg: string; kioskId?: string }> = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const logger = pino({ level: 'info' }, out);
  // Every pino child inherits child() from the root: count the kiosks' own loggers.
  const kioskLoggers: string[] = [];
  const child = logger.child.bind(logger);
  logger.child = function (this: pino.Logger, bindings, opts) {
    if (typeof bindings.kioskId === 'string') kioskLoggers.push(bindings.kioskId);
    return child.call(this, bindings, opts);
  } as typeof logger.child;
  const hub = await startTestHub(t, {}, { logger });

  for (const id of ['k1', 'k2']) {
    const kiosk = await hub.connectKiosk(await hub.enrolKiosk(id));
    await kiosk.boot({ slotCount: 2 });
    await kiosk.heartbeat();
    await kiosk.inventory([
      { slot: 1, state: 'empty', writeProtect: false },
      { slot: 2, state: 'empty', writeProtect: false },
    ]);
  }
  t.same(kioskLoggers, [], 'connected, booted, heartbeats and inventories: no kiosk logger made');
  t.same(
    lines.filter((l) => l.msg === 'kiosk connected').map((l) => l.kioskId),
    ['k1', 'k2'],
    'the connection lines name their kiosk',
  );

  // A refused call logs through the session's logger: made then, once.
  const k3 = await hub.connectKiosk(await hub.enrolKiosk('k3'));
  for (let i = 0; i < 2; i++) {
    const err = await k3.heartbeat().catch((e: unknown) => e);
    t.ok(
      err instanceof RpcError && err.errorCode === 'SecurityError',
      'Heartbeat before Boot refused',
    );
  }
  await waitUntil(
    'the refusals logged',
    () => lines.filter((l) => /before an accepted Boot/.test(l.msg)).length === 2,
  );
  t.same(kioskLoggers, ['k3'], "the session's logger, made at its first line");
  t.same(
    lines.filter((l) => /before an accepted Boot/.test(l.msg)).map((l) => l.kioskId),
    ['k3', 'k3'],
    'its lines name the kiosk',
  );
});

t.test("a kiosk's socket and peer hold no listener of the hub's own", async (t) => {
  // The hub listens for a socket's errors while it checks the upgrade; ws listens from the
  // handshake on. Both left on would make the socket's 'error' entry an array of two, held for
  // the connection's life (10,000 of them on a full hub).
  const hub = await startTestHub(t);
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k1'));
  await kiosk.boot({ slotCount: 2 });
  const sessions = (hub.server.hub as unknown as { sessions: Map<string, KioskSession> }).sessions;
  const session = sessions.get('k1');
  t.ok(session, 'the session');
  const socket = (session!.ws as unknown as { _socket: Socket })._socket;
  t.equal(socket.listenerCount('error'), 1, "one 'error' listener: ws's");
  // Refused frames are told through the session (RpcPeerOptions.protocolError), so a kiosk's
  // peer has no listener table of its own.
  t.notOk(session!.peer instanceof EventEmitter, "the kiosk's peer is no emitter");
});

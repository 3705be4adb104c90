// One session per kiosk on a hub process when an abandoned upgrade completes late (a boot storm:
// bench:hub counted kiosks closed with 4001 "replaced" after a restart). The hub reads nothing
// from a socket between the HTTP upgrade request and the 101, so it does not see that the
// client hung up while the upgrade waited (for admission, for its secret check); the kiosk has
// reconnected meanwhile and booted on its newer connection.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { SUBPROTOCOL } from '../../../protocol/index.js';
import { startTestHub, waitUntil } from '../fixtures/test-hub.js';

t.test(
  'an upgrade its kiosk gave up on, completed after the kiosk reconnected and booted, does not replace the live session',
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const live = await hub.connectKiosk(creds);
    await waitUntil('the socket attached', () => hub.server.hub.isConnected('k1'));
    t.notOk(hub.server.hub.isBooted('k1'), 'connected, not booted before its Boot');
    await live.boot();
    t.ok(hub.server.hub.isBooted('k1'), 'booted once its Boot is answered');

    // The next secret check waits until released (as one waiting for admission in a storm).
    const registry = hub.server.registry;
    const authenticate = registry.authenticate.bind(registry);
    let checking!: () => void;
    const checkStarted = new Promise<void>((r) => {
      checking = r;
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let checked!: () => void;
    const checkDone = new Promise<void>((r) => {
      checked = r;
    });
    registry.authenticate = async (id, secret) => {
      registry.authenticate = authenticate;
      checking();
      await gate;
      const ok = await authenticate(id, secret);
      checked();
      return ok;
    };

    // An attempt the kiosk gave up on: its upgrade request reaches the hub after the live one.
    const stale = net.connect(hub.port, '127.0.0.1');
    t.teardown(() => {
      stale.destroy();
    });
    await new Promise<void>((r) => stale.once('connect', () => r()));
    const auth = Buffer.from(`${creds.kioskId}:${creds.secret}`).toString('base64');
    stale.write(
      'GET /kiosk HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Protocol: ${SUBPROTOCOL}\r\nAuthorization: Basic ${auth}\r\n\r\n`,
    );
    await checkStarted;
    t.ok(await live.heartbeat(), 'the live connection works while the old upgrade waits');

    // The old upgrade completes (the hub has not seen the kiosk hang up on it yet: bench:hub's
    // restart storm showed such upgrades completing 25-38 s after the kiosk's newer connection
    // booted, each closing that live connection with 4001). It sends no Boot.
    const answered = new Promise<string>((r) => stale.once('data', (d) => r(d.toString())));
    release();
    await checkDone;
    t.match(await answered, /^HTTP\/1\.1 101 /, 'the old upgrade was completed');
    t.ok(await live.heartbeat(), 'the live connection still answers');
    t.ok(hub.server.hub.isConnected('k1'), 'the hub holds the live session');
    // The kiosk's end of the old attempt is gone: the hub closes it.
    const staleClosed = new Promise<void>((r) => stale.once('close', () => r()));
    stale.end();
    await staleClosed;
    t.ok(await live.heartbeat(), 'the live connection answers after the old one closed');
    t.ok(hub.server.hub.isConnected('k1'), 'the hub holds the live session');
    t.equal(hub.server.hub.connectedCount, 1);
    const k = (await hub.api('GET', '/api/operator/kiosks/k1')).body.kiosk;
    t.equal(k.status, 'online', 'the kiosk is still online');
    // A command reaches the live connection.
    const cmd = await hub.server.hub.sendCommand(
      'k1',
      'EnableSlot',
      { slot: 1 },
      new Date(Date.now() + 30_000),
    );
    t.equal((await hub.server.hub.waitFor(cmd.id, { timeoutMs: 10_000 })).state, 'completed');
    t.ok(
      live.commands.some((c) => c.payload.commandId === cmd.id),
      'on the live socket',
    );

    // A newer connection of the kiosk that Boots still replaces the live one (4001).
    const next = await hub.connectKiosk(creds);
    await next.boot();
    t.equal((await live.closed).code, 4001, 'the older connection closed as replaced');
    t.ok(await next.heartbeat());
    t.equal(hub.server.hub.connectedCount, 1);
  },
);

// kioskd's preparation wiring on simulated hardware (no root needed): a held disk whose
// hold passed is released (ReservationExpired), and CancelReservation of a reservation being
// prepared aborts the running download/clone (PrepareFailed ECANCELLED, slot back to loaded).
// The content origin here holds its blob response open, so the prepare is mid-download.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t from 'tap';
import type { SimDrives } from '../../../hal/drives/index.js';
import type { SimulatedMotorBoard } from '../../../hal/motor-board/index.js';
import { Daemon } from '../../../kiosk/daemon.js';
import { silentLogger } from '../../../kiosk/log.js';
import { stockSlot } from '../../../kiosk/returns/stock.js';
import {
  generateSigningKeyPair,
  type PrepareDiskRequest,
  signCommand,
} from '../../../protocol/index.js';
import { makeContent } from '../../helpers/content-fixtures.js';
import { TestHubPeer } from '../../helpers/test-hub-peer.js';
import { KIOSK_ID, SECRET, simConfig, type Tap, tempDir } from './harness.js';

async function start(t: Tap, origin?: string) {
  const dir = tempDir(t);
  const keys = generateSigningKeyPair();
  const hub = new TestHubPeer({ kiosks: { [KIOSK_ID]: SECRET }, heartbeatInterval: 30 });
  await hub.start();
  t.teardown(() => hub.close());
  const base = simConfig(dir, hub.url, keys.publicKeyPem, { slots: 2 });
  const config = {
    ...base,
    content: { ...base.content, ...(origin ? { origin } : {}) },
    reservations: { expiryCheckSeconds: 0.05 },
  };
  const daemon = new Daemon({ config, log: silentLogger(), env: {} });
  t.teardown(() => daemon.stop());
  await daemon.start();
  await hub.waitFor(() => hub.boots.length > 0, 'kiosk booted');
  const events = (type: string) => [
    ...new Map(
      hub.events
        .filter((e) => e.type === type)
        .map((e) => [e.eventId, e.data as Record<string, unknown>]),
    ).values(),
  ];
  return { dir, keys, hub, daemon, events };
}

t.test('a held disk whose hold passed goes back to ready with ReservationExpired', async (t) => {
  const { hub, daemon, events } = await start(t);
  (daemon.hardware.board as SimulatedMotorBoard).sim.insertDisk(1);
  stockSlot(daemon, {
    slot: 1,
    disk: { diskId: 'disk-1', capacityBytes: 1e9, contentId: 'c1', contentVersion: '1' },
    state: 'reserved',
    reservation: {
      reservationId: 'rsv-1',
      commandId: randomUUID(),
      holdUntil: new Date(Date.now() + 300).toISOString(),
    },
  });
  t.equal(daemon.slots.get(1).state, 'reserved');
  await hub.waitFor(() => events('ReservationExpired').length === 1, 'ReservationExpired');
  t.same(events('ReservationExpired')[0], { reservationId: 'rsv-1', slot: 1 });
  const s = daemon.slots.get(1);
  t.equal(s.state, 'ready', 'the disk is rentable again');
  t.equal(s.reservationId, null);
  t.equal(
    (
      daemon.db.prepare('SELECT state FROM reservations WHERE reservation_id = ?').get('rsv-1') as {
        state: string;
      }
    ).state,
    'expired',
  );
});

t.test(
  'CancelReservation aborts a prepare in progress; the slot goes back to loaded',
  async (t) => {
    const keys = generateSigningKeyPair();
    const content = makeContent('films', 'v1', { 'a.bin': 4096 }, keys.privateKeyPem);
    const auth: (string | undefined)[] = [];
    const held: http.ServerResponse[] = [];
    const origin = http.createServer((req, res) => {
      auth.push(req.headers.authorization);
      if (req.url?.endsWith('/manifest.json'))
        return void res.writeHead(200).end(JSON.stringify(content.signed));
      res.writeHead(200, { 'content-length': '4096' });
      res.write(Buffer.alloc(10)); // ... and never the rest
      held.push(res);
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    t.teardown(
      () =>
        new Promise<void>((r) => {
          origin.closeAllConnections();
          origin.close(() => r());
        }),
    );
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    // The kiosk must trust this content's signer: use the same key pair for the hub.
    const dir = tempDir(t);
    const hub = new TestHubPeer({ kiosks: { [KIOSK_ID]: SECRET }, heartbeatInterval: 30 });
    await hub.start();
    t.teardown(() => hub.close());
    const base = simConfig(dir, hub.url, keys.publicKeyPem, { slots: 2 });
    const daemon = new Daemon({
      config: { ...base, content: { ...base.content, origin: url } },
      log: silentLogger(),
      env: {},
    });
    t.teardown(() => daemon.stop());
    await daemon.start();
    await hub.waitFor(() => hub.boots.length > 0, 'kiosk booted');
    const events = (type: string) =>
      hub.events.filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);

    (daemon.hardware.board as SimulatedMotorBoard).sim.insertDisk(1);
    stockSlot(daemon, { slot: 1, disk: { diskId: 'disk-1', capacityBytes: 1e9 } });
    await (daemon.hardware.drives as SimDrives).insert(1, {
      dir: path.join(dir, 'disk-1'),
      serial: 'SER1',
    });
    const drives = daemon.hardware.drives as SimDrives;
    const deadline = Date.now() + 10_000;
    while (!(await drives.diskForSlot(1)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const reservationId = 'rsv-2';
    const prepare = signCommand(
      keys.privateKeyPem,
      KIOSK_ID,
      'PrepareDisk',
      {
        commandId: randomUUID(),
        reservationId,
        contentId: 'films',
        contentVersion: 'v1',
        minCapacityBytes: 1000,
        writeProtect: true,
        holdUntil: new Date(Date.now() + 3_600_000).toISOString(),
      },
      { ttlMs: 2 * 3_600_000 },
    ) as PrepareDiskRequest;
    t.same(await hub.call('PrepareDisk', prepare), { status: 'Accepted' }, 'signed 2 h ahead: ok');
    await hub
      .waitFor(() => held.length > 0, 'the blob download started')
      .catch((err) => {
        t.comment(JSON.stringify(hub.events.map((e) => [e.type, e.data])));
        throw err;
      });
    t.equal(daemon.slots.get(1).state, 'preparing');
    const basic = `Basic ${Buffer.from(`${KIOSK_ID}:${SECRET}`).toString('base64')}`;
    t.ok(auth.length >= 2 && auth.every((a) => a === basic), 'origin requests carry Basic auth');

    t.same(await hub.call('CancelReservation', { commandId: randomUUID(), reservationId }), {
      status: 'Accepted',
    });
    await hub.waitFor(() => events('PrepareFailed').length > 0, 'PrepareFailed');
    t.match(events('PrepareFailed')[0], { reservationId, slot: 1, code: 'ECANCELLED' });
    t.match(events('ReservationCancelled')[0], { reservationId, slot: 1 });
    await hub.waitFor(() => daemon.slots.get(1).state === 'loaded', 'slot back to loaded');
    t.equal(
      (
        daemon.db
          .prepare('SELECT state FROM reservations WHERE reservation_id = ?')
          .get(reservationId) as { state: string }
      ).state,
      'cancelled',
      'stays cancelled (not overwritten as failed)',
    );
  },
);

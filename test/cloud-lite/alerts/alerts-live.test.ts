// Alerts end to end over real sockets: a kioskd child process (its own WebSocket to the real
// hub) is SIGKILLed -> after alerts.offlineAfterSeconds the hub opens kiosk_offline -> the
// signed webhook reaches a local HTTP receiver (signature verified as docs/alerts-and-
// notifications.md tells a receiver to) and an e-mail reaches a local SMTP server -> the
// kioskd is started again -> the alert is resolved by `system:alerts`, told the same two ways.
// And: a jam during a Dispense (in-process kioskd, simulated board) opens slot_fault; an
// operator acknowledges and resolves through the API (audited; ALERT_STATE on a repeat); a
// failing receiver gets the same delivery again after a backoff.
import path from 'node:path';
import t from 'tap';
import type { HubConfig } from '../../../cloud-lite/config.js';
import { verifyWebhookSignature } from '../../../cloud-lite/rental/payments/webhook-signature.js';
import type { SimulatedMotorBoard } from '../../../hal/motor-board/index.js';
import { parseConfig } from '../../../kiosk/config.js';
import { Daemon } from '../../../kiosk/daemon.js';
import { silentLogger } from '../../../kiosk/log.js';
import { stockSlot } from '../../../kiosk/returns/stock.js';
import { DemoKiosk } from '../../../scripts/lib/kiosk-process.js';
import { startSmtpSink } from '../../helpers/smtp-sink.js';
import { startWebhookSink } from '../../helpers/webhook-sink.js';
import { tempDir } from '../../kiosk/daemon/harness.js';
import { startTestHub, waitUntil } from '../fixtures/test-hub.js';

const SECRET = 'webhook-secret-0123456789abcdef';

interface Tap {
  teardown(fn: () => unknown): void;
}

async function alertingHub(t: Tap) {
  const smtp = await startSmtpSink();
  t.teardown(() => smtp.close());
  const hooks = await startWebhookSink();
  t.teardown(() => hooks.close());
  const hub = await startTestHub(t, {
    smtp: {
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      requireTls: false,
      from: 'hub@kiosk.test',
      timeoutMs: 5000,
    },
    // Partial: the hub's configuration fills in the other settings' defaults.
    alerts: {
      sweepIntervalMs: 100,
      offlineAfterSeconds: 1,
      emailTo: ['ops@kiosk.test'],
      webhook: { url: hooks.url, secret: SECRET, maxAttempts: 5, timeoutMs: 5000 },
    } as HubConfig['alerts'],
  });
  return { hub, smtp, hooks };
}

t.test(
  'kioskd killed -> offline alert by signed webhook and e-mail -> back -> resolved',
  async (t) => {
    const { hub, smtp, hooks } = await alertingHub(t);
    const kioskId = 'kiosk-alert-1';
    const { secret } = await hub.enrolKiosk(kioskId);
    const pk = await hub.api('GET', '/api/hub/public-key', undefined, null);
    const dir = tempDir(t, 'alerts-kioskd-');
    const kiosk = new DemoKiosk({
      kioskId,
      dir,
      hubWsUrl: hub.wsUrl,
      secret,
      hubPublicKeyPem: String(pk.body),
      slotCount: 2,
      slots: [],
      storage: 'sim',
      boardLink: 'socket',
      logLevel: 'warn',
    });
    t.teardown(() => kiosk.stop(2000));
    await kiosk.start();
    // Booted, not only connected: a kioskd killed before its Boot is recorded never ran as far
    // as the hub knows, and the offline rule leaves a kiosk that never booted alone (this wait
    // was isConnected, and under load the kill came before the Boot: no alert, a hang).
    await waitUntil('kioskd booted', () => hub.server.hub.isBooted(kioskId), 30_000);
    await hub.server.alerts.sweep();
    t.same(
      (await hub.api('GET', '/api/operator/alerts')).body.alerts,
      [],
      'no alert while it runs',
    );

    await kiosk.kill('SIGKILL');
    const opened = await hooks.waitFor(
      (h) => h.body?.event === 'opened' && h.body.alert.kind === 'kiosk_offline',
    );
    t.match(opened.body.alert, {
      kioskId,
      state: 'open',
      severity: 'critical',
      key: `kiosk_offline:${kioskId}`,
    });
    t.ok(
      verifyWebhookSignature(
        SECRET,
        opened.raw,
        opened.headers['x-disk-kiosk-signature'] as string,
      ),
      'the webhook is signed with the shared secret over the raw body',
    );
    t.notOk(
      verifyWebhookSignature(
        'another-secret-0123456789',
        opened.raw,
        opened.headers['x-disk-kiosk-signature'] as string,
      ),
      'another key does not verify',
    );
    t.notOk(
      verifyWebhookSignature(
        SECRET,
        Buffer.from(opened.raw.toString().replace('critical', 'warning')),
        opened.headers['x-disk-kiosk-signature'] as string,
      ),
      'a changed body does not verify',
    );
    t.match(opened.headers['x-disk-kiosk-delivery'], /^[0-9]+$/);
    const mail = await smtp.waitFor((m) => /ALERT/.test(m.subject) && m.text.includes(kioskId));
    t.same(mail.to, ['ops@kiosk.test']);
    t.match(mail.subject, /offline/);
    const listed = await hub.api('GET', '/api/operator/alerts');
    t.equal(listed.body.alerts.length, 1, 'one alert for the cause, however many sweeps saw it');
    const id = listed.body.alerts[0].id;

    kiosk.respawn();
    const resolved = await hooks.waitFor(
      (h) => h.body?.event === 'resolved' && h.body.alert.id === id,
    );
    t.match(resolved.body.alert, { state: 'resolved', resolvedBy: 'system:alerts' });
    t.ok(
      verifyWebhookSignature(
        SECRET,
        resolved.raw,
        resolved.headers['x-disk-kiosk-signature'] as string,
      ),
    );
    await smtp.waitFor((m) => /\[resolved\]/.test(m.subject) && m.text.includes(kioskId));
    t.same((await hub.api('GET', '/api/operator/alerts')).body.alerts, [], 'nothing live');
    const all = await hub.api('GET', '/api/operator/alerts?state=resolved');
    t.same(
      all.body.alerts.map((a: { id: number }) => a.id),
      [id],
    );
    t.equal(
      hooks.received.filter((h) => h.body?.alert?.kind === 'kiosk_offline').length,
      2,
      'told once when opened and once when resolved (no storm)',
    );
  },
);

t.test(
  'a jam during a Dispense opens slot_fault; acknowledge and resolve are audited',
  async (t) => {
    const { hub, hooks } = await alertingHub(t);
    const kioskId = 'kiosk-alert-2';
    const { secret } = await hub.enrolKiosk(kioskId);
    const pk = await hub.api('GET', '/api/hub/public-key', undefined, null);
    const dir = tempDir(t, 'alerts-jam-');
    const daemon = new Daemon({
      config: parseConfig(
        {
          kioskId,
          dataDir: path.join(dir, 'data'),
          hub: {
            url: hub.wsUrl,
            secret,
            publicKeyPem: String(pk.body),
            backoff: { baseMs: 20, capMs: 200, stableSeconds: 1 },
          },
          slots: { count: 2 },
          hardware: {
            motorBoard: { driver: 'sim', ejectMs: 20, retractMs: 20 },
            gpio: { driver: 'sim', debounceMs: 1 },
            usb: { driver: 'sim', enumerateMs: 1 },
            drives: { driver: 'sim', pollIntervalMs: 100 },
            storage: { driver: 'sim', mountRoot: path.join(dir, 'mnt') },
          },
          logLevel: 'silent',
        },
        { env: {} },
      ),
      log: silentLogger(),
      env: {},
    });
    t.teardown(() => daemon.stop());
    await daemon.start();
    const sim = (daemon.hardware.board as SimulatedMotorBoard).sim;
    sim.insertDisk(1);
    stockSlot(daemon, {
      slot: 1,
      disk: { diskId: 'disk-jam', usbSerial: 'JAM1', capacityBytes: 1e9 },
    });
    await waitUntil('kiosk booted', () => hub.server.hub.isBooted(kioskId), 30_000);
    hooks.failNext(500); // the receiver fails once: the same delivery comes again after a backoff
    sim.injectJam(1);
    await hub.server.hub.sendCommand(
      kioskId,
      'Dispense',
      { slot: 1, diskId: 'disk-jam', writeProtect: true, pickupWindowSeconds: 10 },
      new Date(Date.now() + 120_000),
    );
    const opened = await hooks.waitFor(
      (h) => h.body?.event === 'opened' && h.body.alert.kind === 'slot_fault',
    );
    t.match(opened.body.alert, { kioskId, key: `slot_fault:${kioskId}:1`, details: { slot: 1 } });
    const tries = hooks.received.filter(
      (h) => h.headers['x-disk-kiosk-delivery'] === opened.headers['x-disk-kiosk-delivery'],
    );
    t.same(
      tries.map((h) => h.status),
      [500, 200],
      'refused once, delivered on the retry',
    );
    t.not(tries[0]!.headers['x-disk-kiosk-signature'], undefined, 'each attempt is signed');
    const id = opened.body.alert.id;

    const ack = await hub.api('POST', `/api/operator/alerts/${id}/acknowledge`);
    t.equal(ack.status, 200);
    t.match(ack.body.alert, { state: 'acknowledged', acknowledgedBy: 'admin-token' });
    const again = await hub.api('POST', `/api/operator/alerts/${id}/acknowledge`);
    t.equal(again.status, 409);
    t.equal(again.body.error.code, 'ALERT_STATE');
    t.equal((await hub.api('POST', '/api/operator/alerts/999999/resolve')).status, 404);
    t.equal((await hub.api('GET', '/api/operator/alerts', undefined, null)).status, 401);
    const res = await hub.api('POST', `/api/operator/alerts/${id}/resolve`);
    t.match(res.body.alert, { state: 'resolved', resolvedBy: 'admin-token' });
    const audit = await hub.server.store.transaction((tx) => tx.audit.list(100));
    t.same(
      audit
        .filter((a) => a.subject === String(id))
        .map((a) => [a.action, a.actor])
        .sort(),
      [
        ['alert.acknowledged', 'admin-token'],
        ['alert.opened', 'system:alerts'],
        ['alert.resolved', 'admin-token'],
      ],
    );
    // The slot is still in fault: the next sweep opens a new alert for the same cause.
    await hub.server.alerts.sweep();
    const live = (await hub.api('GET', '/api/operator/alerts')).body.alerts;
    t.equal(live.length, 1);
    t.not(live[0].id, id, 'a new alert: the fact is still there');
  },
);

// Operators refund captured money (all or part, with a reason): audited, one refund per
// Idempotency-Key, never more than was captured, shown on the renter's order; against the
// sandbox and the Stripe provider on its stand-in.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { renderRenterMail } from '../../../../cloud-lite/notifications/renter-mail-text.js';
import { runRefundCommand } from '../../../../cloud-lite/rental/cli/refund-command.js';
import { type Gateway, sandboxGateway, stripeGateway } from '../helpers/gateways.js';
import { ADMIN_TOKEN, startRentalHub, type TestClock } from '../helpers/rental-hub.js';

const GATEWAYS: Record<string, (t: Test, c: TestClock) => Promise<Gateway>> = {
  sandbox: async () => sandboxGateway(),
  stripe: stripeGateway,
};

for (const name of Object.keys(GATEWAYS)) {
  t.test(`${name}: refund a taken order in two parts`, async (t) => {
    let offset = 0;
    const clock: TestClock = {
      now: () => new Date(Date.now() + offset),
      advance: (ms) => {
        offset += ms;
      },
    };
    const gw = await GATEWAYS[name]!(t, clock);
    const hub = await startRentalHub(t, {
      clock,
      payWith: gw.pay.approve,
      ...(gw.provider ? { provider: gw.provider } : {}),
    });
    gw.bind(hub.server.rental.provider);
    await hub.seedCatalog();
    const k = await hub.kiosk('k1');
    const me = await hub.renter();
    await hub.deposit(me.token);
    const o = (
      await hub.api(
        'POST',
        '/api/orders',
        {
          kioskId: 'k1',
          diskTypeId: 't64',
          writeProtect: false,
          days: 1,
          card: { useSaved: true },
        },
        me.token,
        { 'idempotency-key': randomUUID() },
      )
    ).body.order;
    const refund = (body: unknown, key: string, token?: string) =>
      hub.api('POST', `/api/operator/payments/${o.paymentId}/refund`, body, token ?? ADMIN_TOKEN, {
        'idempotency-key': key,
      });
    const early = await refund({ amountMinor: 50, reason: 'not taken yet' }, randomUUID());
    t.equal(early.status, 409, 'an authorisation is not refunded (it is voided)');
    t.equal(early.body.error.code, 'VALIDATION');
    const cmd = await k.waitForCommand((x) => x.action === 'Dispense');
    await k.sendEvent('DispenseCompleted', {
      commandId: cmd.payload.commandId,
      orderId: o.id,
      slot: 1,
      diskId: 'k1-d1',
      outcome: 'taken',
    });
    await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');

    const byRenter = await refund({ amountMinor: 50, reason: 'mine' }, randomUUID(), me.token);
    t.equal(byRenter.status, 403, 'renters cannot refund');
    const key = randomUUID();
    const first = await refund({ amountMinor: 50, reason: 'wrong content on the disk' }, key);
    t.equal(first.status, 201);
    t.match(first.body.refund, { amountMinor: 50, state: 'refunded' });
    const replay = await refund({ amountMinor: 50, reason: 'wrong content on the disk' }, key);
    t.equal(replay.status, 200, 'the same key: the same refund');
    t.equal(replay.body.refund.id, first.body.refund.id);
    const tooMuch = await refund({ amountMinor: 151, reason: 'too much' }, randomUUID());
    t.equal(tooMuch.status, 409);
    t.match(tooMuch.body.error.message, /exceeds the 150 EUR left/);
    if (name === 'sandbox') {
      // The rest by the CLI (the same service, on the hub's database while it runs).
      const conf = path.join(hub.dir, 'cli.json');
      await writeFile(
        conf,
        JSON.stringify({ databasePath: path.join(hub.dir, 'hub.db'), adminToken: ADMIN_TOKEN }),
      );
      const out: string[] = [];
      const err: string[] = [];
      const cli = (args: string[]) =>
        runRefundCommand([...args, '-c', conf], {
          env: {},
          out: (s) => out.push(s),
          err: (s) => err.push(s),
        });
      t.equal(await cli([o.paymentId, '--reason', 'x']), 2, 'a reason is needed');
      t.equal(await cli([o.paymentId, '--amount', '151', '--reason', 'too much']), 1);
      t.match(err.join(''), /VALIDATION: .*exceeds the 150 EUR left/, 'refused, saying why');
      t.equal(await cli([o.paymentId, '--reason', 'goodwill']), 0, 'the rest, from the CLI');
      const byCli = JSON.parse(out.at(-1) ?? '{}');
      t.match(byCli, { amountMinor: 150, state: 'refunded', created: true });
      // The renter's receipt e-mail, queued as for the /ops refund (the hub sends it).
      const receipt = (id: string) =>
        hub.server.store.transaction((tx) => tx.notifications.get('receipt', id));
      t.match(await receipt(first.body.refund.id), {
        userId: me.userId,
        payload: { for: 'refund', amountMinor: 50 },
      });
      t.match(
        await receipt(byCli.id),
        { userId: me.userId, payload: { for: 'refund', amountMinor: 150, reason: 'goodwill' } },
        'the CLI refund queued the renter’s receipt too',
      );
      // The receipt e-mail says why, in both languages.
      const payload = (await receipt(first.body.refund.id))!.payload as never;
      const mail = (lang: 'en' | 'zh-CN') =>
        renderRenterMail('receipt', payload, lang, { timeZone: 'UTC', accountUrl: 'x' }).text;
      t.match(mail('en'), 'Reason: wrong content on the disk');
      t.match(mail('zh-CN'), '原因：wrong content on the disk');
    } else {
      const rest = await refund({ reason: 'goodwill' }, randomUUID());
      t.match(rest.body.refund, { amountMinor: 150, state: 'refunded' });
    }
    const none = await refund({ reason: 'again' }, randomUUID());
    t.equal(none.status, 409, 'nothing left');

    const seen = (await hub.api('GET', `/api/orders/${o.id}`, undefined, me.token)).body.order;
    t.same(
      seen.refunds.map((r: { amountMinor: number; state: string }) => [r.amountMinor, r.state]),
      [
        [50, 'refunded'],
        [150, 'refunded'],
      ],
      'the renter sees both as receipt lines',
    );
    t.same(
      seen.refunds.map((r: { reason: string | null }) => r.reason),
      ['wrong content on the disk', 'goodwill'],
      'each with its reason',
    );
    const audit = (await hub.admin('GET', '/api/operator/audit')).body.audit;
    const asked = (audit as { action: string; details: { reason?: string } }[]).filter(
      (a) => a.action === 'payment.refund_requested',
    );
    t.same(
      asked.map((a) => a.details.reason).sort(),
      ['goodwill', 'wrong content on the disk'],
      'each refund audited with its reason',
    );
    const p = (await gw.payments()).find((x) => x.amountMinor === 200)!;
    t.equal(p.state, 'refunded', 'the gateway refunded it all, once');
  });
}

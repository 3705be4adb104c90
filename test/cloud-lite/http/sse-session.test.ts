// Live streams (cloud-lite/http/sse.ts) end with the session that opened them: a logout ends
// the renter's order stream and the operator's fleet stream at once; an expired session ends
// the stream at its next message instead of sending it. One hub for the file.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startRentalHub } from '../rental/helpers/rental-hub.js';

const SESSION_TTL_SECONDS = 3600;
const hub = await startRentalHub(t, { rental: { sessionTtlSeconds: SESSION_TTL_SECONDS } });
await hub.seedCatalog();
await hub.kiosk('k1');

/** Opens `url` as an event stream; `text` resolves with everything received when it ends. */
async function open(url: string, token: string) {
  const res = await fetch(hub.baseUrl + url, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  const reader = res.body!.getReader();
  let text = '';
  let ended = false;
  const firstMessage = (async () => {
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
  })();
  await firstMessage;
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    ended = true;
    return text;
  })();
  t.teardown(() => reader.cancel().catch(() => {}));
  return { text: rest, ended: () => ended, received: () => text };
}

async function order(token: string) {
  await hub.deposit(token);
  const o = await hub.api(
    'POST',
    '/api/orders',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: true, days: 1, card: { useSaved: true } },
    token,
    { 'idempotency-key': randomUUID() },
  );
  if (o.status !== 201) throw new Error(JSON.stringify(o.body));
  return o.body.order.id as string;
}

t.test('a logout ends the renter’s open order stream', async (t) => {
  const me = await hub.renter();
  const id = await order(me.token);
  const stream = await open(`/api/orders/${id}/events`, me.token);
  t.match(stream.received(), /^event: order\ndata: .*"state":"dispensing"/);
  t.equal((await hub.api('POST', '/api/auth/logout', undefined, me.token)).status, 204);
  const text = await stream.text; // resolves only when the hub ends the stream
  t.equal([...text.matchAll(/^event: /gm)].length, 1, 'nothing sent after the logout');
  t.equal(
    (await fetch(`${hub.baseUrl}/api/orders/${id}/events`, {
      headers: { authorization: `Bearer ${me.token}` },
    }).then((r) => r.status)) as number,
    401,
    'a reconnect is refused',
  );
});

t.test('a logout ends the operator’s fleet stream', async (t) => {
  const email = `ops-${randomUUID().slice(0, 8)}@example.test`;
  const password = 'a long operator passphrase';
  await hub.server.rental.accounts.createUser(
    { email, password, role: 'operator' },
    {
      actor: 'test',
    },
  );
  const login = await hub.api('POST', '/api/auth/login', { login: email, password });
  t.equal(login.status, 200);
  const stream = await open('/api/operator/fleet/events', login.body.token);
  t.match(stream.received(), /^event: kiosks\n/);
  await hub.api('POST', '/api/auth/logout', undefined, login.body.token);
  await stream.text;
  t.ok(stream.ended(), 'the stream ended');
});

t.test('an expired session: the next change ends the stream instead of being sent', async (t) => {
  const me = await hub.renter();
  const id = await order(me.token);
  const stream = await open(`/api/orders/${id}/events`, me.token);
  hub.clock.advance((SESSION_TTL_SECONDS + 1) * 1000);
  t.teardown(() => hub.clock.advance(-(SESSION_TTL_SECONDS + 1) * 1000));
  hub.server.rental.notifier.emit('order', id);
  const text = await stream.text;
  t.equal([...text.matchAll(/^event: /gm)].length, 1, 'the change was not sent');
});

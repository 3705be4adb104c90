// Kiosk enrolment is limited per client address: failed tries are counted before the token
// check (parallel tries included); successful enrolments are not counted.
import t from 'tap';
import { startTestHub } from './fixtures/test-hub.js';

t.test('failed enrolments are limited per address; good ones are not counted', async (t) => {
  const hub = await startTestHub(t, { enrolMaxFailuresPerAddress: 3, trustProxy: ['127.0.0.1'] });
  const enrol = async (kioskId: string, token: string, from: string) => {
    const res = await fetch(`${hub.baseUrl}/api/kiosks/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ kioskId, token }),
    });
    return {
      status: res.status,
      headers: res.headers,
      body: (await res.json()) as { error: { code: string; retryAfterSeconds: number } },
    };
  };
  const tokens: string[] = [];
  for (const id of ['k1', 'k2', 'k3', 'k4', 'k5']) {
    const created = await hub.api('POST', '/api/operator/kiosks', { id });
    tokens.push(created.body.enrolmentToken);
  }
  for (let i = 0; i < 4; i++)
    t.equal(
      (await enrol(`k${i + 1}`, tokens[i]!, '203.0.113.1')).status,
      200,
      `good enrolment ${i + 1}`,
    );

  const guesses = await Promise.all(
    Array.from({ length: 8 }, (_, i) => enrol('k5', `guess-${i}-${'x'.repeat(30)}`, '203.0.113.2')),
  );
  t.same(
    guesses.map((g) => g.status).sort(),
    [401, 401, 401, 429, 429, 429, 429, 429],
    'three tries checked, the rest refused before the check',
  );
  const refused = guesses.find((g) => g.status === 429)!;
  t.equal(refused.body.error.code, 'TOO_MANY_ATTEMPTS');
  t.equal(refused.headers.get('retry-after'), String(refused.body.error.retryAfterSeconds));
  t.equal(
    (await enrol('k5', tokens[4]!, '203.0.113.2')).status,
    429,
    'even the right token waits at that address',
  );
  t.equal(
    (await enrol('k5', tokens[4]!, '203.0.113.3')).status,
    200,
    'another address is not held',
  );
});

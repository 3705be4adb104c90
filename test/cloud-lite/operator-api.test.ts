import QRCode from 'qrcode';
import t from 'tap';
import { startTestHub } from './fixtures/test-hub.js';

const ROUTES: Array<[string, string, unknown?]> = [
  ['POST', '/api/operator/kiosks', { id: 'x1' }],
  ['GET', '/api/operator/kiosks'],
  ['GET', '/api/operator/kiosks/k1'],
  ['POST', '/api/operator/kiosks/k1/rotate-secret'],
  ['POST', '/api/operator/kiosks/k1/revoke'],
  ['POST', '/api/operator/kiosks/k1/commands', { action: 'Reset', payload: { kind: 'Soft' } }],
  ['GET', '/api/operator/kiosks/k1/commands'],
  ['GET', '/api/operator/kiosks/k1/events'],
  ['GET', '/api/operator/commands/00000000-0000-4000-8000-000000000000'],
  ['GET', '/api/operator/fleet/events'],
  ['GET', '/api/operator/kiosks/k1/sticker'],
];

function noStack(
  t: { notMatch(a: string, b: RegExp, m: string): unknown },
  body: unknown,
  what: string,
) {
  const text = JSON.stringify(body);
  t.notMatch(text, /\bat .*\.(ts|js):\d+/, `${what}: no stack trace`);
  t.notMatch(text, /stack/i, `${what}: no stack field`);
}

t.test('every operator route needs the admin token', async (t) => {
  const hub = await startTestHub(t);
  await hub.enrolKiosk('k1');
  for (const [method, url, body] of ROUTES) {
    for (const token of [null, 'wrong-token-wrong-token']) {
      const res = await hub.api(method, url, body, token);
      t.equal(res.status, 401, `${method} ${url} with ${token ? 'wrong' : 'no'} token`);
      t.equal(res.body.error.code, 'UNAUTHENTICATED');
      noStack(t, res.body, `${method} ${url}`);
    }
  }
  const k = await hub.api('GET', '/api/operator/kiosks/k1');
  t.equal(k.status, 200, 'kiosk untouched by the refused calls');
  t.equal(k.body.kiosk.revokedAt, null);
});

t.test('validation and error bodies', async (t) => {
  const hub = await startTestHub(t, { bodyLimitBytes: 2048 });
  await hub.enrolKiosk('k1');
  const cases: Array<[string, string, unknown, number, string]> = [
    ['POST', '/api/operator/kiosks', { name: 'no id' }, 400, 'VALIDATION'],
    ['POST', '/api/operator/kiosks', { id: 'k9', extra: 1 }, 400, 'VALIDATION'],
    ['POST', '/api/operator/kiosks', { id: 'bad id!' }, 409, 'INVALID_ID'],
    ['POST', '/api/operator/kiosks', { id: 'k1' }, 409, 'KIOSK_EXISTS'],
    ['POST', '/api/operator/kiosks', '{not json', 400, 'BAD_JSON'],
    ['POST', '/api/operator/kiosks', { id: 'k3', name: 'x'.repeat(4000) }, 413, 'BODY_TOO_LARGE'],
    [
      'POST',
      '/api/operator/kiosks/k1/commands',
      { action: 'Dispense', payload: {} },
      400,
      'VALIDATION',
    ],
    [
      'POST',
      '/api/operator/kiosks/k1/commands',
      { action: 'DisableSlot', payload: { slot: 0 } },
      400,
      'VALIDATION',
    ],
    [
      'POST',
      '/api/operator/kiosks/k1/commands',
      { action: 'DisableSlot', payload: { slot: 1, reason: '  ' } },
      400,
      'VALIDATION',
    ],
    [
      'POST',
      '/api/operator/kiosks/k1/commands',
      { action: 'Reset', payload: { kind: 'Soft', commandId: 'x' } },
      400,
      'VALIDATION',
    ],
    [
      'POST',
      '/api/operator/kiosks/nope/commands',
      { action: 'Reset', payload: { kind: 'Soft' } },
      404,
      'NOT_FOUND',
    ],
    ['GET', '/api/operator/kiosks/nope', undefined, 404, 'NOT_FOUND'],
    ['GET', '/api/operator/kiosks/k1/events?limit=0', undefined, 400, 'VALIDATION'],
    ['POST', '/api/kiosks/enrol', { kioskId: 'k1' }, 400, 'VALIDATION'],
    ['GET', '/api/nothing-here', undefined, 404, 'NOT_FOUND'],
  ];
  for (const [method, url, body, status, code] of cases) {
    const res = await hub.api(method, url, body);
    t.equal(res.status, status, `${method} ${url} ${JSON.stringify(body)?.slice(0, 60)}: status`);
    t.equal(res.body?.error?.code, code, 'code');
    t.type(res.body?.error?.message, 'string', 'message');
    noStack(t, res.body, url);
  }
});

t.test(
  'maintenance command through the API reaches the kiosk; detail, lists, health',
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const kiosk = await hub.connectKiosk(creds);
    await kiosk.boot();
    const res = await hub.api('POST', '/api/operator/kiosks/k1/commands', {
      action: 'SetWriteProtect',
      payload: { slot: 3, on: false },
      ttlSeconds: 60,
    });
    t.equal(res.status, 202);
    const got = await kiosk.waitForCommand((c) => c.payload.commandId === res.body.command.id);
    t.same(got.payload, { slot: 3, on: false, commandId: res.body.command.id });
    await hub.server.hub.waitFor(res.body.command.id, { timeoutMs: 5000 });
    const one = await hub.api('GET', `/api/operator/commands/${res.body.command.id}`);
    t.equal(one.body.command.state, 'completed');
    const list = await hub.api('GET', '/api/operator/kiosks/k1/commands');
    t.equal(list.body.commands.length, 1);
    const health = await hub.api('GET', '/healthz', undefined, null);
    t.equal(health.status, 200);
    t.equal(health.body.status, 'ok');
    const metrics = await hub.api('GET', '/metrics');
    t.match(metrics.body, /disk_kiosk_hub_commands\{state="completed"\} 1/);
    // The QR sticker holds the kiosk's landing URL (the origin asked, no publicUrl set).
    const sticker = await hub.api('GET', '/api/operator/kiosks/k1/sticker');
    const url = `${hub.baseUrl}/k/k1`;
    t.equal(sticker.body.url, url);
    const modules = (
      await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })
    ).match(/<path stroke[^>]*>/)?.[0];
    t.ok(modules && sticker.body.svg.includes(modules), 'the SVG sticker encodes the landing URL');
    t.match(sticker.body.svg, /<text[^>]*>k1<\/text>/, 'and names the kiosk under it');
    t.same(
      [...Buffer.from(sticker.body.png, 'base64').subarray(0, 4)],
      [0x89, 0x50, 0x4e, 0x47],
      'the PNG is a PNG',
    );
    t.equal((await hub.api('GET', '/api/operator/kiosks/nope/sticker')).status, 404);
  },
);

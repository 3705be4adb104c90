import t from 'tap';
import {
  type Action,
  actionDirection,
  EVENT_TYPES,
  encodeFrame,
  HUB_TO_KIOSK_ACTIONS,
  KIOSK_TO_HUB_ACTIONS,
  parseFrame,
  validateRequest,
  validateResponse,
} from '../../protocol/index.js';
import { actionSamples, eventSamples } from './fixtures/samples.js';

const actions = Object.keys(actionSamples) as Action[];

t.test('samples cover every action and every event type', async (t) => {
  t.same([...actions].sort(), [...KIOSK_TO_HUB_ACTIONS, ...HUB_TO_KIOSK_ACTIONS].sort());
  t.same(Object.keys(eventSamples).sort(), [...EVENT_TYPES].sort());
  t.equal(EVENT_TYPES.length, 24);
});

for (const action of actions) {
  const { requests, response } = actionSamples[action];
  const direction = actionDirection(action)!;
  t.test(`${action}: CALL and CALLRESULT round-trip`, async (t) => {
    for (const payload of requests) {
      t.ok(validateRequest(action, payload).ok, 'sample request is valid');
      const text = encodeFrame({ type: 2, id: 'm-1', action, payload });
      const parsed = parseFrame(text, { direction });
      t.same(parsed, { ok: true, frame: { type: 2, id: 'm-1', action, payload } });
      const asBuffer = parseFrame(Buffer.from(text), { direction });
      t.same(asBuffer, parsed, 'Buffer input parses the same');
      const other = direction === 'kioskToHub' ? 'hubToKiosk' : 'kioskToHub';
      const wrongWay = parseFrame(text, { direction: other });
      t.equal(
        wrongWay.ok ? 'ok' : wrongWay.error.code,
        'NotImplemented',
        'wrong direction refused',
      );

      const extra = encodeFrame({
        type: 2,
        id: 'm-2',
        action,
        payload: { ...(payload as object), zz: 1 },
      });
      const strict = parseFrame(extra, { direction });
      t.equal(strict.ok ? 'ok' : strict.error.code, 'FormatViolation', 'extra property refused');
    }
    t.ok(validateResponse(action, response).ok, 'sample response is valid');
    const text = encodeFrame({ type: 3, id: 'm-3', payload: response });
    t.same(parseFrame(text), { ok: true, frame: { type: 3, id: 'm-3', payload: response } });
    t.notOk(validateResponse(action, { ...(response as object), zz: 1 }).ok, 'strict response');
  });
}

t.test('CALLERROR round-trip and unknown remote code', async (t) => {
  const frame = {
    type: 4,
    id: 'e-1',
    code: 'PropertyConstraintViolation',
    description: 'slot out of range',
    details: { slot: 300 },
  } as const;
  t.same(parseFrame(encodeFrame(frame)), { ok: true, frame });
  const unknown = parseFrame('[4,"e-2","TeapotError","short and stout",{}]');
  t.same(unknown, {
    ok: true,
    frame: {
      type: 4,
      id: 'e-2',
      code: 'GenericError',
      description: 'short and stout',
      details: {},
    },
  });
});

t.test('validation messages name the field', async (t) => {
  const r = validateRequest('SetWriteProtect', {
    commandId: crypto.randomUUID(),
    slot: 0,
    on: true,
  });
  t.equal(r.ok, false);
  if (!r.ok) {
    t.equal(r.code, 'PropertyConstraintViolation');
    t.equal(r.path, '/slot');
    t.match(r.message, /SetWriteProtect request: \/slot/);
  }
  const e = validateRequest('Event', {
    eventId: crypto.randomUUID(),
    seq: 1,
    at: '2025-01-01T00:00:00Z',
    type: 'DoorChanged',
    data: { open: 'yes' },
  });
  t.same(e.ok ? null : [e.code, e.path], ['TypeConstraintViolation', '/data/open']);
});

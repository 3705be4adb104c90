import t from 'tap';
import { type ErrorCode, type FrameInput, parseFrame } from '../../protocol/index.js';

const uuid = '6f1b7c1e-3c0a-4c8e-9f3e-1b2a3c4d5e6f';
const boot = (over: Record<string, unknown>) =>
  JSON.stringify([
    2,
    'b-1',
    'Boot',
    { kioskId: 'k1', softwareVersion: '1.0', slotCount: 12, bootReason: 'PowerOn', ...over },
  ]);
const withoutKey = (key: string) => {
  const p: Record<string, unknown> = {
    kioskId: 'k1',
    softwareVersion: '1.0',
    slotCount: 12,
    bootReason: 'PowerOn',
  };
  delete p[key];
  return JSON.stringify([2, 'b-2', 'Boot', p]);
};
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

interface Row {
  name: string;
  input: FrameInput;
  code: ErrorCode;
  /** Expected messageId, or null when it must be absent. */
  id: string | null;
  direction?: 'kioskToHub' | 'hubToKiosk';
  maxBytes?: number;
}

const rows: Row[] = [
  { name: 'empty string', input: '', code: 'RpcFrameworkError', id: null },
  { name: 'whitespace only', input: ' \n\t', code: 'RpcFrameworkError', id: null },
  { name: 'bad JSON', input: '[2,"a","Heartbeat",{', code: 'FormatViolation', id: 'a' },
  {
    name: 'bad JSON, id unreadable',
    input: '[2,a","Heartbeat",{',
    code: 'RpcFrameworkError',
    id: null,
  },
  { name: 'not JSON at all', input: 'hello', code: 'RpcFrameworkError', id: null },
  { name: 'JSON object, not array', input: '{"type":2}', code: 'RpcFrameworkError', id: null },
  { name: 'JSON string', input: '"[2]"', code: 'RpcFrameworkError', id: null },
  { name: 'JSON null', input: 'null', code: 'RpcFrameworkError', id: null },
  { name: 'empty array', input: '[]', code: 'RpcFrameworkError', id: null },
  {
    name: 'type is a string',
    input: '["2","a","Heartbeat",{}]',
    code: 'RpcFrameworkError',
    id: 'a',
  },
  {
    name: 'type is fractional',
    input: '[2.5,"a","Heartbeat",{}]',
    code: 'RpcFrameworkError',
    id: 'a',
  },
  {
    name: 'unknown type 5',
    input: '[5,"a","Heartbeat",{}]',
    code: 'MessageTypeNotSupported',
    id: 'a',
  },
  { name: 'unknown type 1', input: '[1,"a"]', code: 'MessageTypeNotSupported', id: 'a' },
  { name: 'missing id', input: '[2]', code: 'RpcFrameworkError', id: null },
  { name: 'id not a string', input: '[2,42,"Heartbeat",{}]', code: 'RpcFrameworkError', id: null },
  { name: 'id empty', input: '[2,"","Heartbeat",{}]', code: 'RpcFrameworkError', id: '' },
  {
    name: 'id too long (kept as sent, for the answer)',
    input: `[2,"${'x'.repeat(65)}","Heartbeat",{}]`,
    code: 'RpcFrameworkError',
    id: 'x'.repeat(65),
  },
  {
    name: 'id too long in bad JSON',
    input: `[2,"${'y'.repeat(300)}","Heartbeat",{`,
    code: 'FormatViolation',
    id: 'y'.repeat(300),
  },
  {
    name: 'CALL with 3 elements',
    input: '[2,"a","Heartbeat"]',
    code: 'RpcFrameworkError',
    id: 'a',
  },
  {
    name: 'CALL with 5 elements',
    input: '[2,"a","Heartbeat",{},{}]',
    code: 'RpcFrameworkError',
    id: 'a',
  },
  { name: 'action not a string', input: '[2,"a",7,{}]', code: 'RpcFrameworkError', id: 'a' },
  { name: 'unknown action', input: '[2,"a","Teleport",{}]', code: 'NotImplemented', id: 'a' },
  {
    name: 'prototype action name',
    input: '[2,"a","hasOwnProperty",{}]',
    code: 'NotImplemented',
    id: 'a',
  },
  {
    name: 'action of the other direction',
    input: '[2,"a","Heartbeat",{}]',
    direction: 'hubToKiosk',
    code: 'NotImplemented',
    id: 'a',
  },
  {
    name: 'payload is an array',
    input: '[2,"a","Heartbeat",[]]',
    code: 'FormatViolation',
    id: 'a',
  },
  { name: 'payload is null', input: '[2,"a","Heartbeat",null]', code: 'FormatViolation', id: 'a' },
  {
    name: 'payload is a string',
    input: '[2,"a","Heartbeat","{}"]',
    code: 'FormatViolation',
    id: 'a',
  },
  {
    name: 'missing required field',
    input: withoutKey('kioskId'),
    code: 'ProtocolError',
    id: 'b-2',
  },
  {
    name: 'wrong field type (slotCount string)',
    input: boot({ slotCount: '12' }),
    code: 'TypeConstraintViolation',
    id: 'b-1',
  },
  {
    name: 'wrong enum type',
    input: boot({ bootReason: 3 }),
    code: 'TypeConstraintViolation',
    id: 'b-1',
  },
  {
    name: 'fractional integer',
    input: boot({ slotCount: 1.5 }),
    code: 'TypeConstraintViolation',
    id: 'b-1',
  },
  {
    name: 'slot count 0',
    input: boot({ slotCount: 0 }),
    code: 'PropertyConstraintViolation',
    id: 'b-1',
  },
  {
    name: 'slot count 256',
    input: boot({ slotCount: 256 }),
    code: 'PropertyConstraintViolation',
    id: 'b-1',
  },
  {
    name: 'unknown enum value',
    input: boot({ bootReason: 'Meteor' }),
    code: 'PropertyConstraintViolation',
    id: 'b-1',
  },
  {
    name: 'string too long',
    input: boot({ softwareVersion: 'v'.repeat(65) }),
    code: 'PropertyConstraintViolation',
    id: 'b-1',
  },
  {
    name: 'kiosk id bad pattern',
    input: boot({ kioskId: '../etc' }),
    code: 'PropertyConstraintViolation',
    id: 'b-1',
  },
  { name: 'extra property', input: boot({ admin: true }), code: 'FormatViolation', id: 'b-1' },
  {
    name: 'command id not a UUID',
    input: JSON.stringify([2, 'c', 'SetWriteProtect', { commandId: 'nope', slot: 1, on: true }]),
    code: 'PropertyConstraintViolation',
    id: 'c',
  },
  {
    name: 'slot out of range in a command',
    input: JSON.stringify([2, 'c', 'SetWriteProtect', { commandId: uuid, slot: 256, on: true }]),
    code: 'PropertyConstraintViolation',
    id: 'c',
  },
  {
    name: 'bad timestamp',
    input: JSON.stringify([2, 'h', 'Inventory', { takenAt: 'yesterday', slots: [] }]),
    code: 'PropertyConstraintViolation',
    id: 'h',
  },
  {
    name: 'unknown event type',
    input: JSON.stringify([
      2,
      'e',
      'Event',
      { eventId: uuid, seq: 1, at: '2025-01-01T00:00:00Z', type: 'Boom', data: {} },
    ]),
    code: 'PropertyConstraintViolation',
    id: 'e',
  },
  {
    name: 'event seq 0',
    input: JSON.stringify([
      2,
      'e',
      'Event',
      {
        eventId: uuid,
        seq: 0,
        at: '2025-01-01T00:00:00Z',
        type: 'DoorChanged',
        data: { open: true },
      },
    ]),
    code: 'PropertyConstraintViolation',
    id: 'e',
  },
  {
    name: 'event data missing field',
    input: JSON.stringify([
      2,
      'e',
      'Event',
      { eventId: uuid, seq: 1, at: '2025-01-01T00:00:00Z', type: 'DoorChanged', data: {} },
    ]),
    code: 'ProtocolError',
    id: 'e',
  },
  {
    name: 'oversize input with readable id',
    input: `[2,"big","Heartbeat",{"pad":"${'x'.repeat(300 * 1024)}"}]`,
    code: 'FormatViolation',
    id: 'big',
  },
  {
    name: 'oversize input with a 100-char id',
    input: `[2,"${'i'.repeat(100)}","Heartbeat",{"pad":"${'x'.repeat(300 * 1024)}"}]`,
    code: 'FormatViolation',
    id: 'i'.repeat(100),
  },
  { name: 'oversize garbage', input: 'x'.repeat(300 * 1024), code: 'RpcFrameworkError', id: null },
  {
    name: 'oversize multi-byte text under the char limit',
    input: `[2,"mb","Heartbeat",{"p":"${'é'.repeat(1000)}"}]`,
    maxBytes: 1500,
    code: 'FormatViolation',
    id: 'mb',
  },
  { name: '10,000-deep nesting', input: deep(10_000), code: 'RpcFrameworkError', id: null },
  {
    name: 'deep nesting inside a payload',
    input: `[2,"d","Heartbeat",{"a":${deep(40)}}]`,
    code: 'FormatViolation',
    id: 'd',
  },
  {
    name: '__proto__ key',
    input: '[2,"p","Heartbeat",{"__proto__":{"admin":true}}]',
    code: 'FormatViolation',
    id: 'p',
  },
  {
    name: 'constructor key',
    input: '[3,"p",{"x":{"constructor":{"prototype":1}}}]',
    code: 'FormatViolation',
    id: 'p',
  },
  {
    name: 'prototype key in CALLERROR details',
    input: '[4,"p","GenericError","x",{"prototype":1}]',
    code: 'FormatViolation',
    id: 'p',
  },
  {
    name: 'escaped __proto__ key',
    input: '[2,"p","Heartbeat",{"\\u005f_proto__":{}}]',
    code: 'FormatViolation',
    id: 'p',
  },
  {
    name: 'Buffer with invalid UTF-8',
    input: Buffer.from([0x5b, 0x32, 0x2c, 0xff, 0xfe, 0x5d]),
    code: 'RpcFrameworkError',
    id: null,
  },
  { name: 'CALLRESULT with 2 elements', input: '[3,"r"]', code: 'RpcFrameworkError', id: 'r' },
  { name: 'CALLRESULT payload not object', input: '[3,"r",42]', code: 'FormatViolation', id: 'r' },
  {
    name: 'CALLERROR with 4 elements',
    input: '[4,"r","GenericError","x"]',
    code: 'RpcFrameworkError',
    id: 'r',
  },
  {
    name: 'CALLERROR code not string',
    input: '[4,"r",1,"x",{}]',
    code: 'FormatViolation',
    id: 'r',
  },
  {
    name: 'CALLERROR details not object',
    input: '[4,"r","GenericError","x",[]]',
    code: 'FormatViolation',
    id: 'r',
  },
];

t.ok(rows.length >= 25, `${rows.length} rows`);

for (const row of rows) {
  t.test(row.name, async (t) => {
    const opts: Parameters<typeof parseFrame>[1] = {};
    if (row.direction) opts.direction = row.direction;
    if (row.maxBytes) opts.maxBytes = row.maxBytes;
    const r = parseFrame(row.input, opts);
    t.equal(r.ok, false, 'refused');
    if (r.ok) return;
    t.equal(r.error.code, row.code, r.error.message);
    t.equal(r.error.messageId, row.id ?? undefined, 'messageId');
    t.type(r.error.message, 'string');
    t.ok(r.error.message.length > 0 && r.error.message.length < 600, 'message is short');
  });
}

t.test('a forbidden key never reaches Object.prototype', async (t) => {
  parseFrame('[2,"p","Heartbeat",{"__proto__":{"polluted":true}}]');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('non-text, non-byte input from a careless caller', async (t) => {
  for (const input of [42, null, undefined, {}, Symbol('x')]) {
    const r = parseFrame(input as unknown as string);
    t.equal(r.ok ? 'ok' : r.error.code, 'RpcFrameworkError');
  }
});

t.test('fragmented and ArrayBuffer input as ws delivers it', async (t) => {
  const text = '[2,"f","Heartbeat",{}]';
  const bytes = Buffer.from(text);
  const frag = parseFrame([bytes.subarray(0, 5), bytes.subarray(5)]);
  t.same(frag, { ok: true, frame: { type: 2, id: 'f', action: 'Heartbeat', payload: {} } });
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  t.same(parseFrame(ab), frag);
  t.same(parseFrame(new Uint8Array(bytes)), frag);
});

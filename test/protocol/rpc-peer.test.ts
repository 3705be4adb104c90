import fc from 'fast-check';
import t from 'tap';
import {
  CallError,
  type FrameError,
  type PeerLogger,
  parseFrame,
  RpcError,
  RpcPeer,
  type RpcPeerOptions,
} from '../../protocol/index.js';

interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function recordingLogger(): PeerLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A kiosk and a hub peer wired back-to-back, delivering asynchronously like a socket. */
function pair(opts: { callTimeoutMs?: number } = {}) {
  const kioskLog = recordingLogger();
  const hubLog = recordingLogger();
  const wire: { from: 'kiosk' | 'hub'; text: string }[] = [];
  const kiosk: RpcPeer<'kiosk'> = new RpcPeer({
    role: 'kiosk',
    send: (text) => {
      wire.push({ from: 'kiosk', text });
      setImmediate(() => hub.receive(text));
    },
    logger: kioskLog,
    ...opts,
  });
  const hub: RpcPeer<'hub'> = new RpcPeer({
    role: 'hub',
    send: (text) => {
      wire.push({ from: 'hub', text });
      setImmediate(() => kiosk.receive(Buffer.from(text)));
    },
    logger: hubLog,
    ...opts,
  });
  return { kiosk, hub, wire, kioskLog, hubLog };
}

/** A lone peer whose outgoing frames are captured. */
function lone<R extends 'kiosk' | 'hub'>(role: R) {
  const sent: string[] = [];
  const log = recordingLogger();
  const options: RpcPeerOptions<R> = { role, send: (text) => sent.push(text), logger: log };
  const peer = new RpcPeer(options);
  return { peer, sent, log, options };
}

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcError) return err;
    throw err;
  }
  throw new Error('expected the call to reject');
}

/** Waits until cond() holds, polling each tick, failing after a bounded time. */
async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}

const uuid = () => crypto.randomUUID();

t.test('many concurrent calls answered out of order are correlated by id', async (t) => {
  const { kiosk, hub } = pair();
  const waiting: (() => void)[] = [];
  kiosk.handle('SetWriteProtect', (p) => {
    return new Promise((resolve) => {
      waiting.push(() => resolve({ status: 'Accepted', reason: p.commandId }));
    });
  });
  const ids = Array.from({ length: 100 }, uuid);
  const calls = ids.map((commandId, i) =>
    hub.call('SetWriteProtect', { commandId, slot: (i % 255) + 1, on: i % 2 === 0 }),
  );
  t.equal(hub.pendingCount, 100);
  await until(() => waiting.length === 100);
  // Answer in a shuffled order: reversed odd ones first, then the evens.
  const order = [...waiting.keys()].sort((a, b) => (a % 2) - (b % 2) || b - a);
  for (const i of order.reverse()) waiting[i]!();
  const results = await Promise.all(calls);
  t.same(
    results.map((r) => r.reason),
    ids,
    'each call got its own answer',
  );
  t.equal(hub.pendingCount, 0);
});

t.test('a call with no answer times out with ETIMEOUT naming the action', async (t) => {
  const { kiosk, hub } = pair();
  let seen = 0;
  hub.handle('Heartbeat', () => {
    seen++;
    return new Promise(() => {});
  });
  const err = await rejection(kiosk.call('Heartbeat', {}, { timeoutMs: 50 }));
  t.equal(err.code, 'ETIMEOUT');
  t.equal(err.action, 'Heartbeat');
  t.match(err.message, /Heartbeat/);
  t.match(err.message, err.messageId!);
  t.match(err.message, /50 ms/);
  t.equal(seen, 1, 'the call did reach the hub');
  t.equal(kiosk.pendingCount, 0);
});

t.test('callTimeoutMs applies when no per-call timeout is given', async (t) => {
  const sent: string[] = [];
  const peer = new RpcPeer({ role: 'kiosk', send: (s) => sent.push(s), callTimeoutMs: 30 });
  const err = await rejection(peer.call('Heartbeat', {}));
  t.equal(err.code, 'ETIMEOUT');
  t.match(err.message, /30 ms/);
  t.equal(sent.length, 1);
});

t.test('a late answer after a timeout is logged and ignored', async (t) => {
  const { peer, sent, log } = lone('kiosk');
  const err = await rejection(peer.call('Heartbeat', {}, { timeoutMs: 20 }));
  t.equal(err.code, 'ETIMEOUT');
  const call = parseFrame(sent[0]!);
  t.ok(call.ok);
  if (!call.ok) return;
  peer.receive(`[3,"${call.frame.id}",{"currentTime":"2025-01-01T00:00:00Z"}]`);
  peer.receive(`[4,"${uuid()}","GenericError","late",{}]`);
  t.equal(sent.length, 1, 'nothing answered');
  t.equal(log.lines.filter((l) => l.level === 'warn').length, 2, 'both logged');
});

t.test('close rejects every pending call with ECLOSED, and later calls at once', async (t) => {
  const { kiosk, hub } = pair();
  hub.handle('Heartbeat', () => new Promise(() => {}));
  const calls = [1, 2, 3].map(() => rejection(kiosk.call('Heartbeat', {})));
  t.equal(kiosk.pendingCount, 3);
  kiosk.close('socket closed by test');
  const errs = await Promise.all(calls);
  t.same(
    errs.map((e) => e.code),
    ['ECLOSED', 'ECLOSED', 'ECLOSED'],
  );
  t.match(errs[0]!.message, /socket closed by test/);
  t.equal(kiosk.pendingCount, 0);
  t.equal(kiosk.closed, true);
  const later = await rejection(kiosk.call('Heartbeat', {}));
  t.equal(later.code, 'ECLOSED');
  kiosk.close('again'); // idempotent
});

t.test('an unhandled action is answered NotImplemented', async (t) => {
  const { kiosk } = pair();
  const err = await rejection(
    kiosk.call('Boot', {
      kioskId: 'k1',
      softwareVersion: '1',
      slotCount: 4,
      bootReason: 'PowerOn',
    }),
  );
  t.equal(err.code, 'ECALLERROR');
  t.equal(err.errorCode, 'NotImplemented');

  const { peer, sent } = lone('hub');
  peer.receive('[2,"m1","Teleport",{}]');
  peer.receive('[2,"m2","Dispense",{}]'); // a hub never receives Dispense
  t.same(
    sent.map((s) => JSON.parse(s).slice(0, 3)),
    [
      [4, 'm1', 'NotImplemented'],
      [4, 'm2', 'NotImplemented'],
    ],
  );
});

t.test('a handler throwing CallError answers that code and details', async (t) => {
  const { kiosk, hub } = pair();
  kiosk.handle('Reset', () => {
    throw new CallError('SecurityError', 'reset needs a technician key', { hint: 'enrol' });
  });
  const err = await rejection(hub.call('Reset', { commandId: uuid(), kind: 'Hard' }));
  t.equal(err.code, 'ECALLERROR');
  t.equal(err.errorCode, 'SecurityError');
  t.same(err.details, { hint: 'enrol' });
  t.match(err.message, /reset needs a technician key/);
});

t.test('a handler throwing a plain Error answers InternalError without leaking it', async (t) => {
  const { kiosk, hub, wire, kioskLog } = pair();
  kiosk.handle('EnableSlot', async () => {
    throw new Error('db password hunter2 at /var/lib/secret');
  });
  const err = await rejection(hub.call('EnableSlot', { commandId: uuid(), slot: 2 }));
  t.equal(err.errorCode, 'InternalError');
  t.notMatch(err.message, /hunter2|secret/);
  t.notOk(
    wire.some((w) => /hunter2|secret/.test(w.text)),
    'nothing on the wire mentions the error',
  );
  t.ok(
    kioskLog.lines.some(
      (l) => l.level === 'error' && /hunter2/.test(String((l.obj.err as Error)?.message)),
    ),
    'the error is logged locally',
  );
});

t.test('a handler returning an invalid response answers InternalError', async (t) => {
  const { kiosk, hub } = pair();
  kiosk.handle('DisableSlot', () => ({ status: 'Maybe' }) as never);
  const err = await rejection(hub.call('DisableSlot', { commandId: uuid(), slot: 2 }));
  t.equal(err.errorCode, 'InternalError');
});

t.test('an invalid incoming payload never reaches the handler', async (t) => {
  const { peer, sent, options } = lone('kiosk');
  let calls = 0;
  peer.handle('SetWriteProtect', () => {
    calls++;
    return { status: 'Accepted' };
  });
  const errors: FrameError[] = [];
  options.protocolError = (e) => errors.push(e);
  peer.receive(
    JSON.stringify([2, 'a', 'SetWriteProtect', { commandId: uuid(), slot: 0, on: true }]),
  );
  peer.receive(
    JSON.stringify([2, 'b', 'SetWriteProtect', { commandId: uuid(), slot: 1, on: 'yes' }]),
  );
  peer.receive(JSON.stringify([2, 'c', 'SetWriteProtect', { commandId: uuid(), slot: 1 }]));
  peer.receive(
    JSON.stringify([2, 'd', 'SetWriteProtect', { commandId: uuid(), slot: 1, on: true, x: 1 }]),
  );
  await new Promise((r) => setImmediate(r));
  t.equal(calls, 0, 'handler not called');
  t.same(
    sent.map((s) => JSON.parse(s).slice(0, 3)),
    [
      [4, 'a', 'PropertyConstraintViolation'],
      [4, 'b', 'TypeConstraintViolation'],
      [4, 'c', 'ProtocolError'],
      [4, 'd', 'FormatViolation'],
    ],
  );
  t.equal(errors.length, 4, 'protocolError emitted for each');
  // A valid one does reach it.
  peer.receive(
    JSON.stringify([2, 'e', 'SetWriteProtect', { commandId: uuid(), slot: 1, on: true }]),
  );
  await until(() => sent.length === 5);
  t.equal(calls, 1);
  t.same(JSON.parse(sent[4]!), [3, 'e', { status: 'Accepted' }]);
});

t.test('an invalid result from the remote rejects with EINVALID', async (t) => {
  const { peer, sent } = lone('hub');
  const call = peer.call('TriggerMessage', { commandId: uuid(), message: 'Inventory' });
  const id = JSON.parse(sent[0]!)[1];
  peer.receive(JSON.stringify([3, id, { status: 'Sure' }]));
  const err = await rejection(call);
  t.equal(err.code, 'EINVALID');
  t.equal(err.errorCode, 'PropertyConstraintViolation');
  t.equal(sent.length, 1, 'a result is never answered');

  const call2 = peer.call('TriggerMessage', { commandId: uuid(), message: 'Boot' });
  const id2 = JSON.parse(sent[1]!)[1];
  peer.receive(`[3,"${id2}",[]]`); // malformed CALLRESULT
  const err2 = await rejection(call2);
  t.equal(err2.code, 'EINVALID');
  t.equal(sent.length, 2, 'a malformed result is not answered either');
});

t.test('an invalid outgoing payload is refused locally and never sent', async (t) => {
  const { peer, sent } = lone('kiosk');
  const err = await rejection(peer.call('Inventory', { takenAt: 'now', slots: [] }));
  t.equal(err.code, 'EINVALID');
  t.match(err.message, /takenAt/);
  t.equal(sent.length, 0);
  t.equal(peer.pendingCount, 0);
  const wrongWay = await rejection(peer.call('Dispense' as never, {} as never));
  t.equal(wrongWay.code, 'EINVALID');
  t.throws(() => peer.handle('Boot' as never, () => ({}) as never), TypeError);
});

t.test('a send that throws rejects with ESEND and leaves nothing pending', async (t) => {
  const peer = new RpcPeer({
    role: 'kiosk',
    send: () => {
      throw new Error('socket not open');
    },
  });
  const err = await rejection(peer.call('Heartbeat', {}));
  t.equal(err.code, 'ESEND');
  t.match(err.message, /socket not open/);
  t.equal(peer.pendingCount, 0);
});

t.test('garbage into receive() never throws', async (t) => {
  const { peer, sent, options } = lone('hub');
  const errors: FrameError[] = [];
  options.protocolError = (e) => errors.push(e);
  const inputs = [
    '',
    'null',
    '[',
    '['.repeat(100_000),
    'x'.repeat(1024 * 1024),
    Buffer.from([0xc3, 0x28]),
    '[2,"x","Heartbeat",{"__proto__":{}}]',
    '[3,"nobody",{}]',
    '[9,"q"]',
  ];
  for (const input of inputs) peer.receive(input);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.uint8Array().map((b) => Buffer.from(b)),
      ),
      (input) => {
        peer.receive(input);
        return true;
      },
    ),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      peer.receive(JSON.stringify([2, 'j', 'Boot', v]));
      return true;
    }),
    { numRuns: 300 },
  );
  t.ok(errors.length >= inputs.length - 1, 'protocolError emitted');
  for (const s of sent) {
    const r = parseFrame(s);
    t.ok(r.ok && r.frame.type === 4, 'only well-formed CALLERRORs were sent');
    if (!r.ok) break;
  }
  t.same(JSON.parse(sent.find((s) => s.includes('"q"'))!).slice(0, 3), [
    4,
    'q',
    'MessageTypeNotSupported',
  ]);
  // A listener that throws does not escape either.
  options.protocolError = () => {
    throw new Error('bad listener');
  };
  t.doesNotThrow(() => peer.receive('{'));
});

t.test('answers to calls made after close are dropped; messages after close ignored', async (t) => {
  const { peer, sent } = lone('kiosk');
  let release: (() => void) | undefined;
  peer.handle(
    'CancelReservation',
    () =>
      new Promise((r) => {
        release = () => r({ status: 'Accepted' });
      }),
  );
  peer.receive(
    JSON.stringify([2, 'z', 'CancelReservation', { commandId: uuid(), reservationId: 'r1' }]),
  );
  await until(() => release !== undefined);
  peer.close('gone');
  release!();
  await new Promise((r) => setImmediate(r));
  peer.receive('[2,"y","Reset",{}]');
  t.equal(sent.length, 0);
});

t.test(
  "the options' handler() answers the actions a peer has no handler of its own for",
  async (t) => {
    const asked: string[] = [];
    const sent: string[] = [];
    const peer = new RpcPeer({
      role: 'hub',
      send: (text) => sent.push(text),
      handler(action) {
        asked.push(action);
        if (action !== 'Heartbeat') return undefined;
        return () => ({ currentTime: '2026-01-01T00:00:00.000Z' });
      },
    });
    peer.handle('Event', () => ({}));
    peer.receive('[2,"m1","Heartbeat",{}]');
    peer.receive(
      '[2,"m2","Boot",{"kioskId":"k1","softwareVersion":"1","slotCount":4,"bootReason":"PowerOn"}]',
    );
    peer.receive(
      '[2,"m3","Event",{"eventId":"0b6d9c5e-2f1a-4c8e-9a53-6f1d2b7c8e90","seq":1,"at":"2026-01-01T00:00:00.000Z","type":"DoorChanged","data":{"open":true}}]',
    );
    peer.receive('[2,"m4","Dispense",{}]'); // another direction's action never reaches handler()
    await until(() => sent.length === 4);
    const answers = Object.fromEntries(sent.map((s) => JSON.parse(s)).map((f) => [f[1], f]));
    t.same(
      answers.m1,
      [3, 'm1', { currentTime: '2026-01-01T00:00:00.000Z' }],
      'answered by handler()',
    );
    t.equal(answers.m2[2], 'NotImplemented', 'handler() returned none: NotImplemented');
    t.same(answers.m3, [3, 'm3', {}], 'its own handler first');
    t.equal(answers.m4[2], 'NotImplemented');
    t.same(asked, ['Heartbeat', 'Boot'], 'asked only for incoming actions without an own handler');
  },
);

import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { CommandRecord, Repos } from '../../../cloud-lite/store/types.js';
import { verifyCommand } from '../../../protocol/index.js';
import { startTestHub, type TestHub, waitUntil } from '../fixtures/test-hub.js';

const never = () => new Promise(() => undefined);

/** Counts the sent marks written on `hub`'s SQLite store (commands.markSent), until `restore`. */
function countMarks(hub: TestHub): { count(): number; restore(): void } {
  const repos = (hub.server.store as unknown as { repos: Repos }).repos;
  const markSent = repos.commands.markSent;
  let marks = 0;
  repos.commands.markSent = (...args) => {
    marks++;
    return markSent(...args);
  };
  return {
    count: () => marks,
    restore: () => {
      repos.commands.markSent = markSent;
    },
  };
}

t.test('a command is recorded, sent, and completes; signed commands verify', async (t) => {
  const hub = await startTestHub(t);
  const creds = await hub.enrolKiosk('k1');
  const kiosk = await hub.connectKiosk(creds);
  await kiosk.boot();
  const h = hub.server.hub;
  const states: string[] = [];
  h.on('commandState', (c) => states.push(c.state));
  const cmd = await h.sendCommand(
    'k1',
    'DisableSlot',
    { slot: 2, reason: 'test' },
    new Date(Date.now() + 10_000),
  );
  t.equal(cmd.state, 'pending');
  const done = await h.waitFor(cmd.id, { timeoutMs: 5000 });
  t.equal(done.state, 'completed');
  t.same(states, ['pending', 'sent', 'completed']);
  const got = kiosk.commands.find((c) => c.payload.commandId === cmd.id);
  t.equal(got?.action, 'DisableSlot');

  const wipe = await h.sendCommand(
    'k1',
    'WipeDisk',
    { slot: 1, mode: 'quick' },
    new Date(Date.now() + 60_000),
  );
  const accepted = await h.waitFor(wipe.id, { timeoutMs: 5000 });
  t.equal(accepted.state, 'accepted', 'long-running command is accepted, not completed');
  const sent = kiosk.commands.find((c) => c.payload.commandId === wipe.id)!;
  const v = verifyCommand(hub.server.signingKey.publicKeyPem, 'k1', 'WipeDisk', sent.payload);
  t.ok(v.ok, 'signature verifies with the published key');

  // The wipe's outcome event finishes the command (a technician's wipe has no commandId).
  await kiosk.sendEvent('WipeCompleted', { slot: 1, diskId: 'd1', mode: 'quick' });
  await kiosk.sendEvent('WipeCompleted', {
    commandId: wipe.id,
    slot: 1,
    diskId: 'd1',
    mode: 'quick',
  });
  const wiped = await h.waitFor(wipe.id, { until: ['completed'], timeoutMs: 5000 });
  t.equal(wiped.state, 'completed', 'WipeCompleted completes the WipeDisk');
  t.same(wiped.result, { slot: 1, diskId: 'd1', mode: 'quick' });
  const wipe2 = await h.sendCommand(
    'k1',
    'WipeDisk',
    { slot: 1, mode: 'full' },
    new Date(Date.now() + 60_000),
  );
  await h.waitFor(wipe2.id, { timeoutMs: 5000 });
  await kiosk.sendEvent('WipeFailed', {
    commandId: wipe2.id,
    slot: 1,
    diskId: 'd1',
    code: 'EIO',
    reason: 'write failed',
  });
  const failed = await h.waitFor(wipe2.id, { until: ['failed'], timeoutMs: 5000 });
  t.equal(failed.state, 'failed', 'WipeFailed fails it');
  t.match(failed.result, { code: 'EIO', reason: 'write failed' });

  // A command to a connected, booted kiosk is written as sent by the transaction that records
  // it: no commit of its own to mark it sent before it goes out.
  const marks = countMarks(hub);
  const quick = await h.sendCommand('k1', 'EnableSlot', { slot: 3 }, new Date(Date.now() + 10_000));
  const quickDone = await h.waitFor(quick.id, { timeoutMs: 5000 });
  marks.restore();
  t.equal(quickDone.state, 'completed');
  t.equal(quickDone.attempts, 1, 'sent once');
  t.equal((await h.commands.get(quick.id))?.attempts, 1, 'the row says one send');
  t.equal(marks.count(), 0, 'no separate mark-sent commit');

  kiosk.onCommand = () => ({ status: 'Rejected', reason: 'slot busy' });
  const rej = await h.sendCommand('k1', 'EnableSlot', { slot: 2 }, new Date(Date.now() + 10_000));
  t.equal((await h.waitFor(rej.id, { timeoutMs: 5000 })).state, 'rejected');
});

t.test(
  'kiosk disconnects before answering: same commandId re-sent on reconnect, completes once',
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const first = await hub.connectKiosk(creds, { onCommand: never });
    await first.boot();
    const h = hub.server.hub;
    const cmd = await h.sendCommand(
      'k1',
      'SetWriteProtect',
      { slot: 1, on: true },
      new Date(Date.now() + 30_000),
    );
    await first.waitForCommand((c) => c.payload.commandId === cmd.id);
    await first.terminate();
    await waitUntil('hub noticed the disconnect', () => !h.isConnected('k1'));
    t.equal((await h.commands.get(cmd.id))?.state, 'sent');
    const completions: string[] = [];
    h.on('commandState', (c) => {
      if (c.id === cmd.id && c.state === 'completed') completions.push(c.id);
    });
    const second = await hub.connectKiosk(creds);
    await second.boot();
    const done = await h.waitFor(cmd.id, { timeoutMs: 5000 });
    t.equal(done.state, 'completed');
    t.equal(done.attempts, 2);
    const resent = second.commands.filter((c) => c.payload.commandId === cmd.id);
    t.equal(resent.length, 1, 're-sent once with the same commandId');
    t.same(resent[0]!.payload, first.commands[0]!.payload, 'identical payload');
    t.same(completions, [cmd.id], 'completed exactly once');
  },
);

t.test('commands sent while offline wait; past their deadline they expire', async (t) => {
  const hub = await startTestHub(t);
  await hub.enrolKiosk('k1');
  const h = hub.server.hub;
  const cmd = await h.sendCommand('k1', 'Reset', { kind: 'Soft' }, new Date(Date.now() + 200));
  t.equal((await h.commands.get(cmd.id))?.state, 'pending');
  const expired = await h.waitFor(cmd.id, { timeoutMs: 5000 });
  t.equal(expired.state, 'expired');
  const list = await hub.api('GET', '/api/operator/kiosks/k1/commands');
  t.equal(list.body.commands[0].state, 'expired');
});

t.test(
  'hub restart with pending commands: re-sent to the reconnecting kiosk, nothing lost',
  async (t) => {
    const first = await startTestHub(t, {}, {});
    const dir = first.dir;
    const creds = await first.enrolKiosk('k1');
    const ids: string[] = [];
    for (let slot = 1; slot <= 3; slot++) {
      const c = await first.server.hub.sendCommand(
        'k1',
        'DisableSlot',
        { slot },
        new Date(Date.now() + 60_000),
      );
      ids.push(c.id);
    }
    const k = await first.connectKiosk(creds, { onCommand: never });
    await k.boot();
    await k.waitForCommand((c) => c.payload.commandId === ids[2]);
    await first.stop();
    const closed = await k.closed;
    t.equal(closed.code, 1001, 'kiosk socket closed with 1001 on shutdown');

    const second = await startTestHub(
      t,
      { databasePath: first.config.databasePath, signingKeyPath: first.config.signingKeyPath },
      { dir },
    );
    t.equal(
      second.server.signingKey.publicKeyPem,
      first.server.signingKey.publicKeyPem,
      'same key reloaded',
    );
    const k2 = await second.connectKiosk(creds);
    await k2.boot();
    for (const id of ids) {
      const done = await second.server.hub.waitFor(id, { timeoutMs: 5000 });
      t.equal(done.state, 'completed', `command ${id} completed after restart`);
    }
    t.same(
      k2.commands.map((c) => c.payload.commandId),
      ids,
      're-sent in order',
    );
  },
);

t.test(
  'a command another hub process recorded as sent for a socket it lost reaches the kiosk here',
  async (t) => {
    // Process A recorded it as `sent` (the kiosk was on A as the transaction ran), lost the
    // socket before the commit, and the kiosk booted on this process before the row was
    // visible: A's announcement of the command is all this process gets.
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const kiosk = await hub.connectKiosk(creds);
    await kiosk.boot();
    const h = hub.server.hub;
    const at = new Date().toISOString();
    const id = randomUUID(); // recorded by process A
    await hub.server.store.transaction((tx) =>
      tx.commands.insert({
        id,
        kioskId: 'k1',
        action: 'EnableSlot',
        payload: { slot: 2, commandId: id },
        state: 'sent',
        createdAt: at,
        updatedAt: at,
        deadline: new Date(Date.now() + 10_000).toISOString(),
        attempts: 1,
        lastSentAt: at,
        result: null,
      }),
    );
    h.commands.remoteChange(id, 'k1');
    const done = await h.waitFor(id, { timeoutMs: 5000 });
    t.equal(done.state, 'completed', 'sent here and answered');
    t.equal(done.attempts, 2, 'this send counted');
    t.ok(
      kiosk.commands.some((c) => c.payload.commandId === id),
      'the kiosk got the command',
    );
  },
);

/**
 * Records EnableSlot for k1 on `hub` while "another process" announces it `state` (answered
 * there) after the commit, before the recorder's own afterCommit runs: an afterCommit
 * registered first, as the row is visible from the commit.
 */
async function recordAnnouncedFirst(
  hub: TestHub,
  state: 'accepted' | 'completed',
): Promise<CommandRecord> {
  const commands = hub.server.hub.commands;
  let rec: CommandRecord | undefined;
  await hub.server.store.transaction(
    async (tx) => {
      tx.afterCommit(() => {
        const answered = { ...rec!, state, attempts: 1 };
        commands.remoteChange(answered.id, 'k1', answered);
      });
      rec = await commands.record(
        tx,
        'k1',
        'EnableSlot',
        { slot: 2 },
        new Date(Date.now() + 60_000),
      );
    },
    { isolation: 'autocommit' },
  );
  return rec!;
}

t.test(
  "another process's change announced before the recorder's afterCommit ran is not lost",
  async (t) => {
    // The row is visible from its commit: another process (here: its announcement) may send
    // the command, get the kiosk's answer and announce it before this process's afterCommit
    // puts the command, pending, in what waitFor starts from. An afterCommit registered first
    // announces `accepted` (as the other process would) right after the commit, before record's.
    const hub = await startTestHub(t);
    await hub.enrolKiosk('k1');
    const rec = await recordAnnouncedFirst(hub, 'accepted');
    const seen = await hub.server.hub.commands
      .waitFor(rec.id, { timeoutMs: 3000 })
      .catch((err: Error) => err);
    t.match(seen, { state: 'accepted' }, 'waitFor starts from the announced state');
  },
);

t.test(
  "a command another process ended before the recorder's afterCommit ran is neither announced pending nor sent again",
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const h = hub.server.hub;
    const kiosk = await hub.connectKiosk(creds);
    await kiosk.boot();
    const states: string[] = [];
    h.on('commandState', (c) => states.push(c.state));
    const rec = await recordAnnouncedFirst(hub, 'completed');
    // A command after it, answered: the kiosk's socket carried whatever was sent before.
    const next = await h.sendCommand(
      'k1',
      'EnableSlot',
      { slot: 3 },
      new Date(Date.now() + 60_000),
    );
    t.match(await h.waitFor(next.id, { timeoutMs: 5000 }), { state: 'completed' });
    t.notOk(
      kiosk.commands.some((c) => c.payload.commandId === rec.id),
      'the ended command was not sent again',
    );
    t.same(states.slice(0, 1), ['completed'], 'its end, not a stale pending, was told');
  },
);

t.test(
  'a command sent on Boot: one UPDATE for a quick answer; the sent mark only when the answer is late',
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const h = hub.server.hub;
    const deadline = () => new Date(Date.now() + 30_000);
    // Recorded while the kiosk is away: pending, sent at its Boot (not marked when recorded).
    const quick = await h.sendCommand('k1', 'EnableSlot', { slot: 1 }, deadline());
    const marks = countMarks(hub);
    t.teardown(() => marks.restore());
    const states: string[] = [];
    h.on('commandState', (c) => states.push(`${c.id === quick.id ? 'quick' : 'slow'} ${c.state}`));
    let answerSlow: (() => void) | undefined;
    const kiosk = await hub.connectKiosk(creds, {
      onCommand: (c) =>
        c.payload.slot === 2
          ? new Promise((resolve) => {
              answerSlow = () => resolve({ status: 'Accepted' });
            })
          : { status: 'Accepted' },
    });
    await kiosk.boot();
    const done = await h.waitFor(quick.id, { timeoutMs: 5000 });
    t.match(done, { state: 'completed', attempts: 1 }, 'answered, the send counted');
    t.match(
      await h.commands.get(quick.id),
      { state: 'completed', attempts: 1, lastSentAt: done.lastSentAt },
      'the row: answered and sent once, by one UPDATE',
    );
    t.ok(done.lastSentAt, 'the send is dated');
    t.equal(marks.count(), 0, 'no sent mark of its own');

    // A kiosk that takes its time (past sentMarkDelayMs, 1 s): the row says sent meanwhile.
    const slowId = randomUUID(); // as another hub process records it
    const at = new Date().toISOString();
    await hub.server.store.transaction((tx) =>
      tx.commands.insert({
        id: slowId,
        kioskId: 'k1',
        action: 'EnableSlot',
        payload: { slot: 2, commandId: slowId },
        state: 'pending',
        createdAt: at,
        updatedAt: at,
        deadline: deadline().toISOString(),
        attempts: 0,
        lastSentAt: null,
        result: null,
      }),
    );
    h.commands.remoteChange(slowId, 'k1');
    await waitUntil('the sent mark', async () => (await h.commands.get(slowId))?.state === 'sent');
    t.equal(marks.count(), 1, 'one sent mark, once the answer was due');
    answerSlow!();
    const slow = await h.waitFor(slowId, { timeoutMs: 5000 });
    t.match(slow, { state: 'completed', attempts: 1 }, 'then answered, one send counted');
    t.match(await h.commands.get(slowId), { state: 'completed', attempts: 1 });
    t.same(states, ['quick completed', 'slow sent', 'slow completed']);
  },
);

t.test(
  "a send answered after the command's outcome event settled it still counts in attempts and lastSentAt",
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const h = hub.server.hub;
    // The answer comes before a sent mark is due, whatever the machine's load.
    (h.commands as unknown as { deps: { sentMarkDelayMs?: number } }).deps.sentMarkDelayMs =
      3_600_000;
    const cmd = await h.sendCommand('k1', 'EnableSlot', { slot: 1 }, new Date(Date.now() + 60_000));
    let received!: () => void;
    const sent = new Promise<void>((r) => {
      received = r;
    });
    let answer!: () => void;
    const kiosk = await hub.connectKiosk(creds, {
      onCommand: () =>
        new Promise((resolve) => {
          answer = () => resolve({ status: 'Accepted' });
          received();
        }),
    });
    await kiosk.boot(); // sends it (not marked)
    await sent;
    // Its outcome event settles it before the answer is written.
    await hub.server.store.transaction((tx) =>
      h.settle(tx, cmd.id, 'completed', { kioskId: 'k1' }),
    );
    const settled = await h.commands.get(cmd.id);
    t.match(settled, { state: 'completed', attempts: 0, lastSentAt: null });
    answer();
    await waitUntil(
      'the send to be counted',
      async () => (await h.commands.get(cmd.id))?.attempts === 1,
    );
    const row = await h.commands.get(cmd.id);
    t.match(row, { state: 'completed', attempts: 1 }, 'sent once, counted');
    t.ok(row?.lastSentAt, 'the send is dated');
  },
);

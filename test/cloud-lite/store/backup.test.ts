// `cloud-lite backup` while orders flow, `cloud-lite restore` into a fresh hub: the copy
// passes integrity_check, holds every order committed before the backup started with its
// payment state, and every order it holds has its payment (one consistent moment). The
// restore refuses while the hub runs; retention keeps the newest N. The commands run as
// real child processes (bin/cloud-lite.js), the hub in this process.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { runBackupCommand, runRestoreCommand } from '../../../cloud-lite/store/backup-command.js';
import type { Store } from '../../../cloud-lite/store/types.js';
import type { HubTestKiosk } from '../../helpers/hub-test-kiosk.js';
import {
  ADMIN_TOKEN,
  type RentalHub,
  readySlot,
  startRentalHub,
  waitFor,
} from '../rental/helpers/rental-hub.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'bin/cloud-lite.js');

/** The commands in this process (quicker; the online backup itself is tested as a child). */
async function inProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    env: {},
    out: (s: string) => {
      out += s;
    },
    err: (s: string) => {
      err += s;
    },
  };
  const [cmd, ...rest] = args;
  const code = await (cmd === 'backup' ? runBackupCommand : runRestoreCommand)(rest, io);
  return { code, out, err };
}

function cloudLite(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT }, (err, out, errOut) =>
      resolve({
        code: err ? ((err as { code?: number }).code ?? 1) : 0,
        out: String(out),
        err: String(errOut),
      }),
    );
  });
}

async function tempDir(t: Test, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The hub's configuration file, as the hub in this process runs with it. */
function configFile(dir: string): string {
  const file = path.join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      databasePath: path.join(dir, 'hub.db'),
      signingKeyPath: path.join(dir, 'hub-key.pem'),
      adminToken: ADMIN_TOKEN,
    }),
  );
  return file;
}

type Pair = { order: string; payment: string | undefined };

/** Order id -> (order state, state of its order payment). */
async function orderStates(store: Store): Promise<Map<string, Pair>> {
  return store.transaction(async (tx) => {
    const out = new Map<string, Pair>();
    for (const o of await tx.orders.listRecent(10_000)) {
      const pay = (await tx.payments.listByRef(o.id)).find((p) => p.purpose === 'order');
      out.set(o.id, { order: o.state, payment: pay?.state });
    }
    return out;
  });
}

/** Where each state is in the lifecycle this test's orders go through (no declines here). */
const ORDER_STEP: Record<string, number> = { created: 0, dispensing: 1, completed: 2 };
const PAYMENT_STEP: Record<string, number> = { authorising: 0, authorised: 1, captured: 2 };

/** `got` is `want` or later in the lifecycle, for both the order and its payment. */
function notBefore(got: Pair, want: Pair): boolean {
  const step = (steps: Record<string, number>, a?: string, b?: string) =>
    a === b || (a !== undefined && b !== undefined && (steps[a] ?? -1) > (steps[b] ?? 99));
  return step(ORDER_STEP, got.order, want.order) && step(PAYMENT_STEP, got.payment, want.payment);
}

/** Kiosks of 4 ready disks each; Dispense is accepted, and completed (taken) while `complete`. */
async function kiosks(
  hub: RentalHub,
  n: number,
  complete: { on: boolean },
): Promise<HubTestKiosk[]> {
  const out: HubTestKiosk[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `bk${i}`;
    const k = await hub.kiosk(id, {
      slots: [1, 2, 3, 4].map((s) => readySlot(s, `${id}-d${s}`)),
    });
    k.onCommand = (cmd) => {
      if (cmd.action === 'Dispense' && complete.on) {
        setTimeout(() => {
          void k
            .sendEvent('DispenseCompleted', {
              commandId: cmd.payload.commandId,
              orderId: cmd.payload.orderId as string,
              slot: cmd.payload.slot as number,
              diskId: cmd.payload.diskId as string,
              outcome: 'taken',
            })
            .catch(() => undefined);
        }, 5);
      }
      return { status: 'Accepted' };
    };
    out.push(k);
  }
  return out;
}

t.test('backup while orders flow; restore into a fresh hub', async (t) => {
  const dir1 = await tempDir(t, 'backup-hub1-');
  const hub = await startRentalHub(t, { dir: dir1 });
  await hub.seedCatalog();
  const complete = { on: true };
  const KIOSKS = 12;
  await kiosks(hub, KIOSKS, complete);
  const renters: Array<{ token: string }> = [];
  for (let i = 0; i < KIOSKS * 4; i++) {
    const r = await hub.renter();
    if ((await hub.deposit(r.token)).status !== 200) throw new Error('deposit refused');
    renters.push(r);
  }
  let next = 0;
  const placed: Array<{ id: string; token: string }> = [];
  const placeOne = async () => {
    const i = next++;
    if (i >= renters.length) return false;
    const kioskId = `bk${(i % KIOSKS) + 1}`;
    const r = await hub.api(
      'POST',
      '/api/orders',
      { kioskId, diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
      renters[i]!.token,
      { 'idempotency-key': randomUUID() },
    );
    if (r.status !== 201) throw new Error(`order ${i}: ${r.status} ${JSON.stringify(r.body)}`);
    placed.push({ id: r.body.order.id, token: renters[i]!.token });
    return true;
  };

  // Before the backup: 12 orders, completed (payment captured) or left dispensing (authorised).
  for (let i = 0; i < 12; i++) {
    complete.on = i % 2 === 0;
    await placeOne();
  }
  complete.on = false;
  await waitFor('the completions to land', async () => {
    const s = await orderStates(hub.server.store);
    return [...s.values()].filter((p) => p.order === 'completed').length === 6;
  });

  // Orders keep flowing (two at a time) until the backup process has finished.
  let backupDone = false;
  const stream = (async () => {
    const worker = async () => {
      while (!backupDone && (await placeOne()));
    };
    await Promise.all([worker(), worker()]);
  })();
  await waitFor('the stream to start', async () => placed.length >= 14);
  const before = await orderStates(hub.server.store);
  const backups = await tempDir(t, 'backups-');
  const cfg1 = configFile(dir1);
  const res = await cloudLite(['backup', '-c', cfg1, '--to', backups, '--keep', '3']);
  backupDone = true;
  await stream;
  t.ok(hub.server.store.commitStats().synced > 0, 'the order commits were synced (money tables)');
  t.equal(res.code, 0, `backup exit 0\n${res.err}`);
  const printed = JSON.parse(res.out);
  t.match(printed.backup, new RegExp(`^${backups}/cloud-lite-\\d{8}T\\d{9}Z$`));
  t.ok(
    placed.length > before.size,
    `orders kept coming during the backup (${placed.length - before.size} more)`,
  );

  // The hub is running: restore refuses and touches nothing.
  const countBefore = (await orderStates(hub.server.store)).size;
  const refused = await cloudLite(['restore', printed.backup, '-c', cfg1]);
  t.equal(refused.code, 1, 'restore refuses while the hub runs');
  t.match(
    refused.err,
    /EHUBRUNNING: the hub is running .*stop it first \(systemctl stop cloud-lite\)/,
  );
  t.equal(
    (await orderStates(hub.server.store)).size,
    countBefore,
    'the live database is untouched',
  );
  t.same(
    readdirSync(dir1).filter((f) => f.includes('before-restore') || f.includes('restoring')),
    [],
  );

  // Restore into a fresh, stopped hub directory.
  const dir2 = await tempDir(t, 'backup-hub2-');
  const restored = await cloudLite(['restore', printed.backup, '-c', configFile(dir2)]);
  t.equal(restored.code, 0, `restore exit 0\n${restored.err}`);
  t.same(JSON.parse(restored.out).kept, [], 'nothing to keep aside in a fresh directory');
  const db = new Database(path.join(dir2, 'hub.db'), { readonly: true });
  t.same(db.pragma('integrity_check', { simple: true }), 'ok', 'integrity_check: ok');
  t.same(db.pragma('foreign_key_check'), [], 'foreign keys hold');
  db.close();
  t.equal(
    readFileSync(path.join(dir2, 'hub-key.pem'), 'utf8'),
    readFileSync(path.join(dir1, 'hub-key.pem'), 'utf8'),
    'the signing key came back (kiosks keep verifying commands)',
  );

  const hub2 = await startRentalHub(t, { dir: dir2 });
  const after = await orderStates(hub2.server.store);
  // `before` was read just before the backup started, while orders flowed: one in progress
  // then may have moved on (created/authorising -> dispensing/authorised) by the moment the
  // backup copied. Nothing committed before may be missing or go back.
  for (const [id, want] of before) {
    const got = after.get(id);
    t.ok(
      got !== undefined && notBefore(got, want),
      `order ${id.slice(0, 12)} committed before the backup: ${want.order}, payment ${want.payment}; in the copy: ${got?.order}, payment ${got?.payment}`,
    );
  }
  t.same(
    [...after].filter(([, p]) => p.payment === undefined),
    [],
    'every order in the copy has its payment (one consistent moment)',
  );
  t.ok(after.size <= placed.length, 'no order that was never placed');
  // Accounts and sessions came back too: a renter reads an order with the old token.
  const first = placed[0]!;
  const seen = await hub2.api('GET', `/api/orders/${first.id}`, undefined, first.token);
  t.equal(seen.status, 200);
  t.equal(seen.body.order.state, before.get(first.id)?.order);
});

t.test(
  'retention keeps the newest N; restore over a stopped hub keeps the old files',
  async (t) => {
    const dir = await tempDir(t, 'backup-keep-');
    const hub = await startRentalHub(t, { dir });
    await hub.seedCatalog();
    await hub.stop();
    const cfg = configFile(dir);
    const backups = await tempDir(t, 'backups-');
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await inProcess(['backup', '-c', cfg, '--to', backups, '--keep', '2']);
      t.equal(r.code, 0, r.err);
      made.push(JSON.parse(r.out).backup);
    }
    t.same(
      readdirSync(backups).sort(),
      made.slice(1).map((m) => path.basename(m)),
      'the two newest are kept',
    );
    const bad = await inProcess(['backup', '-c', cfg, '--to', backups, '--keep', '0']);
    t.equal(bad.code, 1);
    t.match(bad.err, /--keep.*whole number >= 1/);

    const r = await inProcess(['restore', made[2]!, '-c', cfg]);
    t.equal(r.code, 0, r.err);
    const kept = JSON.parse(r.out).kept as string[];
    t.equal(kept.length, 1, 'the replaced database is kept aside');
    t.match(kept[0], /hub\.db\.before-restore-\d{8}T\d{9}Z$/);
    t.ok(existsSync(kept[0]!));
    const old = new Database(kept[0]!, { readonly: true });
    t.equal(old.pragma('integrity_check', { simple: true }), 'ok', 'the kept copy is complete');
    old.close();
    t.notOk(existsSync(path.join(dir, 'hub.db-wal')), 'no stale WAL beside the restored file');

    // A damaged backup is refused before anything is replaced.
    const damaged = made[1]!;
    writeFileSync(path.join(damaged, 'hub.db'), 'not a database');
    const no = await inProcess(['restore', damaged, '-c', cfg]);
    t.equal(no.code, 1);
    t.match(no.err, /ERESTORE: .* does not match the SHA-256 in backup\.json/);
  },
);

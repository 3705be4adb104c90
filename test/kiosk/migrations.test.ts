import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { MigrationError, migrate } from '../../kiosk/db/migrate.js';
import { migrations } from '../../kiosk/db/migrations/index.js';
import { ensureIdentity, IdentityMismatchError, openDb } from '../../kiosk/db/open-db.js';
import { tempDir } from './fixtures/kit.js';

const latest = migrations.at(-1)!.version;

t.test('a fresh database gets the latest version, WAL, FULL sync, foreign keys', async (t) => {
  const db = openDb({ file: path.join(tempDir(t), 'a', 'kioskd.sqlite') });
  t.teardown(() => db.close());
  t.equal(db.pragma('user_version', { simple: true }), latest);
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL');
  t.equal(db.pragma('foreign_keys', { simple: true }), 1);
  const tables = (
    db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table'").all() as {
      name: string;
      sql: string;
    }[]
  ).map((r) => r.name);
  for (const name of ['identity', 'slots', 'disks', 'inbox', 'outbox', 'reservations', 'nonces']) {
    t.ok(tables.includes(name), `table ${name}`);
  }
  t.throws(
    () => db.prepare("INSERT INTO slots (slot, state, updated_at) VALUES (1, 'flying', 'x')").run(),
    /CHECK/,
    'states are checked',
  );
  t.same(migrate(db), { from: latest, to: latest }, 'reopening is a no-op');
});

t.test('a database from a newer kioskd is refused with a clear error', async (t) => {
  const file = path.join(tempDir(t), 'kioskd.sqlite');
  const raw = new Database(file);
  raw.pragma(`user_version = ${latest + 5}`);
  raw.close();
  t.throws(() => openDb({ file }), {
    code: 'EDBNEWER',
    message: new RegExp(`schema version ${latest + 5}, newer than this kioskd knows`),
  });
  const again = new Database(file);
  t.equal(again.pragma('user_version', { simple: true }), latest + 5, 'left untouched');
  again.close();
});

t.test('pending migrations run in one transaction; a failure changes nothing', async (t) => {
  const file = path.join(tempDir(t), 'kioskd.sqlite');
  const list = [
    { version: 1, name: '001-a', sql: 'CREATE TABLE a (x INTEGER) STRICT;' },
    { version: 2, name: '002-b', sql: 'CREATE TABLE b (x INTEGER) STRICT;' },
    { version: 3, name: '003-bad', sql: 'CREATE TABLE c (x INTEGER) STRICT; SELECT nope FROM d;' },
  ];
  const db = new Database(file);
  t.teardown(() => db.close());
  let caught: unknown;
  try {
    migrate(db, list);
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof MigrationError);
  t.match(caught, { code: 'EMIGRATION', message: /003-bad failed.*left at version 0/ });
  t.equal(db.pragma('user_version', { simple: true }), 0, 'version unchanged');
  const n = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as {
    n: number;
  };
  t.equal(n.n, 0, 'no table from the earlier migrations survived');
  t.same(migrate(db, list.slice(0, 2)), { from: 0, to: 2 }, 'the good ones apply together');
  t.same(migrate(db, list.slice(0, 2)), { from: 2, to: 2 });
});

t.test('a database of another kiosk is refused', async (t) => {
  const db = openDb({ file: path.join(tempDir(t), 'kioskd.sqlite') });
  t.teardown(() => db.close());
  ensureIdentity(db, 'kiosk-a');
  ensureIdentity(db, 'kiosk-a');
  t.throws(() => ensureIdentity(db, 'kiosk-b'), IdentityMismatchError);
});

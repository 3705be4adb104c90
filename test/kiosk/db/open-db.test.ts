import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { migrate } from '../../../common/sqlite-migrate.js';
import { migrations } from '../../../kiosk/db/migrations/index.js';
import { ensureIdentity, IdentityMismatchError, openDb } from '../../../kiosk/db/open-db.js';
import { tempDir } from '../fixtures/kit.js';

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
  t.same(
    migrate(db, migrations, { program: 'kioskd' }),
    { from: latest, to: latest },
    'reopening is a no-op',
  );
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

t.test('a database of another kiosk is refused', async (t) => {
  const db = openDb({ file: path.join(tempDir(t), 'kioskd.sqlite') });
  t.teardown(() => db.close());
  ensureIdentity(db, 'kiosk-a');
  ensureIdentity(db, 'kiosk-a');
  t.throws(() => ensureIdentity(db, 'kiosk-b'), IdentityMismatchError);
});

t.test(
  'a database has its own id (Boot databaseId): kept across opens, new for a new one',
  async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'a', 'kioskd.sqlite');
    const db = openDb({ file });
    const id = ensureIdentity(db, 'kiosk-a');
    t.match(id, /^[0-9a-f-]{36}$/);
    db.close();
    const reopened = openDb({ file });
    t.equal(ensureIdentity(reopened, 'kiosk-a'), id, 'the same database keeps its id');
    reopened.close();
    const other = openDb({ file: path.join(dir, 'b', 'kioskd.sqlite') });
    t.teardown(() => other.close());
    t.not(
      ensureIdentity(other, 'kiosk-a'),
      id,
      'a new database (an SD card re-flashed) gets a new id',
    );
  },
);

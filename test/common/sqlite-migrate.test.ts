import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { StoreVersionError } from '../../cloud-lite/errors.js';
import { MigrationError, migrate } from '../../common/sqlite-migrate.js';

const opts = { program: 'testd' };

function tempDb(t: Test): Database.Database {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sqlite-migrate-'));
  const db = new Database(path.join(dir, 'test.sqlite'));
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

const list = [
  { version: 1, name: '001-a', sql: 'CREATE TABLE a (x INTEGER) STRICT;' },
  { version: 2, name: '002-b', sql: 'CREATE TABLE b (x INTEGER) STRICT;' },
  { version: 3, name: '003-bad', sql: 'CREATE TABLE c (x INTEGER) STRICT; SELECT nope FROM d;' },
];

t.test('pending migrations run in one transaction; a failure changes nothing', async (t) => {
  const db = tempDb(t);
  let caught: unknown;
  try {
    migrate(db, list, opts);
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
  t.same(migrate(db, list.slice(0, 2), opts), { from: 0, to: 2 }, 'the good ones apply together');
  t.same(migrate(db, list.slice(0, 2), opts), { from: 2, to: 2 });
});

t.test('a database from newer code is refused, untouched, naming the program', async (t) => {
  const db = tempDb(t);
  db.pragma('user_version = 7');
  t.throws(() => migrate(db, list.slice(0, 2), opts), {
    code: 'EDBNEWER',
    message: /schema version 7, newer than this testd knows \(2\)/,
  });
  t.throws(
    () =>
      migrate(db, list.slice(0, 2), {
        program: 'cloud-lite',
        newer: (found, known) => new StoreVersionError(found, known),
      }),
    { name: 'StoreVersionError', code: 'ESTOREVERSION', message: /version 7 is newer .* \(2\)/ },
    "the program's own error when it asks for one",
  );
  t.equal(db.pragma('user_version', { simple: true }), 7, 'left untouched');
});

t.test('a list not numbered 1, 2, 3, ... is refused before anything runs', async (t) => {
  const db = tempDb(t);
  const gap = [list[0]!, { ...list[1]!, version: 3 }];
  t.throws(() => migrate(db, gap, opts), {
    code: 'EMIGRATIONLIST',
    message: /002-b has version 3, expected 2/,
  });
  t.equal(db.pragma('user_version', { simple: true }), 0);
});

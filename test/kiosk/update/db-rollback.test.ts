// The database across a rolled-back update: the copy taken before the reboot comes back when
// the trial left a database from a newer kioskd, and the event counter never goes back.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { openDb } from '../../../kiosk/db/open-db.js';
import { silentLogger } from '../../../kiosk/log.js';
import { openDbAcrossRollback, snapshotDatabase } from '../../../kiosk/update/db-rollback.js';
import { tempDir } from '../daemon/harness.js';

t.test(
  'a newer database after a rollback: the snapshot is restored, seq carried over',
  async (t) => {
    const dir = tempDir(t, 'db-rollback-');
    const file = path.join(dir, 'kioskd.sqlite');
    const snap = path.join(dir, 'pre-update.sqlite');
    const db = openDb({ file });
    db.prepare("UPDATE counters SET value = 41 WHERE name = 'outbox_seq'").run();
    db.prepare("INSERT INTO counters (name, value) VALUES ('marker', 7)").run();
    await snapshotDatabase(db, snap);
    // The trial's kioskd: more events, then a migration this kioskd does not know.
    db.prepare("UPDATE counters SET value = 57 WHERE name = 'outbox_seq'").run();
    db.prepare("UPDATE counters SET value = 8 WHERE name = 'marker'").run();
    const known = db.pragma('user_version', { simple: true }) as number;
    db.pragma(`user_version = ${known + 1}`);
    db.close();
    t.throws(() => openDb({ file }), { code: 'EDBNEWER' }, 'the old kioskd refuses it');

    const back = openDbAcrossRollback(
      file,
      snap,
      silentLogger(),
      () => new Date('2030-01-01T00:00:00Z'),
    );
    t.teardown(() => back.close());
    t.equal(back.pragma('user_version', { simple: true }), known, 'the schema this kioskd knows');
    const v = (n: string) =>
      (back.prepare('SELECT value FROM counters WHERE name = ?').get(n) as { value: number }).value;
    t.equal(v('marker'), 7, 'the data from before the update');
    t.equal(v('outbox_seq'), 57, "events go on after the trial's: no seq is issued twice");
    t.ok(
      readdirSync(dir).some((f) => f.startsWith('kioskd.sqlite.newer-2030-01-01')),
      'the newer database kept aside',
    );
  },
);

t.test('without a snapshot, or for another error, nothing is touched', async (t) => {
  const dir = tempDir(t, 'db-rollback-');
  const file = path.join(dir, 'kioskd.sqlite');
  const db = openDb({ file });
  db.pragma(`user_version = ${(db.pragma('user_version', { simple: true }) as number) + 1}`);
  db.close();
  t.throws(() => openDbAcrossRollback(file, path.join(dir, 'none.sqlite'), silentLogger()), {
    code: 'EDBNEWER',
  });
  t.notOk(existsSync(`${file}.newer`), 'left in place');
  const ok = openDbAcrossRollback(
    path.join(dir, 'fresh.sqlite'),
    path.join(dir, 'none'),
    silentLogger(),
  );
  t.ok(ok.open, 'a normal open');
  ok.close();
});

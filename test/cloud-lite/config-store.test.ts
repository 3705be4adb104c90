import { statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { loadConfig, validateConfig } from '../../cloud-lite/config.js';
import { loadOrCreateSigningKey } from '../../cloud-lite/signing-key.js';
import { migrations } from '../../cloud-lite/store/sqlite/migrations/index.js';
import { SqliteStore } from '../../cloud-lite/store/sqlite/sqlite-store.js';

async function tmp(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cloud-lite-cfg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('config: file + env, unknown key and wrong type are named', async (t) => {
  const dir = await tmp(t);
  const file = path.join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ adminToken: 'a'.repeat(20), port: 9000 }));
  const c = loadConfig({
    file,
    env: { CLOUD_LITE_PORT: '9100', CLOUD_LITE_HEARTBEAT_INTERVAL_SECONDS: '5' },
  });
  t.equal(c.port, 9100, 'env wins');
  t.equal(c.heartbeatIntervalSeconds, 5);
  t.equal(c.maxPayloadBytes, 256 * 1024, 'default');
  writeFileSync(file, JSON.stringify({ adminToken: 'a'.repeat(20), prot: 1 }));
  t.throws(() => loadConfig({ file }), { code: 'ECONFIG', message: /"prot"/ });
  writeFileSync(file, JSON.stringify({ adminToken: 'a'.repeat(20), port: 'eighty' }));
  t.throws(() => loadConfig({ file }), { code: 'ECONFIG', message: /"port"/ });
  t.throws(() => loadConfig({ env: {} }), { code: 'ECONFIG', message: /"adminToken".*missing/ });
  t.throws(
    () => loadConfig({ env: { CLOUD_LITE_ADMIN_TOKEN: 'a'.repeat(20), CLOUD_LITE_PROT: '1' } }),
    {
      code: 'ECONFIG',
      message: /CLOUD_LITE_PROT/,
    },
  );
});

t.test(
  'config: notifications/timeZone takes IANA zones and their aliases, refuses others',
  async (t) => {
    const zone = (timeZone: string) =>
      validateConfig({ adminToken: 'a'.repeat(20), notifications: { timeZone } }).notifications
        .timeZone;
    t.equal(validateConfig({ adminToken: 'a'.repeat(20) }).notifications.timeZone, 'UTC');
    // Canonical names (on Intl's zone list) and names only DateTimeFormat knows (aliases, case).
    for (const z of ['Asia/Shanghai', 'Europe/Berlin', 'UTC', 'utc', 'Etc/UTC', 'US/Eastern'])
      t.equal(zone(z), z, `${z} is taken`);
    for (const z of ['Mars/Olympus_Mons', 'Europe/Berlin ', 'GMT+99'])
      t.throws(() => zone(z), { code: 'ECONFIG', message: /notifications\/timeZone.*IANA/ }, z);
  },
);

t.test('signing key generated 0600 and reloaded', async (t) => {
  const dir = await tmp(t);
  const file = path.join(dir, 'keys', 'hub.pem');
  const a = loadOrCreateSigningKey(file);
  t.equal(statSync(file).mode & 0o777, 0o600);
  const b = loadOrCreateSigningKey(file);
  t.equal(a.publicKeyPem, b.publicKeyPem);
});

t.test('store: migrations set user_version, STRICT tables, refuse a newer database', async (t) => {
  const dir = await tmp(t);
  const file = path.join(dir, 'hub.db');
  const store = SqliteStore.open(file);
  await store.transaction((tx) =>
    tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: new Date().toISOString() }),
  );
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.kiosks.insert({ id: 'k2', name: 'k2', createdAt: 'now' });
      throw new Error('boom');
    }),
    /boom/,
  );
  t.same(
    (await store.transaction((tx) => tx.kiosks.list())).map((k) => k.id),
    ['k1'],
    'rolled back',
  );
  await store.close();
  const db = new Database(file);
  t.equal(db.pragma('user_version', { simple: true }), migrations.length);
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.throws(
    () => db.prepare("UPDATE kiosks SET slot_count = 'many'").run(),
    /cannot store TEXT/,
    'STRICT',
  );
  db.pragma(`user_version = ${migrations.length + 1}`);
  db.close();
  t.throws(() => SqliteStore.open(file), { code: 'ESTOREVERSION' });
});

t.test(
  'config: store kind and URL (file or CLOUD_LITE_STORE_*), refused without a URL',
  async (t) => {
    const base = { env: { CLOUD_LITE_ADMIN_TOKEN: 'a'.repeat(20) } };
    t.same(loadConfig(base).store, { kind: 'sqlite', poolSize: 10 }, 'SQLite by default');
    const pg = loadConfig({
      env: {
        ...base.env,
        CLOUD_LITE_STORE_KIND: 'postgres',
        CLOUD_LITE_STORE_URL: 'postgres://hub:secret@db.example:5432/hub',
        CLOUD_LITE_STORE_POOL_SIZE: '4',
      },
    });
    t.same(pg.store, {
      kind: 'postgres',
      url: 'postgres://hub:secret@db.example:5432/hub',
      poolSize: 4,
    });
    t.throws(
      () => loadConfig({ ...base, overrides: { store: { kind: 'postgres', poolSize: 10 } } }),
      {
        code: 'ECONFIG',
        message: /"store\/url" is missing: store.kind postgres needs a URL like postgres:\/\//,
      },
    );
    t.throws(
      () =>
        loadConfig({
          ...base,
          overrides: { store: { kind: 'postgres', url: 'mysql://x:pw@h/db', poolSize: 10 } },
        }),
      { code: 'ECONFIG', message: /"store\/url" is invalid: it must be a postgres:\/\// },
    );
    try {
      loadConfig({
        ...base,
        overrides: { store: { kind: 'postgres', url: 'http://u:topsecret@h/db', poolSize: 1 } },
      });
    } catch (err) {
      t.notMatch((err as Error).message, /topsecret/, 'the refusal never repeats the password');
    }
    t.throws(
      () =>
        loadConfig({
          ...base,
          overrides: { store: { kind: 'sqlite', url: 'postgres://h/db', poolSize: 1 } },
        }),
      { code: 'ECONFIG', message: /"store\/url" is for store.kind postgres/ },
    );
    t.throws(() => loadConfig({ env: { ...base.env, CLOUD_LITE_STORE_KIND: 'mysql' } }), {
      code: 'ECONFIG',
      message: /store/,
    });
  },
);

t.test(
  'cloud-lite migrate brings the store up to date; backup and restore refuse a PostgreSQL store',
  async (t) => {
    const { runMigrateCommand } = await import('../../cloud-lite/store/migrate-command.js');
    const { runBackupCommand, runRestoreCommand } = await import(
      '../../cloud-lite/store/backup-command.js'
    );
    const dir = await tmp(t);
    const out: string[] = [];
    const err: string[] = [];
    const io = (env: Record<string, string>) => ({
      env: { CLOUD_LITE_ADMIN_TOKEN: 'a'.repeat(20), ...env },
      out: (s: string) => void out.push(s),
      err: (s: string) => void err.push(s),
    });
    const dbFile = path.join(dir, 'hub.db');
    t.equal(await runMigrateCommand([], io({ CLOUD_LITE_DATABASE_PATH: dbFile })), 0, err.join(''));
    t.same(JSON.parse(out[0] ?? ''), {
      store: 'sqlite',
      at: dbFile,
      fromVersion: 0,
      toVersion: migrations.length,
    });
    const db = new Database(dbFile, { readonly: true });
    t.equal(db.pragma('user_version', { simple: true }), migrations.length, 'the file is migrated');
    db.close();
    const pgEnv = {
      CLOUD_LITE_STORE_KIND: 'postgres',
      CLOUD_LITE_STORE_URL: 'postgres://hub:pw@127.0.0.1:1/hub',
    };
    t.equal(await runBackupCommand(['--to', dir], io(pgEnv)), 1);
    t.equal(await runRestoreCommand([dir], io(pgEnv)), 1);
    t.match(err, [
      /^cloud-lite backup: ESTOREKIND: .*PostgreSQL: back it up with pg_dump/,
      /^cloud-lite restore: ESTOREKIND: /,
    ]);
  },
);

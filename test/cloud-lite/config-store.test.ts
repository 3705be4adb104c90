import { statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { loadConfig } from '../../cloud-lite/config.js';
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

// `cloud-lite rollout` works on the configured store: with `store.kind` postgres it reads and
// writes PostgreSQL (it opened the SQLite file of `databasePath` whatever the config said, so
// a PostgreSQL hub never saw the CLI's rollouts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { contentDir, loadConfig } from '../../../cloud-lite/config.js';
import { openStore } from '../../../cloud-lite/store/open-store.js';
import { runRolloutCommand } from '../../../cloud-lite/updates/cli.js';
import { pgServer } from '../../helpers/postgres.js';

const pg = await pgServer(t);

t.test('create and list a rollout on a PostgreSQL store', { skip: !pg }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const url = await (pg as NonNullable<typeof pg>).createDatabase();
  const cfg = path.join(dir, 'hub.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      databasePath: path.join(dir, 'never-used.db'),
      signingKeyPath: path.join(dir, 'key.pem'),
      adminToken: 'x'.repeat(32),
      store: { kind: 'postgres', url },
    }),
  );
  const config = loadConfig({ file: cfg, env: {} });
  t.equal(contentDir(config).startsWith(dir), true, 'content store in the temp dir');
  const store = await openStore(config);
  await store.transaction((tx) =>
    tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: new Date().toISOString() }),
  );
  await store.close();
  const bundle = path.join(dir, 'b.raucb');
  writeFileSync(bundle, Buffer.alloc(1024, 1));
  const out: string[] = [];
  const err: string[] = [];
  const io = { env: {}, out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
  const code = await runRolloutCommand(
    ['create', '--version', '2.0.0', '--bundle', bundle, '-c', cfg],
    io,
  );
  t.equal(code, 0, err.join(''));
  const id = JSON.parse(out.join('')).rollout.id as string;

  const again = await openStore(config);
  t.teardown(() => again.close());
  const rows = await again.transaction((tx) => tx.rollouts.list(10));
  t.same(
    rows.map((r) => [r.id, r.version, r.state]),
    [[id, '2.0.0', 'running']],
    'the rollout is in PostgreSQL',
  );
});

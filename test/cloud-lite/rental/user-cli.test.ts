import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { main } from '../../../cloud-lite/main.js';
import { runUserCommand } from '../../../cloud-lite/rental/cli/user-command.js';
import { startRentalHub } from './helpers/rental-hub.js';

t.test(
  'cloud-lite user create makes an operator who can log in and use operator routes',
  async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rental-cli-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'hub.json');
    await writeFile(
      file,
      JSON.stringify({
        adminToken: 'x'.repeat(20),
        databasePath: path.join(dir, 'hub.db'),
        rental: { scryptLog2N: 12 },
      }),
    );
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      env: { CLOUD_LITE_NEW_USER_PASSWORD: 'operator pass 123' },
      out: (s: string) => out.push(s),
      err: (s: string) => err.push(s),
    };
    t.equal(
      await runUserCommand(
        ['create', '--role', 'operator', '--email', 'ops@example.test', '-c', file],
        io,
      ),
      0,
      err.join(''),
    );
    t.equal(JSON.parse(out[0]!).role, 'operator');
    t.equal(
      await runUserCommand(
        ['create', '--role', 'operator', '--email', 'ops@example.test', '-c', file],
        io,
      ),
      1,
      'duplicate refused',
    );
    t.match(err.join(''), /EMAIL_TAKEN/);
    t.equal(
      await runUserCommand(
        ['create', '--role', 'king', '--email', 'k@example.test', '-c', file],
        io,
      ),
      2,
    );
    t.equal(
      await runUserCommand(['create', '--role', 'admin', '--email', 'k@example.test', '-c', file], {
        ...io,
        env: {},
      }),
      2,
      'no password',
    );
    const stderr = t.capture(process.stderr, 'write', () => true);
    t.equal(await main(['user', 'create', '--role', 'nope']), 2, 'main dispatches the subcommand');
    stderr.restore();
    t.match(String(stderr.args()[0]?.[0]), /--role must be one of/, 'and says why on stderr');

    const hub = await startRentalHub(t, { dir, keepDir: true });
    const login = await hub.api('POST', '/api/auth/login', {
      login: 'ops@example.test',
      password: 'operator pass 123',
    });
    t.equal(login.status, 200);
    t.equal(
      (await hub.api('GET', '/api/operator/kiosks', undefined, login.body.token)).status,
      200,
    );
    t.equal(
      (await hub.api('GET', '/api/operator/orders', undefined, login.body.token)).status,
      200,
    );
  },
);

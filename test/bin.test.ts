import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

for (const name of ['kioskd', 'kioskctl', 'cloud-lite']) {
  t.test(`${name} --help answers`, async (t) => {
    const res = spawnSync(process.execPath, [path.join(root, 'bin', `${name}.js`), '--help'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.equal(res.status, 0, `exit code (stderr: ${res.stderr})`);
    t.match(res.stdout, new RegExp(`Usage: ${name}`));
  });
}

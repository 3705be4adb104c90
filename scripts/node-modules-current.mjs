// Exit 0 when node_modules holds exactly the packages of package-lock.json (what `npm ci`
// would install), 1 otherwise, naming the first difference. Plain JavaScript without
// dependencies: it runs before `npm ci`. Used by scripts/setup.sh.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
let why = '';
for (const [rel, entry] of Object.entries(lock.packages ?? {})) {
  if (!rel || entry.link) continue;
  const file = path.join(root, rel, 'package.json');
  if (!existsSync(file)) {
    if (entry.optional) continue; // another platform's binary
    why = `${rel} is missing`;
    break;
  }
  const have = JSON.parse(readFileSync(file, 'utf8')).version;
  if (have !== entry.version) {
    why = `${rel} is ${have}, the lock says ${entry.version}`;
    break;
  }
}
if (why) {
  process.stdout.write(`node_modules: ${why}: running npm ci\n`);
  process.exit(1);
}

// The import rules of .dependency-cruiser.cjs (run by `npm run lint`) catch what they are meant
// to: a small tree that breaks each rule once, cruised with the repository's configuration,
// reports exactly those violations, and the imports the layers allow pass.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** file -> its imports (relative specifiers or package names). */
const TREE: Record<string, string[]> = {
  'common/a.ts': ['../kiosk/k.js', './b.js'],
  'common/b.ts': ['./a.js'],
  'protocol/p.ts': ['../hal/gpio/types.js', '../common/ok.js', 'node:crypto', '@sinclair/typebox'],
  'protocol/io.ts': ['execa'],
  'common/ok.ts': [],
  'hal/gpio/types.ts': ['../../common/ok.js'],
  'hal/usb/u.ts': ['../../kiosk/leaf.js', '../gpio/types.js'],
  'hal/drives/internal.ts': [],
  'hal/drives/types.ts': [],
  'hal/storage/s.ts': ['../drives/internal.js', '../drives/types.js'],
  'kiosk/k.ts': ['../cloud-lite/c.js', '../hal/gpio/types.js', '../protocol/p.js'],
  'kiosk/leaf.ts': [],
  'kiosk/view.ts': ['../hal/gpio/types.js'],
  'kiosk/wire.ts': ['../common/ok.js'],
  'kiosk/kioskctl/cli.ts': ['../view.js', '../wire.js', '../maintenance/server.js'],
  'kiosk/maintenance/server.ts': ['../wire.js'],
  'kiosk/maintenance/methods.ts': ['../kioskctl/cli.js'],
  'cloud-lite/c.ts': ['../hal/usb/u.js', '../protocol/p.js'],
  'cloud-lite/rental/r.ts': [],
  'cloud-lite/rental/uses-hub.ts': ['../hub/kiosk-commands.js', '../hub/h.js'],
  'cloud-lite/updates/rollout.ts': ['../hub/kiosk-commands.js', '../hub/h.js'],
  'cloud-lite/hub/h.ts': [],
  'cloud-lite/http/routes.ts': ['../rental/r.js', 'fastify'],
  'cloud-lite/registry/reg.ts': ['../http/routes.js', 'fastify'],
  'cloud-lite/hub/kiosk-commands.ts': [],
  'cloud-lite/store/st.ts': ['../rental/r.js'],
  'cloud-lite/content/ct.ts': ['../hub/h.js'],
  'cloud-lite/web/src/w.ts': ['../../c.js'],
  'scripts/s.ts': ['../hal/usb/u.js', '../kiosk/k.js', '../cloud-lite/c.js', './missing.js'],
};

/** The violations TREE must produce, as `rule: from -> to`. */
const EXPECTED = [
  'common-imports-nothing-of-ours: common/a.ts -> kiosk/k.ts',
  'no-circular: common/a.ts -> common/b.ts',
  'protocol-imports-nothing-of-ours: protocol/p.ts -> hal/gpio/types.ts',
  'protocol-has-no-io: protocol/io.ts -> execa',
  'hal-imports-nothing-of-ours: hal/usb/u.ts -> kiosk/leaf.ts',
  'hal-device-internals: hal/storage/s.ts -> hal/drives/internal.ts',
  'kiosk-layers: kiosk/k.ts -> cloud-lite/c.ts',
  'kioskctl-never-reaches-hal: kiosk/kioskctl/cli.ts -> hal/gpio/types.ts',
  'kioskctl-and-the-server-apart: kiosk/kioskctl/cli.ts -> kiosk/maintenance/server.ts',
  'kioskctl-and-the-server-apart: kiosk/maintenance/methods.ts -> kiosk/kioskctl/cli.ts',
  'cloud-lite-layers: cloud-lite/c.ts -> hal/usb/u.ts',
  'cloud-lite-store-below-the-domains: cloud-lite/store/st.ts -> cloud-lite/rental/r.ts',
  'cloud-lite-content-apart: cloud-lite/content/ct.ts -> cloud-lite/hub/h.ts',
  'cloud-lite-domains-below-http: cloud-lite/registry/reg.ts -> cloud-lite/http/routes.ts',
  'cloud-lite-domains-below-http: cloud-lite/registry/reg.ts -> fastify',
  'domains-reach-kiosks-through-the-port: cloud-lite/rental/uses-hub.ts -> cloud-lite/hub/h.ts',
  'domains-reach-kiosks-through-the-port: cloud-lite/updates/rollout.ts -> cloud-lite/hub/h.ts',
  'web-is-browser-code: cloud-lite/web/src/w.ts -> cloud-lite/c.ts',
  'not-to-unresolvable: scripts/s.ts -> ./missing.js',
];

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

t.test('each rule reports its violation, and nothing the layers allow', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'import-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [file, imports] of Object.entries(TREE)) {
    mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
    const body = imports.map((s, i) => `import * as m${i} from '${s}';\nvoid m${i};\n`).join('');
    writeFileSync(path.join(dir, file), `${body}export const x = 1;\n`);
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: `${ROOT}/tsconfig.json` }),
  );
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      type: 'module',
      dependencies: { execa: '*', '@sinclair/typebox': '*', fastify: '*' },
    }),
  );
  // The repository's rules; node_modules stays a link (resolved as packages, not as files).
  const config = path.join(dir, 'rules.cjs');
  writeFileSync(
    config,
    `module.exports = { extends: ${JSON.stringify(path.join(ROOT, '.dependency-cruiser.cjs'))}, options: { preserveSymlinks: true } };\n`,
  );
  const bin = path.join(ROOT, 'node_modules/.bin/depcruise');
  const dirs = [...new Set(Object.keys(TREE).map((f) => f.split('/')[0]!))];
  const depcruise = (type: string) =>
    promisify(execFile)(bin, ['--config', config, '--output-type', type, ...dirs], {
      cwd: dir,
      maxBuffer: 64 << 20,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (err: { code: number; stdout: string }) => err,
    );
  const lint = await depcruise('err');
  t.not(lint.code, 0, 'depcruise exits non-zero on violations, as in lint');
  const out = JSON.parse((await depcruise('json')).stdout) as {
    summary: { violations: Violation[] };
  };
  const pkg = (to: string) => to.replace(/^node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, '$1');
  const seen = out.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${pkg(v.to)}`);
  t.same([...new Set(seen)].sort(), [...EXPECTED].sort(), 'exactly the violations planted');
});

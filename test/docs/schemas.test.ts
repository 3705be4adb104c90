// The JSON Schema files in docs/schemas/: one per action request/response and per event type,
// usable by an independent validator (Ajv, draft 2020-12), and kept current by the lint check.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import t from 'tap';
import { signManifest } from '../../kiosk/content/manifest.js';
import {
  type Action,
  EVENT_TYPES,
  type EventType,
  generateSigningKeyPair,
  HUB_TO_KIOSK_ACTIONS,
  KIOSK_TO_HUB_ACTIONS,
} from '../../protocol/index.js';
import {
  actionSchemaPath,
  eventSchemaPath,
  MANIFEST_SCHEMA_PATH,
} from '../../scripts/docs/protocol-schemas.js';
import { generatedFiles, staleFiles, writeGenerated } from '../../scripts/gen-docs.js';
import { actionSamples, eventRequest } from '../protocol/fixtures/samples.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ACTIONS: readonly Action[] = [...KIOSK_TO_HUB_ACTIONS, ...HUB_TO_KIOSK_ACTIONS];

function load(rel: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(ROOT, rel), 'utf8')) as Record<string, unknown>;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
const compile = (rel: string) => ajv.compile(load(rel));

t.test('the committed files accept every valid sample and refuse broken ones', async (t) => {
  for (const a of ACTIONS) {
    const req = compile(actionSchemaPath(a, 'request'));
    const res = compile(actionSchemaPath(a, 'response'));
    for (const sample of actionSamples[a].requests) {
      t.ok(req(sample), `${a} request sample valid: ${ajv.errorsText(req.errors)}`);
      t.notOk(req({ ...sample, unexpected: 1 }), `${a} request with an extra field refused`);
    }
    t.ok(res(actionSamples[a].response), `${a} response sample valid`);
    t.notOk(res([]), `${a} response that is not an object refused`);
  }
  for (const type of EVENT_TYPES) {
    const check = compile(eventSchemaPath(type));
    const ev = eventRequest(type);
    t.ok(check(ev), `${type} event valid: ${ajv.errorsText(check.errors)}`);
    const other: EventType = type === 'DoorChanged' ? 'TamperDetected' : 'DoorChanged';
    t.notOk(check({ ...ev, type: other }), `${type} schema refuses type ${other}`);
    t.notOk(check({ ...ev, seq: 0 }), `${type} schema refuses seq 0`);
  }
  const signedManifest = compile(MANIFEST_SCHEMA_PATH);
  const keys = generateSigningKeyPair();
  const doc = signManifest(
    {
      format: 1,
      contentId: 'films-1',
      version: '3',
      title: 'Films',
      files: [{ path: 'a/b.mkv', size: 3, sha256: 'a'.repeat(64) }],
      totalBytes: 3,
    },
    keys.privateKeyPem,
  );
  t.ok(signedManifest(doc), 'a signed manifest is valid');
  t.notOk(signedManifest({ manifest: doc.manifest }), 'a manifest without sig is refused');
});

// One generation (seconds: it builds a hub) serves every comparison below; the lint command
// run as a child makes its own.
let generated: Record<string, string>;
t.before(async () => {
  generated = await generatedFiles();
});

t.test('the staleness check names a changed, a missing and a leftover file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gen-docs-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeGenerated(dir, generated);
  t.same(await staleFiles(dir, generated), [], 'a fresh generation is current');

  const changed = actionSchemaPath('Dispense', 'request');
  const text = readFileSync(path.join(dir, changed), 'utf8');
  const line = text.split('\n').findIndex((l) => l.includes('"maximum": 3600')) + 1;
  await writeFile(path.join(dir, changed), text.replace('"maximum": 3600', '"maximum": 60'));
  await rm(path.join(dir, 'docs/kioskctl.1.md'));
  await writeFile(path.join(dir, 'docs/schemas/events/Retired.json'), '{}\n');
  const problems = await staleFiles(dir, generated);
  t.same(
    problems.sort(),
    [
      'docs/kioskctl.1.md is missing',
      `${changed} is stale (differs from line ${line})`,
      'docs/schemas/events/Retired.json is no longer generated',
    ].sort(),
  );

  // The command lint runs: exit 1, each stale file named with the command that fixes it.
  const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
  const run = promisify(execFile);
  const err = await run(tsx, [path.join(ROOT, 'scripts/gen-docs.ts'), '--check', '--root', dir], {
    cwd: ROOT,
  }).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  t.equal(err?.code, 1, 'exit code 1');
  t.match(err?.stderr, `${changed} is stale (differs from line ${line}): run npm run gen:docs`);
  t.match(
    err?.stderr,
    'docs/schemas/events/Retired.json is no longer generated: run npm run gen:docs',
  );

  // Regenerating fixes it, leftover included.
  await writeGenerated(dir, generated);
  t.same(await staleFiles(dir, generated), []);
  t.notOk(existsSync(path.join(dir, 'docs/schemas/events/Retired.json')));
});

t.test('the repository is current (what npm run lint checks)', async (t) => {
  t.same(await staleFiles(ROOT, generated), []);
});

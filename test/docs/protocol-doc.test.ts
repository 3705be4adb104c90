// docs/protocol.md against the code: its worked signing example verifies with protocol/signing.ts,
// every action and event has a section listing its fields (and a schema file), every JSON
// example parses and validates against its schema, the protocol features and their baseline are
// the code's, and the numbers a kiosk vendor builds on (limits, close codes, error codes, expiry
// rules) are the code's.
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import t from 'tap';
import { validateConfig } from '../../cloud-lite/config.js';
import { API_ERRORS } from '../../cloud-lite/error-codes.js';
import { EnrolAnswer } from '../../cloud-lite/http/schemas/components.js';
import { MAINTENANCE_ACTIONS } from '../../cloud-lite/http/schemas/fleet.js';
import { ADMIT_WAIT_MS } from '../../cloud-lite/hub/hub.js';
import * as hubTypes from '../../cloud-lite/hub/types.js';
import { SIGNED_ACTIONS } from '../../cloud-lite/hub/types.js';
import { timeOrderedUuid } from '../../common/time-ordered-id.js';
import { KioskConfigSchema } from '../../kiosk/config/schema.js';
import { MAX_EXPIRY_AHEAD_BY_ACTION } from '../../kiosk/handlers/verify-signed.js';
import {
  actionDirection,
  BASELINE_FEATURES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_SKEW_MS,
  ERROR_CODES,
  EVENT_TYPES,
  EventEnvelope,
  eventDataSchemas,
  FEATURE_NAMES,
  FEATURES,
  HUB_TO_KIOSK_ACTIONS,
  hubToKioskActions,
  KIOSK_TO_HUB_ACTIONS,
  kioskToHubActions,
  MAX_MESSAGE_ID_LENGTH,
  parseFrame,
  SUBPROTOCOL,
  signedBytes,
  validateResponse,
  verifyCommand,
} from '../../protocol/index.js';
import { MANIFEST_SIGNING_DOMAIN } from '../../protocol/manifest.js';
import { SlotSnapshot } from '../../protocol/schemas/slot-snapshot.js';
import { actionSchemaPath, eventSchemaPath } from '../../scripts/docs/protocol-schemas.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/protocol.md'), 'utf8');
/** The doc with fenced code removed and whitespace runs folded (prose matches across wraps). */
const PROSE = DOC.replace(/```[\s\S]*?```/g, '').replace(/\s+/g, ' ');

/** The text of a fenced block tagged `<lang> signing-example:<name>`. */
function example(name: string): string {
  const m = new RegExp('```\\w+ signing-example:' + name + '\\n([\\s\\S]*?)\\n```').exec(DOC);
  if (!m) throw new Error(`docs/protocol.md has no signing-example:${name} block`);
  return m[1]!;
}

/** The lines under heading `title` (exact, any level) up to the next heading of that level or higher. */
function section(title: string): string | undefined {
  const lines = DOC.split('\n');
  let inFence = false;
  let start = -1;
  let level = 0;
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('```')) inFence = !inFence;
    const h = inFence ? null : /^(#{1,6}) (.*)$/.exec(line);
    if (start < 0) {
      if (h && h[2] === title) {
        start = 1;
        level = h[1]!.length;
      }
      continue;
    }
    if (h && h[1]!.length <= level) break;
    out.push(line);
  }
  return start < 0 ? undefined : out.join('\n');
}

type Json = Record<string, unknown>;
const plain = (s: TSchema): Json => JSON.parse(JSON.stringify(s)) as Json;
const fields = (s: TSchema): string[] => Object.keys((plain(s).properties as Json) ?? {});

/** Every `const` value anywhere in a schema (enum members). */
function enumValues(s: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(s)) for (const x of s) enumValues(x, out);
  else if (s && typeof s === 'object') {
    for (const [k, v] of Object.entries(s)) {
      if (k === 'const' && typeof v === 'string') out.add(v);
      else enumValues(v, out);
    }
  }
  return out;
}

t.test('the worked signing example verifies with protocol/signing.ts', async (t) => {
  const priv = createPrivateKey(example('private-key'));
  const pub = createPublicKey(example('public-key'));
  const derived = createPublicKey(priv).export({ type: 'spki', format: 'der' });
  t.same(
    pub.export({ type: 'spki', format: 'der' }),
    derived,
    'the public key is the private key’s',
  );
  const jwk = priv.export({ format: 'jwk' }) as { d: string; x: string };
  t.match(
    PROSE,
    `seed is \`${Buffer.from(jwk.d, 'base64url').toString('hex')}\``,
    'seed as stated',
  );
  t.match(PROSE, `raw key \`${Buffer.from(jwk.x, 'base64url').toString('hex')}\``, 'raw key');

  const unsigned = JSON.parse(example('unsigned-payload')) as Json;
  const call = JSON.parse(example('call')) as [number, string, string, Json];
  const { signature, ...rest } = call[3] as { signature: Json } & Json;
  t.same(rest, unsigned, 'the CALL carries the payload shown, plus its signature');
  const { kioskId, expiresAt, nonce, sig } = signature as Record<string, string>;
  t.equal(Buffer.from(nonce!, 'base64url').toString('hex'), '000102030405060708090a0b0c0d0e0f');

  const bytes = signedBytes('Dispense', kioskId!, expiresAt!, nonce!, unsigned);
  t.equal(bytes.toString('utf8'), example('signed-bytes'), 'signed bytes as printed');
  t.match(PROSE, `(${bytes.length} bytes of UTF-8`, 'length as stated');
  const sha = createHash('sha256').update(bytes).digest('hex');
  t.match(PROSE, `SHA-256 \`${sha}\``, 'hash as stated');
  t.equal(sign(null, bytes, priv).toString('base64url'), example('sig'), 'signature as printed');
  t.equal(sig, example('sig'), 'the CALL carries that signature');

  const parsed = parseFrame(example('call'), { direction: 'hubToKiosk' });
  t.ok(parsed.ok, 'the CALL passes the Dispense schema');
  const at = (iso: string) => ({ now: Date.parse(iso) });
  const pem = example('public-key');
  t.ok(verifyCommand(pem, 'kiosk-berlin-01', 'Dispense', call[3], at('2025-06-01T11:02:00Z')).ok);
  t.ok(verifyCommand(pem, 'kiosk-berlin-01', 'Dispense', call[3], at('2025-06-01T12:02:30Z')).ok);
  t.notOk(
    verifyCommand(pem, 'kiosk-berlin-01', 'Dispense', call[3], at('2025-06-01T12:02:30.001Z')).ok,
    'refused after expiresAt + 30 s',
  );
  t.notOk(verifyCommand(pem, 'kiosk-other', 'Dispense', call[3], at('2025-06-01T12:00:00Z')).ok);
  t.notOk(
    verifyCommand(pem, 'kiosk-berlin-01', 'WipeDisk', call[3], at('2025-06-01T12:00:00Z')).ok,
    'the action is signed',
  );
});

t.test('the signing rules stated are the code’s', async (t) => {
  t.equal(DEFAULT_MAX_SKEW_MS, 30_000);
  t.match(PROSE, 'later than `expiresAt` plus 30 s');
  t.equal(MAX_EXPIRY_AHEAD_BY_ACTION.Dispense, 3600_000);
  t.equal(MAX_EXPIRY_AHEAD_BY_ACTION.WipeDisk, 3600_000);
  t.equal(MAX_EXPIRY_AHEAD_BY_ACTION.PrepareDisk, 48 * 3600_000);
  t.match(PROSE, 'more than 1 h for Dispense and WipeDisk, more than 48 h for PrepareDisk');
  t.match(PROSE, `text \`${MANIFEST_SIGNING_DOMAIN.trimEnd()}\` followed by a newline`);
  for (const a of [...KIOSK_TO_HUB_ACTIONS, ...HUB_TO_KIOSK_ACTIONS]) {
    const signed = section(a)?.includes('**Signed.**') ?? false;
    t.equal(signed, SIGNED_ACTIONS.has(a), `${a} is ${SIGNED_ACTIONS.has(a) ? '' : 'not '}signed`);
  }
});

t.test('every action and event has its section, its fields and its schema file', async (t) => {
  const answers = section('Hub to kiosk') ?? '';
  const check = (where: string, text: string | undefined, names: string[]) => {
    t.ok(text !== undefined, `docs/protocol.md has a section "${where}"`);
    for (const f of names) t.match(text ?? '', `\`${f}\``, `${where} documents \`${f}\``);
  };
  for (const a of KIOSK_TO_HUB_ACTIONS) {
    const { request, response } = kioskToHubActions[a];
    const req = a === 'Event' ? fields(EventEnvelope) : fields(request);
    check(a, section(a), [...req, ...fields(response)]);
  }
  for (const a of HUB_TO_KIOSK_ACTIONS) {
    const { request, response } = hubToKioskActions[a];
    check(a, section(a), fields(request));
    check(`Hub to kiosk (answer to ${a})`, answers, fields(response));
  }
  for (const type of EVENT_TYPES) check(type, section(type), fields(eventDataSchemas[type]));
  check('SlotSnapshot', section('SlotSnapshot'), fields(SlotSnapshot));
  for (const a of [...KIOSK_TO_HUB_ACTIONS, ...HUB_TO_KIOSK_ACTIONS]) {
    for (const kind of ['request', 'response'] as const)
      t.ok(existsSync(path.join(ROOT, actionSchemaPath(a, kind))), `${a} ${kind} schema file`);
  }
  for (const type of EVENT_TYPES)
    t.ok(existsSync(path.join(ROOT, eventSchemaPath(type))), `${type} schema file`);
});

t.test('every enum value, error code, close code and limit is in the doc', async (t) => {
  const schemas = [
    ...Object.values(kioskToHubActions).flatMap((a) => [a.request, a.response]),
    ...Object.values(hubToKioskActions).flatMap((a) => [a.request, a.response]),
    ...Object.values(eventDataSchemas),
  ];
  const values = new Set<string>();
  for (const s of schemas) enumValues(plain(s), values);
  for (const v of values) {
    const named = DOC.includes(`\`${v}\``) || DOC.includes(`\n### ${v}\n`);
    t.ok(named, `enum value \`${v}\` is in docs/protocol.md`);
  }

  const errors = section('Error codes') ?? '';
  for (const code of ERROR_CODES) t.match(errors, `| \`${code}\` |`, `error code ${code}`);

  const closes = section('Close codes') ?? '';
  // Every close code the hub sends (CLOSE_* in cloud-lite/hub/types.ts), and the library's.
  const hubCloses = Object.entries(hubTypes)
    .filter(([k, v]) => k.startsWith('CLOSE_') && typeof v === 'number')
    .map(([, v]) => v as number);
  t.ok(hubCloses.length >= 3, `${hubCloses.length} hub close codes`);
  for (const code of [...hubCloses, 1007, 1009])
    t.match(closes, `| ${code} |`, `close code ${code}`);

  const limits = section('Limits') ?? '';
  const row = (name: string) => limits.split('\n').find((l) => l.startsWith(`| ${name} |`)) ?? '';
  t.match(row('message size'), `${DEFAULT_MAX_FRAME_BYTES} bytes`);
  t.match(row('nesting depth'), `${DEFAULT_MAX_DEPTH} levels`);
  t.match(row('message id'), `1..${MAX_MESSAGE_ID_LENGTH} characters`);
  t.match(closes, `larger than ${DEFAULT_MAX_FRAME_BYTES} bytes`);
  // How long a Boot or an upgrade waits for its turn before 1013 / 503 (the hub's admission).
  t.match(closes, `the Boot waited ${ADMIT_WAIT_MS / 1000} s for its turn`);
  t.match(PROSE, `turns away what waited ${ADMIT_WAIT_MS / 1000} s`);
  t.match(DOC, `Sec-WebSocket-Protocol: ${SUBPROTOCOL}`);
  t.match(section('Boot') ?? '', '**seconds**', 'heartbeatInterval is in seconds');

  // Every `details.problem` the hub sends (literals in cloud-lite/hub/) is named in the doc.
  const hubDir = path.join(ROOT, 'cloud-lite/hub');
  const problems = new Set<string>();
  for (const f of readdirSync(hubDir).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(path.join(hubDir, f), 'utf8');
    for (const m of src.matchAll(/problem\??:\s*((?:'[a-z-]+'\s*\|?\s*)+)/g))
      for (const lit of m[1]!.matchAll(/'([a-z-]+)'/g)) problems.add(lit[1]!);
    const union = /export type \w*Problem =([^;]+);/.exec(src)?.[1] ?? '';
    for (const m of union.matchAll(/'([a-z-]+)'/g)) problems.add(m[1]!);
  }
  t.ok(problems.size >= 7, `${problems.size} problem names found in cloud-lite/hub/`);
  for (const p of problems) t.match(DOC, `\`${p}\``, `details.problem \`${p}\` is documented`);

  // Every CALLERROR code the hub answers a kiosk's call with (`new CallError('<code>'` in
  // cloud-lite/hub/) has its row in the Error codes table saying what the hub means by it: a
  // vendor reading only the kiosk's use of a code would not expect it from the hub.
  const hubCodes = new Set<string>();
  for (const f of readdirSync(hubDir).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(path.join(hubDir, f), 'utf8');
    for (const m of src.matchAll(/new CallError\(\s*'([A-Za-z]+)'/g)) hubCodes.add(m[1]!);
  }
  t.ok(hubCodes.size >= 3, `${hubCodes.size} CALLERROR codes found in cloud-lite/hub/`);
  for (const code of hubCodes) {
    const row = errors.split('\n').find((l) => l.startsWith(`| \`${code}\` |`)) ?? '';
    t.match(row, /\bhub\b/, `the Error codes row of ${code} says what the hub answers it to`);
  }

  const hub = validateConfig({ adminToken: 'x'.repeat(16) });
  t.equal(hub.maxPayloadBytes, DEFAULT_MAX_FRAME_BYTES, 'the hub closes at the protocol limit');
  t.match(
    PROSE,
    `hub setting \`heartbeatIntervalSeconds\`, default ${hub.heartbeatIntervalSeconds})`,
  );
  t.match(PROSE, `ping every ${hub.pingIntervalMs / 1000} s (hub setting \`pingIntervalMs\`)`);
  t.equal(hub.commandCallTimeoutMs, 30_000);
  t.match(PROSE, 'A call waits 30 s for its answer');
});

/** Every ```json block of the doc (indented ones too): its info string, text and line. */
function jsonBlocks(): Array<{ info: string; text: string; line: number }> {
  const out: Array<{ info: string; text: string; line: number }> = [];
  const lines = DOC.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^( *)```json(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^ *```\s*$/.test(lines[j]!); j++)
      body.push(lines[j]!.slice(m[1]!.length));
    out.push({ info: m[2]!.trim(), text: body.join('\n'), line: i + 1 });
    i = j;
  }
  return out;
}

/** The JSON values of `text`, one after another (an exchange is written one frame a line). */
function jsonValues(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) inString = true;
    else if (c === '[' || c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === ']' || c === '}') {
      if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c)) throw new Error(`text outside a JSON value: ${c}`);
  }
  if (depth !== 0) throw new Error('a JSON value is not closed');
  return out;
}

t.test('every JSON example parses and validates against its schema', async (t) => {
  const blocks = jsonBlocks();
  const seen = new Set<string>();
  /** message id -> action of every CALL shown so far (an answer may follow in its own block). */
  const calls = new Map<string, string>();
  for (const b of blocks) {
    const where = `docs/protocol.md:${b.line}`;
    let values: unknown[];
    try {
      values = jsonValues(b.text);
    } catch (err) {
      t.fail(`${where}: not JSON: ${(err as Error).message}`);
      continue;
    }
    t.ok(values.length > 0, `${where}: holds JSON`);
    for (const v of values) {
      if (Array.isArray(v)) {
        const text = JSON.stringify(v);
        if (v[0] === 2) {
          const parsed = parseFrame(text, { direction: actionDirection(v[2]) });
          t.ok(parsed.ok, `${where}: ${v[2]} ${parsed.ok ? 'valid' : parsed.error.message}`);
          calls.set(v[1], v[2]);
          seen.add(v[2] === 'Event' ? `Event ${v[3]?.type}` : v[2]);
          for (const f of Object.keys(v[3] ?? {})) seen.add(`${v[2]}.${f}`);
        } else if (v[0] === 3) {
          const action = calls.get(v[1]);
          t.ok(action, `${where}: the CALLRESULT answers a CALL of its example`);
          const r = validateResponse(action as never, v[2]);
          t.ok(r.ok, `${where}: ${action} answer ${r.ok ? 'valid' : r.message}`);
        } else if (v[0] === 4) {
          t.ok(parseFrame(text).ok, `${where}: a well-formed CALLERROR`);
          t.ok(calls.has(v[1]), `${where}: it answers a CALL shown`);
        } else t.fail(`${where}: message type ${v[0]} is not 2, 3 or 4`);
      } else if (b.info.includes('signing-example:unsigned-payload')) {
        // The worked example: checked with its CALL above.
      } else if (v && typeof v === 'object' && 'hubPublicKey' in v) {
        t.ok(
          Value.Check(EnrolAnswer, v),
          `${where}: the enrolment answer matches its route schema`,
        );
        const e = v as { secret: string; hubPublicKey: string };
        t.match(e.secret, /^[A-Za-z0-9_-]{43}$/, 'secret: 43 characters of base64url');
        t.equal(createPublicKey(e.hubPublicKey).asymmetricKeyType, 'ed25519');
      } else t.fail(`${where}: a JSON example this test cannot check: name its schema here`);
    }
  }
  // The messages a vendor is most likely to get wrong have an example each.
  for (const m of [
    'Boot.features',
    'Boot.config',
    'Heartbeat.config',
    'Heartbeat.cache',
    'Dispense',
    'InstallUpdate',
    'ArmPickupCode',
    'UploadDiagnostics',
    'ApplyConfig',
    'Event ConfigApplied',
    'Event DiagnosticsFailed',
  ])
    t.ok(seen.has(m), `an example of ${m}`);
});

t.test('the UUID version of the hub’s command ids is the one the doc names', async (t) => {
  const id = timeOrderedUuid();
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const cancel = { commandId: id, reservationId: 'res-1' };
  t.ok(Value.Check(hubToKioskActions.CancelReservation.request, cancel), 'a valid commandId');
  t.match((section('Hub to kiosk') ?? '').replace(/\s+/g, ' '), 'a lower-case version 7, RFC 9562');
  t.match(section('Shared types') ?? '', 'any version');
});

t.test('the operator commands a vendor tests with are the API’s', async (t) => {
  const text = (section('Hub to kiosk') ?? '').replace(/\s+/g, ' ');
  const m = /An operator can send the maintenance commands (.*?) by hand/s.exec(text);
  const named = [...(m?.[1] ?? '').matchAll(/`([A-Za-z]+)`/g)].map((x) => x[1]!);
  t.same(named.sort(), [...MAINTENANCE_ACTIONS].sort(), 'the actions of the operator command API');
  t.match(text, 'POST /api/operator/kiosks/<id>/commands` with `{"action": ');
});

t.test('several hub URLs: the kioskd settings the doc names are kioskd’s', async (t) => {
  const text = section('Several hub URLs') ?? '';
  t.match(text, 'Stay on the URL that works', 'says to stay on a working URL');
  // `hub.url`, `hub.urls`, `content.origin`: each a key of kioskd's configuration schema
  // (a hub setting is named as one: "the hub setting `content.dir`").
  const keys = [...text.matchAll(/(?<!hub setting\s+)`((?:hub|content)\.[a-zA-Z]+)`/g)].map(
    (m) => m[1]!,
  );
  t.ok(keys.length >= 3, `${keys.length} kioskd settings named`);
  for (const key of keys) {
    const [group, name] = key.split('.') as [string, string];
    const props = (plain(KioskConfigSchema).properties as Json)[group] as Json;
    t.ok(props && name in (props.properties as Json), `${key} is a kioskd setting`);
  }
  t.match(section('Connecting') ?? '', '[Several hub URLs](#several-hub-urls)');
});

t.test('the protocol features, their baseline and the refusal code are documented', async (t) => {
  const text = section('Versions and features') ?? '';
  const rows = new Map(
    text
      .split('\n')
      .map((l) => /^\| `([a-z0-9.-]+)` \|.*\| (yes|no) \|$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2] === 'yes']),
  );
  t.same([...rows.keys()], [...FEATURE_NAMES], 'one row per feature, in order');
  for (const f of FEATURE_NAMES) {
    t.equal(rows.get(f), BASELINE_FEATURES.includes(f), `${f}: baseline as the code says`);
    const spec: { action: string; field?: string } = FEATURES[f];
    const row = text.split('\n').find((l) => l.startsWith(`| \`${f}\` |`)) ?? '';
    t.match(row, spec.action, `${f} names ${spec.action}`);
    if (spec.field) t.match(row, `\`${spec.field}\``, `${f} names the field`);
  }
  t.match(section('Boot') ?? '', '| `features` |', 'Boot documents features');
  t.ok(API_ERRORS.KIOSK_LACKS_FEATURE, 'the hub has the code');
  t.match(text, '409 KIOSK_LACKS_FEATURE');
});

// protocol/features.ts: the feature table names real commands and optional fields, Boot carries
// any well-formed names (unknown ones included), and the helpers the hub decides by.
import t from 'tap';
import {
  BASELINE_FEATURES,
  commandFeature,
  FEATURE_NAMES,
  FEATURES,
  featureFields,
  HUB_TO_KIOSK_ACTIONS,
  hubToKioskActions,
  missingFeatures,
  validateRequest,
  withoutUnsupportedFields,
} from '../../protocol/index.js';

t.test('every feature names a hub -> kiosk command or one of its optional fields', async (t) => {
  for (const name of FEATURE_NAMES) {
    const spec: { action: string; field?: string } = FEATURES[name];
    t.ok(HUB_TO_KIOSK_ACTIONS.includes(spec.action as never), `${name}: ${spec.action}`);
    if (spec.field === undefined) continue;
    const schema = hubToKioskActions[spec.action as keyof typeof hubToKioskActions].request as {
      properties: Record<string, unknown>;
      required?: string[];
    };
    t.ok(spec.field in schema.properties, `${name}: ${spec.action}.${spec.field} exists`);
    t.notOk(schema.required?.includes(spec.field), `${name}: ${spec.field} is optional`);
  }
  t.ok(
    BASELINE_FEATURES.every((f) => FEATURE_NAMES.includes(f)),
    'the baseline is made of known features',
  );
  t.equal(commandFeature('ApplyConfig'), 'apply-config');
  t.equal(commandFeature('PrepareDisk'), undefined, 'PrepareDisk is core; only fields need one');
  t.same(featureFields('PrepareDisk'), [
    ['slot', 'prepare-slot'],
    ['reformatReady', 'prepare-reformat-ready'],
  ]);
});

t.test('Boot accepts any well-formed feature names and refuses malformed lists', async (t) => {
  const boot = { kioskId: 'k1', softwareVersion: '1', slotCount: 4, bootReason: 'PowerOn' };
  t.ok(validateRequest('Boot', boot).ok, 'absent');
  t.ok(validateRequest('Boot', { ...boot, features: [] }).ok, 'empty');
  t.ok(validateRequest('Boot', { ...boot, features: ['apply-config', 'x.new-2'] }).ok, 'unknown');
  for (const [why, features, code] of [
    ['upper case', ['Apply-Config'], 'PropertyConstraintViolation'],
    ['empty name', [''], 'PropertyConstraintViolation'],
    ['65 characters', ['a'.repeat(65)], 'PropertyConstraintViolation'],
    ['65 names', Array.from({ length: 65 }, (_, i) => `f${i}`), 'PropertyConstraintViolation'],
    ['not a list', 'apply-config', 'TypeConstraintViolation'],
  ] as const) {
    const r = validateRequest('Boot', { ...boot, features });
    t.equal(r.ok ? 'ok' : r.code, code, why);
  }
});

t.test('missing features and fields left out', async (t) => {
  const all = new Set<string>(FEATURE_NAMES);
  const none = new Set<string>();
  const prepare = { reservationId: 'r1', slot: 2, reformatReady: { keepReady: 1 } };
  t.same(missingFeatures('PrepareDisk', prepare, all), []);
  t.same(missingFeatures('PrepareDisk', prepare, none), ['prepare-slot', 'prepare-reformat-ready']);
  t.same(missingFeatures('PrepareDisk', { reservationId: 'r1' }, none), [], 'fields absent');
  t.same(missingFeatures('ApplyConfig', {}, none), ['apply-config']);
  t.same(missingFeatures('Dispense', { slot: 1 }, none), [], 'core command');
  const out = withoutUnsupportedFields('PrepareDisk', prepare, new Set(['prepare-slot']));
  t.same(out, { payload: { reservationId: 'r1', slot: 2 }, leftOut: ['reformatReady'] });
  t.same(prepare.reformatReady, { keepReady: 1 }, 'the input is not changed');
});

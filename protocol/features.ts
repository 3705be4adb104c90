/**
 * Protocol features: what a kiosk understands beyond the core protocol, named so that hubs and
 * kiosks of different versions can run side by side (docs/protocol.md "Versions and features").
 *
 * A kiosk lists the features it understands in Boot's `features`. The hub never sends a kiosk a
 * command or an optional field whose feature it did not list: such a command is refused when it
 * is created (KIOSK_LACKS_FEATURE), such a field is left out. A Boot without `features` (a kiosk
 * older than feature negotiation) is taken to understand BASELINE_FEATURES. A name the hub does
 * not know (a newer kiosk's) is ignored, never refused.
 */
/** What one feature enables: a whole command, or one optional field of a command. */
export interface FeatureSpec {
  /**
   * The hub -> kiosk command the feature concerns (a name of actions.ts's hubToKioskActions,
   * which imports this file through the Boot schema: checked by test/protocol/features.test.ts).
   */
  readonly action: string;
  /** The optional field of `action` it enables; absent: the command itself. */
  readonly field?: string;
  /** One sentence for people (docs/protocol.md has the full rule). */
  readonly summary: string;
}

/**
 * Every feature this protocol version names, in the order they were added. A name is never
 * reused for something else, and never removed while a supported kiosk may list it.
 */
export const FEATURES = {
  'prepare-slot': {
    action: 'PrepareDisk',
    field: 'slot',
    summary: 'PrepareDisk names the slot the hub claimed; the kiosk prepares exactly that slot',
  },
  'prepare-reformat-ready': {
    action: 'PrepareDisk',
    field: 'reformatReady',
    summary: 'PrepareDisk may reformat a ready disk of other content, keeping keepReady ready',
  },
  'install-update': {
    action: 'InstallUpdate',
    summary: 'software updates: InstallUpdate and UpdateStatus events',
  },
  'arm-pickup-code': {
    action: 'ArmPickupCode',
    summary: "a reservation's pickup code, checked on the kiosk's keypad",
  },
  'upload-diagnostics': {
    action: 'UploadDiagnostics',
    summary: 'diagnostics bundles and log lines uploaded on request',
  },
  'apply-config': {
    action: 'ApplyConfig',
    summary: 'remote configuration: ApplyConfig, ConfigApplied and ConfigRejected',
  },
} as const satisfies Record<string, FeatureSpec>;

export type Feature = keyof typeof FEATURES;

export const FEATURE_NAMES: readonly Feature[] = Object.freeze(Object.keys(FEATURES) as Feature[]);

/**
 * What a kiosk that sends no `features` understands: the protocol of the oldest kioskd still
 * supported, the first that updates itself in the field (InstallUpdate, 2026-12-06): the core
 * commands, PrepareDisk's `slot` and `reformatReady`, and InstallUpdate. An older kioskd
 * cannot be brought forward by a rollout and is re-flashed instead.
 */
export const BASELINE_FEATURES: readonly Feature[] = Object.freeze([
  'prepare-slot',
  'prepare-reformat-ready',
  'install-update',
] as const);

/** Most names a Boot may list (the schema's maxItems). */
export const MAX_FEATURES = 64;
/** The pattern of a feature name: lower-case words joined by `-` (or `.`), 1..64 characters. */
export const FEATURE_NAME_PATTERN = '^[a-z0-9][a-z0-9.-]*$';

const known: ReadonlySet<string> = new Set(FEATURE_NAMES);

export function isFeature(name: unknown): name is Feature {
  return typeof name === 'string' && known.has(name);
}

/**
 * The features a kiosk is taken to understand: those of `listed` this protocol knows (unknown
 * names are ignored), or BASELINE_FEATURES when it listed none (`undefined` or `null`: a Boot
 * without `features`). An empty list means the core protocol only.
 */
export function kioskFeatures(listed: readonly string[] | null | undefined): ReadonlySet<Feature> {
  const names = listed === null || listed === undefined ? BASELINE_FEATURES : listed;
  // One set per distinct combination, shared (a hub holds one per connected kiosk, and most
  // kiosks list the same features), in FEATURE_NAMES order.
  const known = FEATURE_NAMES.filter((f) => names.includes(f));
  const key = known.join(' ');
  let set = featureSets.get(key);
  if (!set) {
    set = new Set(known);
    featureSets.set(key, set);
  }
  return set;
}
/** The sets kioskFeatures gave, by their names (at most one per subset of FEATURE_NAMES). */
const featureSets = new Map<string, ReadonlySet<Feature>>();

/** Per action: the feature it needs, and its optional fields that need one (FEATURES, once). */
const byAction = new Map<
  string,
  { own: Feature | undefined; fields: ReadonlyArray<[field: string, feature: Feature]> }
>();
function actionFeatures(action: string) {
  let found = byAction.get(action);
  if (!found) {
    const fields: Array<[string, Feature]> = [];
    let own: Feature | undefined;
    for (const f of FEATURE_NAMES) {
      const spec: FeatureSpec = FEATURES[f];
      if (spec.action !== action) continue;
      if (spec.field !== undefined) fields.push([spec.field, f]);
      if (!('field' in spec)) own ??= f;
    }
    found = { own, fields };
    // The actions are the protocol's few; the bound only guards against a caller's garbage.
    if (byAction.size < 256) byAction.set(action, found);
  }
  return found;
}

/** The command feature `action` needs (undefined: a core command every kiosk understands). */
export function commandFeature(action: string): Feature | undefined {
  return actionFeatures(action).own;
}

/** The optional fields of `action` that need a feature, with that feature. */
export function featureFields(action: string): ReadonlyArray<[field: string, feature: Feature]> {
  return actionFeatures(action).fields;
}

/**
 * The features `features` lacks for sending `action` with `payload`: the command's own feature,
 * and those of the optional fields present in `payload`. Empty: the kiosk understands it as is.
 */
export function missingFeatures(
  action: string,
  payload: Record<string, unknown>,
  features: ReadonlySet<string>,
): Feature[] {
  const missing: Feature[] = [];
  const own = commandFeature(action);
  if (own && !features.has(own)) missing.push(own);
  for (const [field, f] of featureFields(action))
    if (payload[field] !== undefined && !features.has(f)) missing.push(f);
  return missing;
}

/**
 * `payload` without the optional fields whose feature `features` lacks, and the names of the
 * fields left out. The command's own feature is not checked here (see missingFeatures).
 */
export function withoutUnsupportedFields<P extends Record<string, unknown>>(
  action: string,
  payload: P,
  features: ReadonlySet<string>,
): { payload: P; leftOut: string[] } {
  const leftOut: string[] = [];
  const out: Record<string, unknown> = { ...payload };
  for (const [field, f] of featureFields(action)) {
    if (out[field] !== undefined && !features.has(f)) {
      delete out[field];
      leftOut.push(field);
    }
  }
  return { payload: out as P, leftOut };
}

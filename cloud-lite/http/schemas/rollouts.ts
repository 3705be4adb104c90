import { Type } from '@sinclair/typebox';
import { UPDATE_STATES } from '../../../protocol/index.js';
import { MAX_INSTALL_WINDOW_SECONDS } from '../../updates/rollouts.js';
import { IsoTime, literals, Nullable } from './common.js';

/** Request and answer schemas of the operator's rollouts (docs/updates.md). */

export const RolloutIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const RolloutBody = Type.Object(
  {
    version: Type.String({ minLength: 1, maxLength: 64 }),
    bundleSha256: Type.String({
      minLength: 64,
      maxLength: 64,
      description: 'a blob of the content store: the RAUC bundle',
    }),
    waves: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 8 }), {
        minItems: 1,
        maxItems: 20,
        description: 'cumulative kiosk counts per wave: "3" kiosks or "10%" of them',
      }),
    ),
    maxFailureRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    installWindowSeconds: Type.Optional(
      Type.Integer({ minimum: 60, maximum: MAX_INSTALL_WINDOW_SECONDS }),
    ),
    kiosks: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 10_000 }),
    ),
  },
  { additionalProperties: false },
);

export const RolloutListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
  { additionalProperties: false },
);

const RolloutStateSchema = literals(['running', 'halted', 'completed', 'cancelled']);
const RolloutKioskStateSchema = literals(['pending', 'sent', ...UPDATE_STATES]);

/** A rollout as stored (cloud-lite/store/repos/rollout-repo.ts). */
export const Rollout = Type.Object(
  {
    id: Type.String(),
    version: Type.String(),
    bundleSha256: Type.String(),
    bundleSize: Type.Integer({ minimum: 0 }),
    waves: Type.Array(Type.Integer({ minimum: 0 }), {
      description: 'cumulative kiosk counts: wave i covers the first waves[i] kiosks',
    }),
    waveSpec: Type.Array(Type.String(), { description: 'what the operator asked for' }),
    maxFailureRate: Type.Number(),
    installWindowSeconds: Type.Integer(),
    currentWave: Type.Integer({
      minimum: 0,
      description: 'index into waves of the wave under way',
    }),
    state: RolloutStateSchema,
    reason: Nullable(Type.String({ description: 'why it halted or ended' })),
    createdBy: Type.String(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  },
  { additionalProperties: false, $id: 'Rollout' },
);

/** One kiosk's part in a rollout. */
export const RolloutKiosk = Type.Object(
  {
    rolloutId: Type.String(),
    kioskId: Type.String(),
    position: Type.Integer({ minimum: 0 }),
    wave: Type.Integer({ minimum: 0 }),
    state: RolloutKioskStateSchema,
    commandId: Nullable(Type.String()),
    attempts: Type.Integer({ minimum: 0 }),
    fromVersion: Nullable(Type.String()),
    code: Nullable(Type.String()),
    reason: Nullable(Type.String()),
    updatedAt: IsoTime,
  },
  { additionalProperties: false, $id: 'RolloutKiosk' },
);

export const RolloutViewAnswer = Type.Object(
  {
    rollout: Rollout,
    kiosks: Type.Array(RolloutKiosk),
    counts: Type.Record(Type.String(), Type.Integer(), { description: 'kiosks per state' }),
  },
  { additionalProperties: false },
);

export const RolloutsList = Type.Object(
  { rollouts: Type.Array(Rollout, { description: 'newest first' }) },
  { additionalProperties: false },
);

/** One step of a kiosk's update history, from its UpdateStatus events (progress collapsed). */
export const UpdateHistoryEntry = Type.Object(
  {
    at: Type.String({ description: "ISO 8601 UTC time: the kiosk's time of the step" }),
    version: Type.String(),
    fromVersion: Type.String(),
    state: literals(UPDATE_STATES),
    percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    code: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    commandId: Type.Optional(Type.String({ description: "absent for a technician's install" })),
  },
  { additionalProperties: false, $id: 'UpdateHistoryEntry' },
);

export const UpdateHistoryAnswer = Type.Object(
  {
    softwareVersion: Nullable(Type.String({ description: 'what the kiosk runs now' })),
    history: Type.Array(UpdateHistoryEntry, { description: 'newest first' }),
  },
  { additionalProperties: false },
);

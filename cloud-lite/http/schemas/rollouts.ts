import { Type } from '@sinclair/typebox';
import { MAX_INSTALL_WINDOW_SECONDS } from '../../updates/rollouts.js';

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

// The answers are described by name only for now (fields as in cloud-lite/updates/rollouts.ts).
const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const RolloutViewAnswer = Type.Object(
  {
    rollout: Loose('the rollout: id, version, bundle, waves, state, times'),
    kiosks: Type.Array(Loose("one kiosk's state in the rollout")),
    counts: Type.Record(Type.String(), Type.Integer(), { description: 'kiosks per state' }),
  },
  { additionalProperties: false },
);

export const RolloutsList = Type.Object(
  { rollouts: Type.Array(Loose('a rollout, newest first')) },
  { additionalProperties: false },
);

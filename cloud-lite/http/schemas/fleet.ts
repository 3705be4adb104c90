import { Type } from '@sinclair/typebox';

/** Request schemas of the fleet API (operators) and of kiosk enrolment (TypeBox, validated by fastify). */

/** Commands an operator may send by hand. */
export const MAINTENANCE_ACTIONS = [
  'DisableSlot',
  'EnableSlot',
  'TriggerMessage',
  'Reset',
  'SetWriteProtect',
] as const;

const KioskId = Type.String({ minLength: 1, maxLength: 64 });
export const FleetIdParams = Type.Object({ id: KioskId });

export const FleetEventsQuery = Type.Object(
  {
    kiosk: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'only this kiosk' }),
    ),
  },
  { additionalProperties: false },
);

export const CreateKioskBody = Type.Object(
  { id: KioskId, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

export const CommandBody = Type.Object(
  {
    action: Type.Union(MAINTENANCE_ACTIONS.map((a) => Type.Literal(a))),
    payload: Type.Record(Type.String(), Type.Unknown(), {
      description:
        "the action's request without commandId (the hub sets it): docs/schemas/hub-to-kiosk/<action>.request.json",
    }),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 })),
  },
  { additionalProperties: false },
);

export const CommandListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    before: Type.Optional(
      Type.String({ maxLength: 64, description: 'createdAt of the last command seen (paging)' }),
    ),
  },
  { additionalProperties: false },
);

export const EventListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: 'events after this seq' })),
  },
  { additionalProperties: false },
);

export const EnrolBody = Type.Object(
  {
    kioskId: KioskId,
    token: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);

export const ProviderParams = Type.Object({ provider: Type.String({ maxLength: 32 }) });

/** The content origin's paths (an unknown form answers 404, as an unknown content would). */
export const ManifestParams = Type.Object({
  id: Type.String({ maxLength: 100 }),
  version: Type.String({ maxLength: 100 }),
});
export const BlobParams = Type.Object({
  hash: Type.String({ maxLength: 100, description: 'SHA-256, 64 lowercase hex' }),
});

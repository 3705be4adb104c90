// JSON Schema files (draft 2020-12) of the kiosk <-> hub wire contract, generated from the
// TypeBox schemas in protocol/: one file per action's request and response, one per event
// type (the whole `Event` payload for that type), and the content origin's signed manifest.
// Each file stands alone (no $ref), so a kiosk vendor can validate with any JSON Schema tool.
import type { TSchema } from '@sinclair/typebox';
import {
  EVENT_TYPES,
  EventEnvelope,
  type EventType,
  eventDataSchemas,
  HUB_TO_KIOSK_ACTIONS,
  hubToKioskActions,
  KIOSK_TO_HUB_ACTIONS,
  kioskToHubActions,
} from '../../protocol/index.js';
import { SignedManifestSchema } from '../../protocol/manifest.js';

export const SCHEMA_DIR = 'docs/schemas';
const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export type SchemaKind = 'request' | 'response';

/** Repository path of an action's request or response schema. */
export function actionSchemaPath(action: string, kind: SchemaKind): string {
  const dir = Object.hasOwn(kioskToHubActions, action) ? 'kiosk-to-hub' : 'hub-to-kiosk';
  return `${SCHEMA_DIR}/${dir}/${action}.${kind}.json`;
}

/** Repository path of one event type's schema (the `Event` request carrying that type). */
export function eventSchemaPath(type: EventType): string {
  return `${SCHEMA_DIR}/events/${type}.json`;
}

export const MANIFEST_SCHEMA_PATH = `${SCHEMA_DIR}/content/signed-manifest.json`;

/** The schema as plain JSON (TypeBox's symbol keys dropped), under a header. */
function file(title: string, description: string, schema: TSchema): string {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return `${JSON.stringify({ $schema: DIALECT, title, description, ...plain }, null, 2)}\n`;
}

/** The `Event` payload of one type: the envelope with `type` fixed and `data` filled in. */
function eventVariant(type: EventType): TSchema {
  const env = JSON.parse(JSON.stringify(EventEnvelope)) as {
    properties: Record<string, unknown>;
  };
  const data = JSON.parse(JSON.stringify(eventDataSchemas[type])) as unknown;
  return {
    ...env,
    properties: { ...env.properties, type: { const: type, type: 'string' }, data },
  } as unknown as TSchema;
}

/** Every generated schema file: repository path -> text. */
export function protocolSchemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  const actions = [
    ...KIOSK_TO_HUB_ACTIONS.map((a) => [a, kioskToHubActions[a], 'kiosk -> hub'] as const),
    ...HUB_TO_KIOSK_ACTIONS.map((a) => [a, hubToKioskActions[a], 'hub -> kiosk'] as const),
  ];
  for (const [action, { request, response }, way] of actions) {
    out[actionSchemaPath(action, 'request')] = file(
      `${action} request`,
      `CALL payload of ${action} (${way}); see docs/protocol.md#${action.toLowerCase()}.`,
      request,
    );
    out[actionSchemaPath(action, 'response')] = file(
      `${action} response`,
      `CALLRESULT payload answering ${action}; see docs/protocol.md#${action.toLowerCase()}.`,
      response,
    );
  }
  for (const type of EVENT_TYPES) {
    out[eventSchemaPath(type)] = file(
      `Event ${type}`,
      `Payload of an Event CALL whose type is ${type}; see docs/protocol.md#${type.toLowerCase()}.`,
      eventVariant(type),
    );
  }
  out[MANIFEST_SCHEMA_PATH] = file(
    'Signed content manifest',
    'What the content origin serves at /content/<contentId>/<version>/manifest.json; see docs/protocol.md#content-origin.',
    SignedManifestSchema,
  );
  return out;
}

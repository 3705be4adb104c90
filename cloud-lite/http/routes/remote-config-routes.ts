import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  type KioskConfigView,
  type RemoteConfigService,
  SETTING_DESCRIPTIONS,
} from '../../registry/remote-config.js';
import { FLEET_SCOPE, type RemoteConfigRecord } from '../../store/types.js';
import { actorOf } from '../guard.js';
import { Exact, IsoTime, literals, Nullable, route } from '../schemas/common.js';
import { FleetIdParams } from '../schemas/fleet.js';

const Settings = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'setting key -> value; the keys and values kioskd takes are listed in `settingKeys` (docs/protocol.md ApplyConfig)',
});
const SetBody = Exact({
  settings: Settings,
  expectedVersion: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'the version the edit started from (0: none yet); another one answers CONFIG_CHANGED',
    }),
  ),
});
const Scope = Exact({
  scope: Type.String({ description: '`*` for the fleet default, else the kiosk id' }),
  settings: Settings,
  version: Type.Integer(),
  updatedBy: Type.String({ description: 'audit actor: user:<id>, admin-token' }),
  updatedAt: IsoTime,
});
const KioskConfig = Exact({
  kioskId: Type.String(),
  desired: Exact({ version: Type.Integer(), settings: Settings }),
  own: Nullable(Scope),
  applied: Nullable(
    Exact({ version: Type.Integer(), restartPending: Type.Boolean(), reportedAt: IsoTime }),
  ),
  rejected: Nullable(
    Exact({
      version: Type.Integer(),
      code: Type.String(),
      reason: Type.String(),
      errors: Type.Array(Exact({ key: Type.String(), message: Type.String() })),
    }),
  ),
  state: literals(
    ['in_sync', 'restart_pending', 'pending', 'rejected', 'unknown'] as const,
    'in_sync: the kiosk runs its desired version; restart_pending: it does, some settings wait for a restart; pending: not there yet; rejected: it refused the desired version; unknown: it never reported',
  ),
});
const SettingKey = Exact({
  key: Type.String(),
  applies: literals(['now', 'restart'] as const, 'when kioskd puts a change into effect'),
  description: Type.String(),
});
const FleetAnswer = Exact({
  fleet: Nullable(Scope),
  settingKeys: Type.Array(SettingKey),
  kiosks: Type.Array(KioskConfig),
});
const KioskAnswer = Exact({ config: KioskConfig, settingKeys: Type.Array(SettingKey) });
const ScopeAnswer = Exact({ config: Scope });

const scopeView = (r: RemoteConfigRecord) => ({ ...r });
const kioskView = (v: KioskConfigView) => ({ ...v, own: v.own ? scopeView(v.own) : null });

/**
 * Remote configuration: the fleet default and per-kiosk settings operators may change, what
 * each kiosk runs (docs/remote-operations.md).
 */
export function registerRemoteConfigRoutes(
  fastify: FastifyInstance,
  deps: { remoteConfig: RemoteConfigService },
): void {
  const rc = deps.remoteConfig;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['fleet'];
  app.get(
    '/api/operator/config',
    route({
      method: 'GET',
      summary:
        'Remote configuration: the fleet default, the settings allowed, desired vs applied per kiosk',
      tags,
      access: 'operator',
      response: { 200: FleetAnswer },
    }),
    async () => {
      const { fleet, kiosks } = await rc.fleet();
      return {
        fleet: fleet ? scopeView(fleet) : null,
        settingKeys: SETTING_DESCRIPTIONS,
        kiosks: kiosks.map(kioskView),
      };
    },
  );
  app.post(
    '/api/operator/config',
    route({
      method: 'POST',
      summary: 'Replace the fleet-default remote settings (sent to every kiosk)',
      description:
        'The settings replace the fleet default as a whole (a key left out goes back to each kiosk’s own file). Checked against the allow-list and kioskd’s schemas; every kiosk gets ApplyConfig with its desired settings (fleet default, its own on top) at once or when it reconnects. Audited (`config.set`).',
      tags,
      access: 'operator',
      body: SetBody,
      response: { 200: ScopeAnswer },
      errors: ['INVALID_SETTINGS', 'CONFIG_CHANGED'],
    }),
    async (req) => ({
      config: scopeView(
        await rc.set(FLEET_SCOPE, req.body.settings, actorOf(req), req.body.expectedVersion),
      ),
    }),
  );
  app.get(
    '/api/operator/kiosks/:id/config',
    route({
      method: 'GET',
      summary:
        "A kiosk's remote configuration: its own settings, the desired ones, what it runs or refused",
      tags,
      access: 'operator',
      params: FleetIdParams,
      response: { 200: KioskAnswer },
      errors: ['NOT_FOUND'],
    }),
    async (req) => ({
      config: kioskView(await rc.kiosk(req.params.id)),
      settingKeys: SETTING_DESCRIPTIONS,
    }),
  );
  app.post(
    '/api/operator/kiosks/:id/config',
    route({
      method: 'POST',
      summary: "Replace a kiosk's own remote settings (on top of the fleet default)",
      description:
        'The settings replace the kiosk’s own as a whole (`{}` leaves the fleet default alone in force). Checked against the allow-list and kioskd’s schemas; refused (KIOSK_LACKS_FEATURE) when the kiosk’s software does not list the protocol feature a setting it sets (added or changed) needs (`apply-config`): removing settings, `{}` among them, needs none; the kiosk gets ApplyConfig at once or when it reconnects. Audited (`config.set`).',
      tags,
      access: 'operator',
      params: FleetIdParams,
      body: SetBody,
      response: { 200: ScopeAnswer },
      errors: ['INVALID_SETTINGS', 'CONFIG_CHANGED', 'KIOSK_LACKS_FEATURE', 'NOT_FOUND'],
    }),
    async (req) => ({
      config: scopeView(
        await rc.set(req.params.id, req.body.settings, actorOf(req), req.body.expectedVersion),
      ),
    }),
  );
}

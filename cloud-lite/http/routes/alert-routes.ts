/**
 * The operator's alerts (cloud-lite/alerts/; docs/alerts-and-notifications.md):
 *
 *   GET  /api/operator/alerts                  ?state=open,acknowledged (default) &limit
 *   GET  /api/operator/alerts/events           the live alerts, again after every change (SSE)
 *   POST /api/operator/alerts/:id/acknowledge  open -> acknowledged (stops the reminders)
 *   POST /api/operator/alerts/:id/resolve      open/acknowledged -> resolved
 *
 * Access operator; acknowledging and resolving are audited with who acted. Refusals:
 * NOT_FOUND, ALERT_STATE.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type AlertService, alertView } from '../../alerts/alert-service.js';
import type { AlertState } from '../../store/types.js';
import { actorOf } from '../guard.js';
import { EventStream, route } from '../schemas/common.js';
import { streamSnapshots } from '../sse.js';

const tags = ['alerts'];
const LIVE: readonly AlertState[] = ['open', 'acknowledged'];
const AlertRef = Type.Ref('Alert');
const AlertIdParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
const AlertListQuery = Type.Object(
  {
    state: Type.Optional(
      Type.String({
        pattern: '^(open|acknowledged|resolved)(,(open|acknowledged|resolved))*$',
        description: 'comma-separated states; default `open,acknowledged`',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
const AlertsList = Type.Object({ alerts: Type.Array(AlertRef) }, { additionalProperties: false });
const AlertAnswer = Type.Object({ alert: AlertRef }, { additionalProperties: false });

export function registerAlertRoutes(
  fastify: FastifyInstance,
  deps: { alerts: AlertService },
): void {
  const { alerts } = deps;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/operator/alerts',
    route({
      method: 'GET',
      summary: 'Alerts, newest first (live ones by default)',
      tags,
      access: 'operator',
      querystring: AlertListQuery,
      response: { 200: AlertsList },
    }),
    async (req) => {
      const states = req.query.state
        ? ([...new Set(req.query.state.split(','))] as AlertState[])
        : LIVE;
      return {
        alerts: (await alerts.list(states, req.query.limit ?? 200)).map(alertView),
      } as never;
    },
  );
  app.get(
    '/api/operator/alerts/events',
    route({
      method: 'GET',
      summary: 'The live alerts as Server-Sent Events',
      description:
        'One `event: alerts` message with `data: {"alerts": [<Alert>, ...]}` (the open and acknowledged alerts, newest first) at once and after every change of any alert, made by any hub process of a cluster. `: keep-alive` comments every 15 s.',
      tags,
      access: 'operator',
      response: { 200: EventStream('alerts', 'Alert') },
    }),
    async (req, reply) => {
      await streamSnapshots(req, reply, {
        emitter: alerts,
        change: 'live',
        name: 'alerts',
        load: async () => (await alerts.list(LIVE, 200)).map(alertView),
      });
    },
  );
  for (const verb of ['acknowledge', 'resolve'] as const)
    app.post(
      `/api/operator/alerts/:id/${verb}`,
      route({
        method: 'POST',
        summary:
          verb === 'acknowledge'
            ? 'Acknowledge an open alert (open -> acknowledged; no more reminders)'
            : 'Resolve a live alert (open or acknowledged -> resolved)',
        description:
          verb === 'resolve'
            ? 'A cause that is still there opens a new alert at the next look at the facts.'
            : undefined,
        tags,
        access: 'operator',
        params: AlertIdParams,
        response: { 200: AlertAnswer },
        errors: ['NOT_FOUND', 'ALERT_STATE'],
      }),
      async (req) => {
        const who = actorOf(req);
        const a =
          verb === 'acknowledge'
            ? await alerts.acknowledge(req.params.id, who)
            : await alerts.resolve(req.params.id, who);
        return { alert: alertView(a) } as never;
      },
    );
}

import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../lib/format.js';
import type { Alert } from '../lib/types.js';
import { Badge, Button, ErrorBox } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useFollow } from '../ui/use-follow.js';

/**
 * The live alerts (open and acknowledged), followed over the alerts stream
 * (GET /api/operator/alerts/events, which every hub process serves with the whole cluster's
 * changes; polling when it breaks).
 */
export function useAlerts() {
  const api = useApi();
  return useFollow<Alert[]>({
    api,
    load: async () =>
      (await api.request<{ alerts: Alert[] }>('GET', '/api/operator/alerts')).alerts,
    streamPath: '/api/operator/alerts/events',
    key: 'alerts',
    isDone: () => false,
    pollMs: 5000,
  });
}

/**
 * The attention panel: the live alerts (useAlerts), each by its kind in words with the hub's
 * message, with Acknowledge and Resolve. docs/alerts-and-notifications.md says what raises and
 * resolves each kind.
 */
export function AlertsPanel({ follow }: { follow: ReturnType<typeof useAlerts> }) {
  const api = useApi();
  const { value, error, live } = follow;
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const act = async (a: Alert, verb: 'acknowledge' | 'resolve') => {
    setBusy(`${a.id}/${verb}`);
    setActionError(undefined);
    try {
      await api.request('POST', `/api/operator/alerts/${a.id}/${verb}`);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(undefined);
    }
  };
  const alerts = value ?? [];
  return (
    <section class="alerts" aria-labelledby="alerts-title">
      <h2 id="alerts-title">
        {t('alerts.title')}{' '}
        {alerts.length > 0 ? (
          <Badge tone="bad">{t('alerts.live', { count: alerts.length })}</Badge>
        ) : (
          <Badge tone="ok">{t('alerts.none')}</Badge>
        )}{' '}
        {live ? <small>{t('alerts.streaming')}</small> : null}
      </h2>
      <ErrorBox error={error} />
      <ErrorBox error={actionError} />
      {alerts.length > 0 ? (
        <div class="table-wrap">
          <table class="alerts">
            <thead>
              <tr>
                <th scope="col">{t('alerts.colSeverity')}</th>
                <th scope="col">{t('alerts.colWhat')}</th>
                <th scope="col">{t('alerts.colSince')}</th>
                <th scope="col">{t('alerts.colState')}</th>
                <th scope="col">{t('alerts.colActions')}</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((a) => (
                <tr key={a.id} data-alert-kind={a.kind}>
                  <td>
                    <Badge tone={a.severity === 'critical' ? 'bad' : 'warn'}>
                      {t(`alerts.severity.${a.severity}`, { defaultValue: a.severity })}
                    </Badge>
                  </td>
                  <td>
                    <strong>{t(`alerts.kind.${a.kind}`, { defaultValue: a.kind })}</strong>{' '}
                    {a.message}
                  </td>
                  <td>{formatDateTime(a.openedAt)}</td>
                  <td>
                    {t(`alerts.state.${a.state}`, { defaultValue: a.state })}
                    {a.acknowledgedBy ? ` ${t('alerts.by', { who: a.acknowledgedBy })}` : ''}
                  </td>
                  <td>
                    {a.state === 'open' ? (
                      <Button
                        busy={busy === `${a.id}/acknowledge`}
                        onClick={() => act(a, 'acknowledge')}
                      >
                        {t('alerts.acknowledge')}
                      </Button>
                    ) : null}{' '}
                    <Button busy={busy === `${a.id}/resolve`} onClick={() => act(a, 'resolve')}>
                      {t('alerts.resolve')}
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

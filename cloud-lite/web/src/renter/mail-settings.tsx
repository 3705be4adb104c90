import { useEffect, useState } from 'preact/hooks';
import { LANGUAGES, type Language, language, t } from '../i18n/i18n.js';
import type { NotificationSettings } from '../lib/types.js';
import { Button, ErrorBox, LiveStatus, Loading } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';

type Kind = keyof NotificationSettings['kinds'];
const KINDS: Kind[] = ['due_tomorrow', 'overdue', 'reservation_ready', 'reservation_expiring'];

/**
 * The renter's e-mail settings on /me (GET/POST /api/me/notifications): which e-mails besides
 * receipts they get (what the e-mails' unsubscribe links turned off shows here, and can be
 * turned on again) and the language the e-mails are written in.
 */
export function MailSettings() {
  const api = useApi();
  const saved = useAsync(() => api.myNotifications(), []);
  const [f, setF] = useState<NotificationSettings>();
  const [stored, setStored] = useState<NotificationSettings>();
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (saved.data) {
      setF(saved.data);
      setStored(saved.data);
    }
  }, [saved.data]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!f) return;
    setBusy(true);
    setError(undefined);
    setStatus('');
    try {
      const now = await api.setMyNotifications({ language: f.language, kinds: f.kinds });
      setF(now);
      setStored(now);
      setStatus(t('mail.saved'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  // What is off as stored (an unsubscribe link's effect), not what the boxes say before saving.
  const off = KINDS.filter((k) => stored && !stored.kinds[k]);
  const list = new Intl.ListFormat(language(), { type: 'conjunction' });
  return (
    <section class="card" aria-labelledby="mail-title">
      <h2 id="mail-title">{t('mail.title')}</h2>
      <p>{t('mail.intro')}</p>
      {saved.loading && !saved.data ? <Loading what={t('mail.loading')} /> : null}
      <ErrorBox error={saved.error} />
      {f ? (
        <form onSubmit={submit} noValidate>
          <fieldset>
            <legend>{t('mail.kindsLegend')}</legend>
            {KINDS.map((k) => (
              <div class="field check" key={k}>
                <input
                  type="checkbox"
                  id={`mail-${k}`}
                  checked={f.kinds[k]}
                  onChange={(e) =>
                    setF({
                      ...f,
                      kinds: { ...f.kinds, [k]: (e.currentTarget as HTMLInputElement).checked },
                    })
                  }
                />
                <label for={`mail-${k}`}>{t(`mail.kind.${k}`)}</label>
              </div>
            ))}
          </fieldset>
          <p class="muted" data-testid="mail-state">
            {off.length
              ? t('mail.unsubscribed', { kinds: list.format(off.map((k) => t(`mail.kind.${k}`))) })
              : t('mail.allOn')}
          </p>
          <div class="field">
            <label for="mail-language">{t('mail.language')}</label>
            <select
              id="mail-language"
              value={f.language}
              onChange={(e) =>
                setF({ ...f, language: (e.currentTarget as HTMLSelectElement).value as Language })
              }
            >
              {(Object.keys(LANGUAGES) as Language[]).map((l) => (
                <option key={l} value={l} lang={l}>
                  {LANGUAGES[l]}
                </option>
              ))}
            </select>
          </div>
          <ErrorBox error={error} />
          <Button type="submit" busy={busy}>
            {t('mail.save')}
          </Button>
          <LiveStatus>{status}</LiveStatus>
        </form>
      ) : null}
    </section>
  );
}

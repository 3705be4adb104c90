import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDateTime, formatMoney, moneyForInput, parseMoney } from '../lib/format.js';
import type { RentalSettings, RentalSettingsBody } from '../lib/types.js';
import { Button, ErrorBox, Field, focusFirstInvalid, LiveStatus } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';

const KEYS = ['depositMinor', 'overdueFeePerDayMinor', 'lostDiskChargeMinor'] as const;
type Key = (typeof KEYS)[number];
const LABEL: Record<Key, 'rs.deposit' | 'rs.lateFee' | 'rs.lostCharge'> = {
  depositMinor: 'rs.deposit',
  overdueFeePerDayMinor: 'rs.lateFee',
  lostDiskChargeMinor: 'rs.lostCharge',
};
const HINT: Record<Key, 'rs.depositHint' | 'rs.lateFeeHint' | 'rs.lostChargeHint'> = {
  depositMinor: 'rs.depositHint',
  overdueFeePerDayMinor: 'rs.lateFeeHint',
  lostDiskChargeMinor: 'rs.lostChargeHint',
};

const asInput = (s: RentalSettings) =>
  Object.fromEntries(KEYS.map((k) => [k, moneyForInput(s[k])])) as Record<Key, string>;

/**
 * The rental terms on /ops (docs/money-and-limits.md, "Rental settings"): the deposit, the late
 * fee per day and the lost-disk charge, stored by the hub. Saving first shows what changes and
 * says that only new rentals get it; the operator confirms.
 */
export function RentalSettingsForm() {
  const api = useApi();
  const current = useAsync(() => api.opsRentalSettings(), []);
  const [f, setF] = useState<Record<Key, string>>();
  const [errs, setErrs] = useState<Partial<Record<Key, string>>>({});
  const [pending, setPending] = useState<RentalSettingsBody>();
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const s = current.data;
  useEffect(() => {
    if (s) setF(asInput(s));
  }, [s]);
  useEffect(() => {
    // Focus on the next thing to do: the confirmation.
    if (pending) document.getElementById('rs-confirm-yes')?.focus();
  }, [pending]);
  const money = (minor: number) => formatMoney(minor, s?.currency);

  const review = (e: Event) => {
    e.preventDefault();
    if (!f || !s) return;
    setError(undefined);
    setStatus('');
    const parsed = Object.fromEntries(KEYS.map((k) => [k, parseMoney(f[k])])) as Record<
      Key,
      number | undefined
    >;
    const next: Partial<Record<Key, string>> = {};
    for (const k of KEYS) {
      const v = parsed[k];
      if (v === undefined)
        next[k] = t(k === 'depositMinor' ? 'rs.depositInvalid' : 'rs.amountInvalid');
      else if (k === 'depositMinor' && v < 1) next[k] = t('rs.depositInvalid');
    }
    setErrs(next);
    if (Object.values(next).some(Boolean)) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    const body = parsed as RentalSettingsBody;
    if (KEYS.every((k) => body[k] === s[k])) {
      setStatus(t('rs.noChange'));
      return;
    }
    setPending(body);
  };

  const save = async () => {
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.opsPutRentalSettings(pending);
      setPending(undefined);
      setStatus(t('rs.saved'));
      current.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="rs-title">
      <h2 id="rs-title">{t('rs.title')}</h2>
      <p>{t('rs.intro')}</p>
      <ErrorBox error={current.error} />
      {s && f ? (
        <form id="rs-form" class="card" onSubmit={review} noValidate>
          <p class="muted" data-testid="rs-source">
            {s.updatedBy === 'config'
              ? t('rs.fromConfig')
              : t('rs.lastChanged', { at: formatDateTime(s.updatedAt), who: s.updatedBy })}
          </p>
          {KEYS.map((k) => (
            <Field
              key={k}
              id={`rs-${k}`}
              label={t(LABEL[k])}
              hint={t(HINT[k], { currency: s.currency })}
              error={errs[k]}
              inputMode="decimal"
              value={f[k]}
              readOnly={!!pending}
              onInput={(v) => setF({ ...f, [k]: v })}
            />
          ))}
          {pending ? (
            <section class="card" aria-labelledby="rs-confirm-title">
              <h3 id="rs-confirm-title">{t('rs.confirmTitle')}</h3>
              <ul>
                {KEYS.filter((k) => pending[k] !== s[k]).map((k) => (
                  <li key={k} data-change={k}>
                    {t('rs.change', {
                      what: t(LABEL[k]),
                      from: money(s[k]),
                      to: money(pending[k]),
                    })}
                  </li>
                ))}
              </ul>
              <p>{t('rs.confirmNote')}</p>
              <Button id="rs-confirm-yes" class="primary" busy={busy} onClick={save}>
                {t('rs.confirmYes')}
              </Button>{' '}
              <Button onClick={() => setPending(undefined)}>{t('common.cancel')}</Button>
            </section>
          ) : (
            <Button type="submit">{t('rs.review')}</Button>
          )}
          <ErrorBox error={error} />
          <LiveStatus>{status}</LiveStatus>
        </form>
      ) : null}
    </section>
  );
}

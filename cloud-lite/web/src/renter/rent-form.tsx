import { useMemo, useState } from 'preact/hooks';
import type { RentRequest } from '../lib/api-client.js';
import { type CardInput, parseCard } from '../lib/card.js';
import { formatBytes, formatMoney, formatWriteProtect, totalPrice } from '../lib/format.js';
import { IdempotencyKeys } from '../lib/idempotency.js';
import type { DiskType } from '../lib/types.js';
import { CardFields, EMPTY_CARD } from '../ui/card-fields.js';
import { Button, ErrorBox } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { navigate } from '../ui/router.js';

/**
 * Days, write protection and card for one disk type, then the 2nd instruction (rent now:
 * POST /api/orders) or the 4th (reserve: POST /api/reservations). A retry of the same
 * request reuses its idempotency key.
 */
export function RentForm({
  kioskId,
  type,
  mode,
  onCancel,
}: {
  kioskId: string;
  type: DiskType;
  mode: 'rent' | 'reserve';
  onCancel: () => void;
}) {
  const api = useApi();
  const keys = useMemo(() => new IdempotencyKeys(), []);
  const [days, setDays] = useState(type.defaultDays);
  const [wp, setWp] = useState(type.writeProtect !== 'off');
  const [card, setCard] = useState<CardInput>(EMPTY_CARD);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const writeProtect =
    type.writeProtect === 'forced' ? true : type.writeProtect === 'off' ? false : wp;

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const parsed = parseCard(card);
    if ('error' in parsed) {
      setError(new Error(parsed.error));
      return;
    }
    if (!Number.isInteger(days) || days < 1 || days > type.maxDays) {
      setError(new Error(`Choose 1 to ${type.maxDays} days.`));
      return;
    }
    const req: RentRequest = {
      kioskId,
      diskTypeId: type.id,
      writeProtect,
      days,
      card: parsed.card,
      ...(card.save ? { saveCard: true } : {}),
    };
    setBusy(true);
    try {
      if (mode === 'rent') {
        const order = await api.createOrder(req, keys.keyFor(req));
        navigate(`/orders/${encodeURIComponent(order.id)}`);
      } else {
        const r = await api.createReservation(req, keys.keyFor(req));
        navigate(`/reservations/${encodeURIComponent(r.id)}`);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const title = `${formatBytes(type.capacityBytes)} · ${type.contentTitle}`;
  return (
    <section class="card" aria-labelledby="rent-title">
      <h2 id="rent-title">
        {mode === 'rent' ? 'Rent' : 'Reserve'}: {title}
      </h2>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="days">Rental days (1 to {type.maxDays})</label>
          <input
            id="days"
            type="number"
            min={1}
            max={type.maxDays}
            required
            value={String(days)}
            onInput={(e) => setDays(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </div>
        <div class="field check">
          <input
            id="wp"
            type="checkbox"
            checked={writeProtect}
            disabled={type.writeProtect !== 'allowed'}
            onChange={(e) => setWp((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="wp">Write-protected (read-only)</label>
          {type.writeProtect !== 'allowed' ? (
            <small class="hint">This disk is always {formatWriteProtect(type.writeProtect)}.</small>
          ) : null}
        </div>
        <p class="total">
          Total:{' '}
          <strong>
            {Number.isFinite(days) && days > 0
              ? formatMoney(totalPrice(type.pricePerDayMinor, days), type.currency)
              : '–'}
          </strong>{' '}
          <span class="muted">({formatMoney(type.pricePerDayMinor, type.currency)} per day)</span>
        </p>
        <CardFields value={card} onChange={setCard} />
        <ErrorBox error={error} />
        <div class="actions">
          <Button type="submit" class="primary" busy={busy}>
            {mode === 'rent' ? 'Pay and take the disk' : 'Pay and reserve'}
          </Button>
          <Button onClick={onCancel}>Back</Button>
        </div>
      </form>
    </section>
  );
}

import { formatBytes, formatMoney, formatWriteProtect } from '../lib/format.js';
import type { DiskType } from '../lib/types.js';

/** The disks a kiosk offers: capacity, content, write protection, days, price, stock. */
export function DiskTypeList({
  types,
  mode,
  disabled,
  onChoose,
}: {
  types: DiskType[];
  mode: 'rent' | 'reserve';
  disabled: boolean;
  onChoose: (t: DiskType) => void;
}) {
  if (types.length === 0) return <p>This kiosk offers no disks right now.</p>;
  return (
    <ul class="disk-types">
      {types.map((t) => {
        const soldOut = mode === 'rent' ? t.available === 0 : t.reservable === 0;
        return (
          <li key={t.id} class="card disk-type" data-disk-type={t.id}>
            <h3>
              {formatBytes(t.capacityBytes)} · {t.contentTitle}
            </h3>
            <dl>
              <dt>Write protection</dt>
              <dd>{formatWriteProtect(t.writeProtect)}</dd>
              <dt>Days</dt>
              <dd>
                {t.defaultDays} by default, up to {t.maxDays}
              </dd>
              <dt>Price</dt>
              <dd>{formatMoney(t.pricePerDayMinor, t.currency)} per day</dd>
              <dt>Ready now</dt>
              <dd>{t.available}</dd>
              {mode === 'reserve' ? (
                <>
                  <dt>Can be reserved</dt>
                  <dd>{t.reservable}</dd>
                </>
              ) : null}
            </dl>
            <button
              type="button"
              class="primary"
              disabled={disabled || soldOut}
              aria-label={`${mode === 'rent' ? 'Rent' : 'Reserve'} ${formatBytes(t.capacityBytes)} ${t.contentTitle}`}
              onClick={() => onChoose(t)}
            >
              {soldOut ? 'None left' : mode === 'rent' ? 'Rent this disk' : 'Reserve this disk'}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

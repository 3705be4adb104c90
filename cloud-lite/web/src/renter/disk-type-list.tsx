import { t } from '../i18n/i18n.js';
import { formatBytes, formatMoney, formatWriteProtect } from '../lib/format.js';
import type { DiskType } from '../lib/types.js';

/** A disk type's name: capacity and content title ('1 TB · Maps of Europe'). */
export function diskTypeName(d: Pick<DiskType, 'capacityBytes' | 'contentTitle'>): string {
  return `${formatBytes(d.capacityBytes)} · ${d.contentTitle}`;
}

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
  if (types.length === 0) return <p>{t('kiosk.noTypes')}</p>;
  // A form: before the app has started (the hub rendered the list into the page), a button
  // still works, as a plain GET of this page with ?type=<id> (the checkout); the app itself
  // routes it in place.
  return (
    <form method="get" class="disk-types-form">
      <ul class="disk-types">
        {types.map((d) => {
          const soldOut = mode === 'rent' ? d.available === 0 : d.reservable === 0;
          const name = diskTypeName(d);
          return (
            <li key={d.id} class="card disk-type" data-disk-type={d.id}>
              <h3>{name}</h3>
              <dl>
                <dt>{t('kiosk.writeProtection')}</dt>
                <dd>{formatWriteProtect(d.writeProtect)}</dd>
                <dt>{t('kiosk.days')}</dt>
                <dd>{t('kiosk.daysValue', { def: d.defaultDays, max: d.maxDays })}</dd>
                <dt>{t('kiosk.price')}</dt>
                <dd>{t('kiosk.perDay', { price: formatMoney(d.pricePerDayMinor, d.currency) })}</dd>
                <dt>{t('kiosk.readyNow')}</dt>
                <dd>{d.available}</dd>
                {mode === 'reserve' ? (
                  <>
                    <dt>{t('kiosk.canReserve')}</dt>
                    <dd>{d.reservable}</dd>
                  </>
                ) : null}
              </dl>
              <button
                type="submit"
                name="type"
                value={d.id}
                class="primary"
                disabled={disabled || soldOut}
                aria-label={t(mode === 'rent' ? 'kiosk.rentLabel' : 'kiosk.reserveLabel', {
                  what: name,
                })}
                onClick={(e) => {
                  e.preventDefault();
                  onChoose(d);
                }}
              >
                {soldOut
                  ? t('kiosk.noneLeft')
                  : mode === 'rent'
                    ? t('kiosk.rentThis')
                    : t('kiosk.reserveThis')}
              </button>
            </li>
          );
        })}
      </ul>
    </form>
  );
}

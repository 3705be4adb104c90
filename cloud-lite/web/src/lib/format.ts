// Numbers, money, dates, durations and relative times for the page's language, all through Intl.
// The currency is the one the API names with the amount, else the hub's (GET /api/terms, set at
// start with setHubCurrency); nothing here assumes a currency or a locale.
import { formatLocale as language, t } from '../i18n/i18n.js';

let hubCurrency: string | undefined;

/** The hub's configured currency (rental.currency), the default for amounts without one. */
export function setHubCurrency(currency: string | undefined): void {
  hubCurrency = currency;
}

export function getHubCurrency(): string | undefined {
  return hubCurrency;
}

/** Money in minor units (cents, fen) as a localised amount: 1250 EUR -> '€12.50' / '€12.50'. */
export function formatMoney(minor: number, currency = hubCurrency, locale = language()): string {
  if (!currency)
    return new Intl.NumberFormat(locale, { minimumFractionDigits: 2 }).format(minor / 100);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

/** Disk capacities the way vendors print them (decimal): 2e12 -> '2 TB', 5e11 -> '500 GB'. */
export function formatBytes(bytes: number, locale = language()): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte', 'petabyte'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) return `${new Intl.NumberFormat(locale).format(bytes)} B`;
  const digits = v >= 100 || Number.isInteger(v) ? 0 : 1;
  const rounded = Number(v.toFixed(digits));
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: units[i],
    unitDisplay: 'short',
    maximumFractionDigits: digits,
  }).format(rounded);
}

/** 850 -> '850 m', 1234 -> '1.2 km', 25300 -> '25 km'. */
export function formatDistance(meters: number | null | undefined, locale = language()): string {
  if (meters === null || meters === undefined || !Number.isFinite(meters)) return '';
  if (meters < 1000) {
    return new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: 'meter',
      maximumFractionDigits: 0,
    }).format(Math.round(meters));
  }
  const km = meters / 1000;
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: 'kilometer',
    maximumFractionDigits: km < 10 ? 1 : 0,
    minimumFractionDigits: km < 10 ? 1 : 0,
  }).format(km);
}

function unit(n: number, name: 'second' | 'minute' | 'hour' | 'day', locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'unit', unit: name, unitDisplay: 'short' }).format(
    n,
  );
}

/** Seconds as '45 sec', '3 min', '1 hr 5 min' (the locale's short units). */
export function formatDuration(seconds: number, locale = language()): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return unit(Math.round(seconds), 'second', locale);
  const min = Math.round(seconds / 60);
  if (min < 60) return unit(min, 'minute', locale);
  const h = Math.floor(min / 60);
  const m = min % 60;
  if (h >= 48 && m === 0 && h % 24 === 0) return unit(h / 24, 'day', locale);
  return m ? `${unit(h, 'hour', locale)} ${unit(m, 'minute', locale)}` : unit(h, 'hour', locale);
}

/** A countdown clock: 75 -> '1:15'; hours when there are any: 3725 -> '1:02:05'. */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** An ISO time as a short local date and time: '12 Mar 2025, 14:05' / '2025年3月12日 14:05'. */
export function formatDateTime(iso: string | null | undefined, locale = language()): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** How far `iso` is from `now`, in words: 'in 2 days', '3 hours ago' / '2天后', '3小时前'. */
export function formatRelative(iso: string, now: Date = new Date(), locale = language()): string {
  const ms = new Date(iso).getTime() - now.getTime();
  if (Number.isNaN(ms)) return '';
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const abs = Math.abs(ms);
  const units: Array<[number, Intl.RelativeTimeFormatUnit]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, name] of units) {
    if (abs >= size) return rtf.format(Math.sign(ms) * Math.round(abs / size), name);
  }
  return ms >= 0 ? t('format.inUnderAMinute') : t('format.justNow');
}

/** Write-protection choice as a phrase. */
export function formatWriteProtect(policy: 'allowed' | 'forced' | 'off'): string {
  return t(`format.writeProtect.${policy}`);
}

/** Price of `days` at `perDayMinor` per day. */
export function totalPrice(perDayMinor: number, days: number): number {
  return perDayMinor * days;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * A size typed by a person, in bytes: "40 GB", "37.25GiB", "1,5 TB", "500 MB", or a bare
 * number of bytes. Decimal units are powers of 1000 (as disks are sold), binary ones (KiB,
 * MiB, GiB, TiB) powers of 1024. Undefined when it is not a size.
 */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:[.,]\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]!.replace(',', '.'));
  const bytes = Math.round(value * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size for an edit field: the largest decimal unit that shows it exactly (3 decimals at most). */
export function sizeForInput(bytes: number): string {
  for (const [unit, f] of [
    ['TB', 1e12],
    ['GB', 1e9],
    ['MB', 1e6],
  ] as const) {
    if (bytes >= f && bytes % (f / 1000) === 0) return `${bytes / f} ${unit}`;
  }
  return String(bytes);
}

/**
 * An amount typed by a person ("3", "3.50", "3,5") in minor units (hundredths, as every amount
 * of the API); undefined when it is not an amount or has more than two decimals.
 */
export function parseMoney(text: string): number | undefined {
  const m = /^\s*(\d+)(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!m) return undefined;
  const minor = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(minor) ? minor : undefined;
}

/** Minor units as a plain amount for an edit field ("3.50"). */
export function moneyForInput(minor: number): string {
  return (minor / 100).toFixed(2);
}

/** Money in minor units (cents) as a localised amount: 1250, 'EUR' -> '€12.50'. */
export function formatMoney(minor: number, currency = 'EUR', locale = 'en-GB'): string {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

/** Disk capacities the way vendors print them (decimal): 2e12 -> '2 TB', 5e11 -> '500 GB'. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v >= 100 || i === 0 || Number.isInteger(v) ? 0 : 1;
  return `${v.toFixed(digits).replace(/\.0$/, '')} ${units[i]}`;
}

/** 850 -> '850 m', 1234 -> '1.2 km', 25300 -> '25 km'. */
export function formatDistance(meters: number | null | undefined): string {
  if (meters === null || meters === undefined || !Number.isFinite(meters)) return '';
  if (meters < 1000) return `${Math.round(meters)} m`;
  const km = meters / 1000;
  return km < 10 ? `${km.toFixed(1)} km` : `${Math.round(km)} km`;
}

/** Seconds as '45 s', '3 min', '1 h 5 min'. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const min = Math.round(seconds / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const m = min % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** An ISO time as a short local date and time: '12 Mar 2025, 14:05'. */
export function formatDateTime(iso: string | null | undefined, locale = 'en-GB'): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** How far `iso` is from `now`, in words: 'in 2 days', '3 hours ago', 'in 5 minutes'. */
export function formatRelative(iso: string, now: Date = new Date()): string {
  const ms = new Date(iso).getTime() - now.getTime();
  if (Number.isNaN(ms)) return '';
  const abs = Math.abs(ms);
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  let text = 'less than a minute';
  for (const [size, name] of units) {
    if (abs >= size) {
      const n = Math.round(abs / size);
      text = `${n} ${name}${n === 1 ? '' : 's'}`;
      break;
    }
  }
  if (text === 'less than a minute') return ms >= 0 ? 'in less than a minute' : 'just now';
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** Write-protection choice as a phrase. */
export function formatWriteProtect(policy: 'allowed' | 'forced' | 'off'): string {
  switch (policy) {
    case 'forced':
      return 'read-only';
    case 'off':
      return 'writable';
    default:
      return 'read-only or writable, your choice';
  }
}

/** Price of `days` at `perDayMinor` per day. */
export function totalPrice(perDayMinor: number, days: number): number {
  return perDayMinor * days;
}

import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): the first 48 bits are the Unix time in milliseconds, the other
 * 74 bits (beside the version and variant) random. Its text sorts by creation time, so ids made
 * one after another land at the end of a B-tree index on them, not on a random page of it:
 * an INSERT dirties the index's last page, which the next ones dirty again, and a commit writes
 * that one page to the WAL instead of one page per row. Unguessable like a version 4 UUID
 * beyond its millisecond; `ms` (default now) is the time it carries.
 */
export function timeOrderedUuid(ms: number = Date.now()): string {
  // randomUUID: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx (V: the variant); its random part after
  // the version digit is kept, the time replaces its first 48 bits.
  if (ms !== last.ms) {
    const time = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
    last.ms = ms;
    last.prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
  }
  return last.prefix + randomUUID().slice(15);
}

/** The text before the random part, for the millisecond of the last id made (made once per ms). */
const last = { ms: Number.NaN, prefix: '' };

/** Only same-site paths may follow a login (no open redirect). */
export function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/me';
}

const KEY = 'dk.next';

/**
 * Remembers where a registration started (a path, never a credential), so that the link
 * from the message, opened maybe in another tab, brings the renter back there.
 */
export function rememberNext(path: string): void {
  try {
    localStorage.setItem(KEY, path);
  } catch {}
}

/** The remembered path (once), made safe; /me when there is none. */
export function takeNext(): string {
  let next: string | null = null;
  try {
    next = localStorage.getItem(KEY);
    localStorage.removeItem(KEY);
  } catch {}
  return safeNext(next);
}

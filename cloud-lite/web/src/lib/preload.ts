// What the hub puts into a page for its first render, so that the page needs no API round trip
// before it shows it: /k/<kioskId> carries the kiosk's offer (or the refusal, e.g. no such
// kiosk) as JSON in <script type="application/json" id="dk-preload"> (data, not a script: the
// Content-Security-Policy still allows no inline script). The hub renders it per request, so
// stock and the online state are as fresh as an API answer. The same markup is rendered on the
// hub (renter-ssr.tsx) and taken over by the app in the browser (renter-main.tsx).
import { ApiError } from './errors.js';
import type { KioskOffer } from './types.js';

export const PRELOAD_ID = 'dk-preload';

export interface Preloaded {
  kioskId: string;
  offer?: KioskOffer;
  /**
   * The request came with a live session (the hub checked its cookie): the page is rendered
   * with the signed-in header, and the app confirms it with /api/me.
   */
  signedIn?: boolean;
  /** The API's refusal instead of an offer (KIOSK_NOT_FOUND). */
  error?: { status: number; code: string; message: string };
}

let preloaded: Preloaded | undefined;

/** Whether this code runs on the hub (rendering a page's markup) rather than in a browser. */
export const onServer = (): boolean => typeof document === 'undefined';

export function setPreloaded(p: Preloaded | undefined): void {
  preloaded = p;
}

/** Reads the page's preloaded data (in the browser, at start); ignores anything malformed. */
export function readPreloaded(doc: Document): Preloaded | undefined {
  const text = doc.getElementById(PRELOAD_ID)?.textContent;
  if (!text) return undefined;
  try {
    const p = JSON.parse(text) as Preloaded;
    return typeof p?.kioskId === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The preloaded offer of this kiosk, once: the first render uses it, a later visit of the page
 * (or Try again) asks the API.
 */
export function takePreloadedOffer(
  kioskId: string,
): { data?: KioskOffer; error?: ApiError } | undefined {
  const p = preloaded;
  if (!p || p.kioskId !== kioskId) return undefined;
  preloaded = undefined;
  if (p.offer) return { data: p.offer };
  if (p.error) return { error: new ApiError(p.error.status, p.error.code, p.error.message) };
  return undefined;
}

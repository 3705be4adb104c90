import { hubVersion } from '../../package-info.js';

/** The API document's version: the package's. */
export const API_VERSION = hubVersion();

/** The document's title and the rules every route shares (rendered at the top of /api/docs). */
export const OPENAPI_INFO = {
  title: 'disk-kiosk cloud-lite HTTP API',
  description: [
    "The hub of the disk-kiosk system: renters register, log in, pay a deposit, rent a disk at a kiosk (session, order), reserve one at a kiosk found on a map, pick it up, extend and return it; operators run the fleet. Generated from the routes' schemas (`npm run gen:docs` writes docs/openapi.json; served at /api/openapi.json).",
    '',
    "**Authentication.** People: `POST /api/auth/login` answers a session `token` and sets the `dk_session` cookie (HttpOnly, SameSite=Strict). API clients send `Authorization: Bearer <token>`; the web pages rely on the cookie. A token in the URL is never read. Machines: the admin token (`Authorization: Bearer`), the metrics token on /metrics, a kiosk's Basic credentials on the content origin. Each operation names who may call it (`x-access`): public, account (a logged-in person acting for themselves; the admin token is refused), staff (technician, operator, admin), operator (operator, admin, or the admin token), admin, metrics, kiosk-or-operator.",
    '',
    '**Same origin.** A request with another method than GET/HEAD/OPTIONS is refused (403 CROSS_ORIGIN) when it carries a foreign `Origin`, or when it is authenticated by the cookie alone without `Origin`. Bearer clients without cookie and without Origin are not affected.',
    '',
    '**Errors.** Every answer that is not a success is `{"error":{"code","message", ...details}}` with a code of one vocabulary (UPPER_SNAKE); each operation lists its codes (`x-error-codes`, and per status in its responses). Any route may also answer the edge\'s codes: VALIDATION, BAD_JSON, BAD_REQUEST, BAD_URL (400), UNSUPPORTED_MEDIA_TYPE (415), BODY_TOO_LARGE (413), URI_TOO_LONG (414), HEADERS_TOO_LARGE (431), REQUEST_TIMEOUT (408), INTERNAL (500), UNAVAILABLE (503). Refusals with `retryAfterSeconds` also send `Retry-After`.',
    '',
    '**Request bodies** are JSON with exact types (no coercion: `"5000"` is not a number); unknown fields are refused.',
    '',
    '**Idempotency.** `POST /api/orders` and `POST /api/reservations` need an `Idempotency-Key` header (8-128 of A-Z a-z 0-9 . _ : -): a retry with the same key and body answers the same order (200 instead of 201) and never charges twice; the same key with another body is 409 IDEMPOTENCY_MISMATCH. `POST /api/rentals/{id}/extend` takes one optionally.',
    '',
    '**Live streams** (`GET /api/orders/{id}/events`, `GET /api/reservations/{id}/events`) are Server-Sent Events (`text/event-stream`): one message `event: order` (or `reservation`) with `data: {"order": <Order>}` (or `{"reservation": <Reservation>}`) at once and after every change, comment lines `: keep-alive` every 15 s; the server ends the stream after the first message in a terminal state (orders: completed, failed, cancelled; reservations: picked_up, cancelled, expired, failed). Authenticated like any call (cookie or bearer header).',
    '',
    '**Money** is in minor units (`amountMinor`, cents) with an ISO 4217 `currency`; times are ISO 8601 UTC strings.',
  ].join('\n'),
};

import { type Static, Type } from '@sinclair/typebox';

/**
 * Renter e-mail (cloud-lite/notifications/, docs/alerts-and-notifications.md): when the
 * reminders go out, the time zone their dates are written in, how often mail is retried.
 */
export const NotificationsConfigSchema = Type.Object(
  {
    /** IANA time zone the renters' e-mails write dates in (the hub's own, e.g. `Asia/Shanghai`). */
    timeZone: Type.String({ minLength: 1, default: 'UTC' }),
    /** A rental due within this long gets the "due tomorrow" reminder (once per due date). */
    dueSoonHours: Type.Number({ minimum: 1, maximum: 168, default: 24 }),
    /** A ready reservation whose hold ends within this long gets the "expiring" reminder. */
    expiringBeforeMinutes: Type.Number({ minimum: 1, default: 120 }),
    /** How often the leader looks for due reminders and sends mail that is due (retries). */
    sweepIntervalMs: Type.Integer({ minimum: 10, default: 60_000 }),
    /** A mail the SMTP server refuses is tried again after 2 s, 4 s, ... (at most an hour), this many times in all. */
    maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 12 }),
  },
  { additionalProperties: false, default: {} },
);

export type NotificationsConfig = Static<typeof NotificationsConfigSchema>;

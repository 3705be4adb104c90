import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { signWebhook } from '../rental/payments/webhook-signature.js';
import type { AlertsConfig } from './config.js';

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. */
export const SIGNATURE_HEADER = 'x-disk-kiosk-signature';
/** The delivery's id: the same on every retry of one delivery (receivers de-duplicate by it). */
export const DELIVERY_HEADER = 'x-disk-kiosk-delivery';

export type WebhookConfig = NonNullable<AlertsConfig['webhook']>;

/** The webhook's HMAC key: `secret`, or the content of `secretFile` (trailing newline ignored). */
export function webhookSecret(config: WebhookConfig): string {
  if (config.secret !== undefined && config.secretFile !== undefined)
    throw new ConfigError('alerts.webhook: set "secret" or "secretFile", not both');
  if (config.secret !== undefined) return config.secret;
  if (config.secretFile === undefined)
    throw new ConfigError('alerts.webhook needs "secret" or "secretFile" (the HMAC key)');
  let s: string;
  try {
    s = readFileSync(config.secretFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(
      `cannot read alerts.webhook.secretFile ${config.secretFile}: ${(err as Error).message}`,
    );
  }
  if (s.length < 16)
    throw new ConfigError(
      `alerts.webhook.secretFile ${config.secretFile} holds under 16 characters`,
    );
  return s;
}

/**
 * POSTs `body` (already JSON) to the webhook, signed at `nowMs`. Resolves on a 2xx; rejects with
 * the reason otherwise (HTTP status, timeout, connection error).
 */
export async function postWebhook(
  config: WebhookConfig,
  secret: string,
  deliveryId: number,
  body: string,
  nowMs: number,
): Promise<void> {
  const res = await fetch(config.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'cloud-lite-alerts',
      [SIGNATURE_HEADER]: signWebhook(secret, body, nowMs),
      [DELIVERY_HEADER]: String(deliveryId),
    },
    body,
    signal: AbortSignal.timeout(config.timeoutMs),
    redirect: 'manual',
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
}

/** Backoff before attempt `attempts + 1`: 2 s, 4 s, 8 s, ... at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(3600_000, 1000 * 2 ** Math.min(attempts, 22));
}

/**
 * Enrolment with the hub: `POST <hub>/api/kiosks/enrol {kioskId, token}` answers
 * `{secret, hubPublicKey}`; the secret and key go to `hub.secretFile` / `hub.publicKeyFile`
 * (mode 0600, directories created), where resolveHubCredentials reads them. Works with
 * kioskd down. Also the implementation behind the images' `kioskd enrol` contract.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KioskConfig } from '../config.js';
import { MaintenanceError } from '../maintenance-wire.js';

export interface EnrolOptions {
  config: KioskConfig;
  /** Directory relative credential paths are resolved against (the config file's). */
  configDir: string;
  /** Hub base URL (`https://hub.example`; a `wss://.../kiosk` URL is mapped to its origin). */
  hubUrl: string;
  token: string;
  fetch?: typeof fetch;
  /** Default 15000 ms; then ETIMEOUT. */
  timeoutMs?: number;
}

export interface EnrolResult {
  kioskId: string;
  secretFile: string;
  publicKeyFile: string;
}

/** `wss://hub/kiosk` -> `https://hub`; `http(s)://hub/...` -> its origin. */
export function hubHttpBase(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'wss:') u.protocol = 'https:';
  if (u.protocol === 'ws:') u.protocol = 'http:';
  return u.origin;
}

function write0600(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flush: true });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Enrols; rejects with MaintenanceError EENROL (hub refused: its message), ETIMEOUT, ECONFIG. */
export async function enrolKiosk(o: EnrolOptions): Promise<EnrolResult> {
  const { hub, kioskId } = o.config;
  if (!hub.secretFile || !hub.publicKeyFile) {
    throw new MaintenanceError(
      'ECONFIG',
      'enrol writes hub.secretFile and hub.publicKeyFile: set both in the configuration (instead of hub.secret / hub.publicKeyPem)',
    );
  }
  const url = `${hubHttpBase(o.hubUrl)}/api/kiosks/enrol`;
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kioskId, token: o.token }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
  } catch (err) {
    const e = err as Error;
    throw new MaintenanceError(
      e.name === 'TimeoutError' ? 'ETIMEOUT' : 'EENROL',
      `cannot reach the hub at ${url}: ${e.message}; check the URL and the network`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as {
    secret?: string;
    hubPublicKey?: string;
    message?: string;
    /** The hub's error body: `{ error: { code, message } }`. */
    error?: { code?: string; message?: string };
  };
  if (!res.ok || !body.secret || !body.hubPublicKey) {
    const said = body.error?.message ?? body.message;
    // TOO_MANY_ATTEMPTS (429): too many failed enrolments from this address; the token itself
    // may be fine. ENROLMENT_INVALID (401): the token is unknown, used or expired.
    const retryAfter = res.headers.get('retry-after');
    const throttled = body.error?.code === 'TOO_MANY_ATTEMPTS' || res.status === 429;
    const next = throttled
      ? `wait ${retryAfter ? `${retryAfter} s` : 'a few minutes'} and try again with the same token`
      : 'ask the operator for a fresh token';
    throw new MaintenanceError(
      'EENROL',
      `the hub refused the enrolment of ${kioskId} (HTTP ${res.status}${said ? `: ${said}` : ''}); ${next}`,
    );
  }
  const secretFile = path.resolve(o.configDir, hub.secretFile);
  const publicKeyFile = path.resolve(o.configDir, hub.publicKeyFile);
  write0600(secretFile, `${body.secret}\n`);
  write0600(
    publicKeyFile,
    body.hubPublicKey.endsWith('\n') ? body.hubPublicKey : `${body.hubPublicKey}\n`,
  );
  return { kioskId, secretFile, publicKeyFile };
}

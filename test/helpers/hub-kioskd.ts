/**
 * A kioskd (in-process Daemon, simulated hardware) enrolled with and connected to a real
 * cloud-lite test hub over a real WebSocket: the kiosk id and secret come from the hub's
 * enrolment API, the hub's public key from /api/hub/public-key. Stopped at teardown.
 */
import path from 'node:path';
import { type KioskConfig, parseConfig } from '../../kiosk/config.js';
import { Daemon } from '../../kiosk/daemon.js';
import { silentLogger } from '../../kiosk/log.js';
import type { TestHub } from '../cloud-lite/fixtures/test-hub.js';

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface HubKioskd {
  daemon: Daemon;
  config: KioskConfig;
  secret: string;
  publicKeyPem: string;
}

/** The sim-hardware configuration of a kiosk on `hubUrl`, with `over` merged at the top level. */
export function hubKioskConfig(
  dir: string,
  k: { kioskId: string; hubUrl: string; secret: string; publicKeyPem: string; slots?: number },
  over: Record<string, unknown> = {},
): KioskConfig {
  return parseConfig(
    {
      kioskId: k.kioskId,
      dataDir: path.join(dir, 'data'),
      hub: {
        url: k.hubUrl,
        secret: k.secret,
        publicKeyPem: k.publicKeyPem,
        backoff: { baseMs: 20, capMs: 200, stableSeconds: 1 },
      },
      slots: { count: k.slots ?? 2 },
      hardware: {
        motorBoard: { driver: 'sim', ejectMs: 30, retractMs: 30 },
        gpio: { driver: 'sim', debounceMs: 1 },
        usb: { driver: 'sim', enumerateMs: 1 },
        drives: { driver: 'sim', pollIntervalMs: 100 },
        storage: { driver: 'sim', mountRoot: path.join(dir, 'mnt') },
      },
      logLevel: 'silent',
      ...over,
    },
    { env: {} },
  );
}

/** Enrols `kioskId` on `hub` and starts its kioskd in `dir` (not yet waiting for the link). */
export async function startHubKioskd(
  t: Tap,
  hub: TestHub,
  dir: string,
  kioskId: string,
  opts: { slots?: number; over?: Record<string, unknown> } = {},
): Promise<HubKioskd> {
  const { secret } = await hub.enrolKiosk(kioskId);
  const pk = await hub.api('GET', '/api/hub/public-key', undefined, null);
  const publicKeyPem = String(pk.body);
  const config = hubKioskConfig(
    dir,
    { kioskId, hubUrl: hub.wsUrl, secret, publicKeyPem, slots: opts.slots },
    opts.over,
  );
  const daemon = new Daemon({ config, log: silentLogger(), env: {} });
  t.teardown(() => daemon.stop());
  await daemon.start();
  return { daemon, config, secret, publicKeyPem };
}

/**
 * How a simulated kiosk's films stock is made, and waiting until it is there.
 *
 * - `prestaged`: the disks go in blank (`loaded`) and kioskd's own pre-staging
 *   (`cloning.prestage`, kiosk/cloning/prestage.ts) keeps films disks ready: it downloads the
 *   films from the hub's content origin, formats, copies and verifies each disk itself, as a
 *   kiosk in a shop does. The disks really hold the films. Takes seconds per kiosk.
 * - `registered`: the disks are recorded as `ready` with the films in kioskd's database
 *   before its first start, the files NOT copied onto them. Instant, for tests that only need
 *   stock the hub can sell; a renter would get a blank disk, and a slot disabled and enabled
 *   again fails kioskd's quick check (-> `loaded`).
 */
import type { HubApi, Json } from './api-client.js';
import type { SlotPlan } from './kiosk-process.js';
import type { DemoDisk } from './sim-disks.js';
import { DemoError, waitFor } from './wait.js';

export type ReadyStock = 'prestaged' | 'registered';

/** Content by id and version (a ContentSpec, or a ContentPackage's spec). */
export interface ContentRef {
  id: string;
  version: string;
}

/** A films slot of the plan: a blank disk for pre-staging, or one registered as ready. */
export function filmsSlot(
  stock: ReadyStock,
  slot: number,
  disk: DemoDisk,
  films: ContentRef,
): SlotPlan {
  return stock === 'prestaged'
    ? { slot, kind: 'blank', disk }
    : { slot, kind: 'ready', disk, contentId: films.id, contentVersion: films.version };
}

/**
 * kioskd's `cloning` keys for pre-staging: keep `count` films disks ready (not write-protected:
 * the films disk type lets the renter choose; the kiosk sets the protection at the dispense),
 * looking for a shortfall every 2 s (a rented or disabled disk is replaced within seconds).
 */
export function prestageCloning(films: ContentRef, count: number): Record<string, unknown> {
  return {
    prestage: [{ contentId: films.id, version: films.version, count, writeProtect: false }],
    prestageIntervalSeconds: 2,
  };
}

export interface StockKiosk {
  id: string;
  /** False once its kioskd exited. */
  running(): boolean;
  logFile: string;
}

export interface WaitForStockOptions {
  api: HubApi;
  /** A token the operator fleet API accepts. */
  token: string;
  kiosks: StockKiosk[];
  content: ContentRef;
  /** Ready disks of `content` each kiosk must have. */
  count: number;
  timeoutMs: number;
  /** One line per kiosk and slot as it starts preparing, becomes ready or faults. */
  say: (line: string) => void;
  signal?: AbortSignal;
  /** Poll interval of the fleet API (default 250 ms). */
  intervalMs?: number;
}

interface SlotView {
  slot: number;
  state: string;
  contentId?: string;
  contentVersion?: string;
  fault?: { code: string; message: string };
}

/**
 * Polls the hub's fleet API (`GET /api/operator/kiosks`) until every kiosk reports `count`
 * slots `ready` with `content`, printing each slot's way there. Rejects with DemoError
 * ESTART when a kioskd exits, ETIMEOUT naming every kiosk short of stock, what its slots
 * are doing and the reason of each one's last change (from the kiosk's events), and its log.
 */
export async function waitForReadyStock(o: WaitForStockOptions): Promise<void> {
  const want = `${o.content.id}@${o.content.version}`;
  const holds = (s: SlotView) =>
    s.state === 'ready' && s.contentId === o.content.id && s.contentVersion === o.content.version;
  const seen = new Map<string, string>();
  let latest = new Map<string, SlotView[]>();
  const t0 = Date.now();
  const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const short = () =>
    o.kiosks.filter((k) => (latest.get(k.id) ?? []).filter(holds).length < o.count);
  try {
    await waitFor(
      `every kiosk to have ${o.count} ready ${want} disks`,
      async () => {
        const dead = o.kiosks.find((k) => !k.running());
        if (dead)
          throw new DemoError(
            'ESTART',
            `kioskd ${dead.id} exited while preparing its stock; its log is ${dead.logFile}`,
          );
        const body = await o.api.ok('GET', '/api/operator/kiosks', undefined, { token: o.token });
        latest = new Map(body.kiosks.map((k: Json) => [k.id, (k.slots ?? []) as SlotView[]]));
        for (const k of o.kiosks) {
          for (const s of latest.get(k.id) ?? []) {
            const key = `${k.id}/${s.slot}`;
            const now = holds(s) ? 'stock' : s.state;
            if (seen.get(key) === now) continue;
            seen.set(key, now);
            if (now === 'preparing')
              o.say(`${k.id} slot ${s.slot}: preparing (download, format, copy, verify)`);
            else if (now === 'stock')
              o.say(`${k.id} slot ${s.slot}: ready, ${want} copied and verified (${secs()})`);
            else if (now === 'fault')
              o.say(
                `${k.id} slot ${s.slot}: fault ${s.fault?.code ?? ''} ${s.fault?.message ?? ''}`,
              );
          }
        }
        return short().length === 0;
      },
      { timeoutMs: o.timeoutMs, intervalMs: o.intervalMs ?? 250, signal: o.signal },
    );
  } catch (err) {
    if ((err as DemoError).code !== 'ETIMEOUT') throw err;
    const stuck = await Promise.all(
      short().map((k) => describeShort(o, k, latest.get(k.id), holds)),
    );
    throw new DemoError(
      'ETIMEOUT',
      `the kiosks' stock was not ready after ${o.timeoutMs / 1000} s (${o.count} ${want} disks each): ${stuck.join('; ')}`,
    );
  }
}

/** "kiosk-2 has 1 of 2: slot 2 preparing (last: "..."), slot 3 loaded; its log is ...". */
async function describeShort(
  o: WaitForStockOptions,
  k: StockKiosk,
  slots: SlotView[] | undefined,
  holds: (s: SlotView) => boolean,
): Promise<string> {
  if (!slots) return `${k.id} is not in the hub's fleet view; its log is ${k.logFile}`;
  const last = new Map<number, string>();
  const r = await o.api
    .call('GET', `/api/operator/kiosks/${k.id}/events?limit=1000`, undefined, { token: o.token })
    .catch(() => undefined);
  for (const e of (r?.status === 200 ? r.body.events : []) as Json[])
    if (e.type === 'SlotStateChanged' && e.data?.reason) last.set(e.data.slot, e.data.reason);
  const others = slots
    .filter((s) => !holds(s) && s.state !== 'empty')
    .map((s) => {
      const why = last.get(s.slot);
      return `slot ${s.slot} ${s.state}${why ? ` (last change: "${why}")` : ''}`;
    });
  return `${k.id} has ${slots.filter(holds).length} of ${o.count}: ${others.join(', ') || 'no disk to prepare'}; its log is ${k.logFile}`;
}

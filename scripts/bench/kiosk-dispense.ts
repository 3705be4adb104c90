/**
 * bench:kiosk, dispense latency: from a Dispense received (at the inbox gate, as from the
 * hub link) to the EJECT frame reaching the simulated board, over the full path (inbox
 * record, signature + nonce, slot transition with synchronous=FULL, USB power, relay,
 * driver framing); idle, and while two disk preparations (image mode, real loop disks,
 * real storage) run on the same kiosk.
 */
import { createHash, randomFillSync, randomUUID } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SimulatedMotorBoard } from '../../hal/motor-board/index.js';
import { upsertDisk } from '../../kiosk/cloning/disk-records.js';
import { parseConfig } from '../../kiosk/config.js';
import { buildManifest, type ManifestFile, signManifest } from '../../kiosk/content/manifest.js';
import { Daemon } from '../../kiosk/daemon.js';
import { CommandGate } from '../../kiosk/link/command-gate.js';
import { silentLogger } from '../../kiosk/log.js';
import { stockSlot } from '../../kiosk/returns/stock.js';
import {
  type DispenseRequest,
  type PrepareDiskRequest,
  signCommand,
} from '../../protocol/index.js';

const EJECT = 0x03;
export const SLOTS = 16;

export interface Keys {
  publicKeyPem: string;
  privateKeyPem: string;
}

export interface BenchKiosk {
  daemon: Daemon;
  gate: CommandGate;
  sim: SimulatedMotorBoard['sim'];
  /** When the last EJECT frame reached the board (performance.now()), 0 before. */
  frameAt(): number;
  resetFrame(): void;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A kioskd (in-process Daemon) on simulated hardware with no hub; commands enter at the gate. */
export async function startKiosk(
  dir: string,
  keys: Keys,
  extra: { drives?: object; storage?: object; cloning?: object; content?: object } = {},
): Promise<BenchKiosk> {
  const config = parseConfig(
    {
      kioskId: 'bench-1',
      dataDir: path.join(dir, 'data'),
      hub: { url: 'ws://127.0.0.1:9/kiosk', secret: 's', publicKeyPem: keys.publicKeyPem },
      slots: { count: SLOTS },
      hardware: {
        motorBoard: { driver: 'sim', ejectMs: 1, retractMs: 1 },
        gpio: { driver: 'sim', debounceMs: 1 },
        usb: { driver: 'sim', enumerateMs: 1 },
        drives: { driver: 'sim', ...extra.drives },
        storage: { driver: 'sim', mountRoot: path.join(dir, 'mnt'), ...extra.storage },
      },
      cloning: { progressIntervalMs: 2000, ...extra.cloning },
      ...(extra.content ? { content: extra.content } : {}),
      logLevel: 'silent',
      maintenanceSocket: path.join(dir, 'kioskd.sock'),
    },
    { env: {} },
  );
  const daemon = new Daemon({ config, log: silentLogger(), env: {} });
  await daemon.start();
  await daemon.link.stop(); // no hub in this bench
  const gate = new CommandGate({
    inbox: daemon.inbox,
    dispatch: daemon.dispatch,
    log: silentLogger(),
  });
  const sim = (daemon.hardware.board as SimulatedMotorBoard).sim;
  let frameAt = 0;
  const push = sim.received.push.bind(sim.received);
  sim.received.push = (...items) => {
    if (items.some((f) => f.cmd === EJECT)) frameAt = performance.now();
    return push(...items);
  };
  return {
    daemon,
    gate,
    sim,
    frameAt: () => frameAt,
    resetFrame: () => {
      frameAt = 0;
    },
  };
}

let serial = 0;

/** One Dispense of a ready disk in `slot`, taken by the renter; resolves with its latency in ms. */
export async function dispenseOnce(k: BenchKiosk, keys: Keys, slot: number): Promise<number> {
  const i = serial++;
  const p = signCommand(
    keys.privateKeyPem,
    'bench-1',
    'Dispense',
    {
      commandId: randomUUID(),
      slot,
      diskId: `d-${i}`,
      writeProtect: i % 2 === 0,
      pickupWindowSeconds: 60,
    },
    { ttlMs: 600_000 },
  ) as DispenseRequest;
  k.sim.insertDisk(slot);
  stockSlot(k.daemon, { slot, disk: { diskId: p.diskId } });
  k.resetFrame();
  const t0 = performance.now();
  const res = await k.gate.handle('Dispense', p);
  if (res.status !== 'Accepted')
    throw new Error(`bench: Dispense ${i} answered ${JSON.stringify(res)}`);
  await until(() => k.frameAt() > 0, 'the EJECT frame');
  const latency = k.frameAt() - t0;
  await until(
    () => !k.sim.sensors(slot).seated && !k.sim.sensors(slot).trayOpen,
    'pickup position',
  );
  k.sim.takeDisk(slot);
  await until(() => k.daemon.slots.get(slot).state === 'empty', 'slot empty');
  return latency;
}

/** Registers an undo with the caller's cleanup (signals, crashes). */
export type OnStop = (what: string, fn: () => Promise<unknown>) => void;

/** `n` dispenses, round robin over every slot, with nothing else running. */
export async function idleDispenses(
  dir: string,
  keys: Keys,
  n: number,
  onStop: OnStop,
): Promise<number[]> {
  const k = await startKiosk(dir, keys);
  onStop('kioskd (idle dispenses)', () => k.daemon.stop());
  try {
    const lat: number[] = [];
    for (let i = 0; i < n; i++) lat.push(await dispenseOnce(k, keys, (i % SLOTS) + 1));
    if (k.sim.record.filter((r) => r.kind === 'eject').length !== n)
      throw new Error('bench: eject count mismatch');
    return lat;
  } finally {
    await k.daemon.stop();
  }
}

/** `parts` random files of `bytes` each written as a technician's USB stick (signed manifest + files/). */
async function contentStick(
  dir: string,
  keys: Keys,
  parts: number,
  bytes: number,
): Promise<string> {
  const files: ManifestFile[] = [];
  const buf = Buffer.allocUnsafe(4 * 2 ** 20);
  for (let i = 0; i < parts; i++) {
    const rel = `film/part-${i}.bin`;
    const file = path.join(dir, 'files', rel);
    await mkdir(path.dirname(file), { recursive: true });
    const fh = await open(file, 'w');
    const h = createHash('sha256');
    for (let done = 0; done < bytes; done += buf.length) {
      const n = Math.min(buf.length, bytes - done);
      randomFillSync(buf, 0, n);
      h.update(buf.subarray(0, n));
      await fh.write(buf, 0, n);
    }
    await fh.close();
    files.push({ path: rel, size: bytes, sha256: h.digest('hex') });
  }
  const m = buildManifest('films', '1', 'Films', files);
  await writeFile(
    path.join(dir, 'manifest.json'),
    JSON.stringify(signManifest(m, keys.privateKeyPem)),
  );
  return dir;
}

export interface BusyResult {
  latencies: number[];
  /** Dispenses left out because not both preparations were running from start to end. */
  skipped: number;
  /** States of the prepared slots afterwards (`reserved` when prepared). */
  slots: string[];
  /** The block images the kiosk holds afterwards (one: both disks in image mode). */
  images: string[];
}

/**
 * Dispenses on slots 3..16 while PrepareDisk runs on slots 1 and 2 (loop disks of
 * `diskBytes`, image mode, content of `contentBytes`): only dispenses during which both
 * preparations ran count. Needs root (loop devices, mount).
 */
export async function busyDispenses(
  dir: string,
  keys: Keys,
  o: {
    diskBytes: number;
    contentBytes: number;
    max: number;
    onStop: OnStop;
    /** Where the slot disks' backing files go: a device of their own, as on a kiosk. */
    disksDir: string;
    /** The content cache (blobs, images); default `<dir>/data/cache`, beside the database. */
    cacheDir?: string;
  },
): Promise<BusyResult> {
  const backing = [1, 2].map((s) => path.join(o.disksDir, `disk-${s}.img`));
  for (const f of backing) {
    const fh = await open(f, 'w');
    await fh.truncate(o.diskBytes);
    await fh.close();
  }
  const k = await startKiosk(dir, keys, {
    drives: {
      disks: {
        1: { backingFile: backing[0], serial: 'P1' },
        2: { backingFile: backing[1], serial: 'P2' },
      },
    },
    storage: { driver: 'real' },
    cloning: { image: { classes: [o.diskBytes] } },
    ...(o.cacheDir ? { content: { cacheDir: o.cacheDir } } : {}),
  });
  o.onStop('kioskd (busy dispenses)', () => k.daemon.stop());
  try {
    const stick = await contentStick(
      path.join(dir, 'stick'),
      keys,
      4,
      Math.floor(o.contentBytes / 4),
    );
    await k.daemon.preparation.cache.importFromDirectory(stick);
    for (const slot of [1, 2]) {
      k.daemon.slots.transition({
        slot,
        from: 'empty',
        to: 'loaded',
        reason: 'bench: a blank disk',
        set: { diskId: `disk-P${slot}` },
        also: (d) =>
          upsertDisk(d, {
            diskId: `disk-P${slot}`,
            slot,
            capacityBytes: o.diskBytes,
            serial: `P${slot}`,
            now: new Date().toISOString(),
          }),
      });
    }
    const running = () =>
      [1, 2].filter((slot) => k.daemon.slots.get(slot).state === 'preparing').length;
    for (const slot of [1, 2]) {
      const p = signCommand(
        keys.privateKeyPem,
        'bench-1',
        'PrepareDisk',
        {
          commandId: randomUUID(),
          reservationId: `res-${slot}`,
          contentId: 'films',
          contentVersion: '1',
          minCapacityBytes: 1,
          writeProtect: false,
          holdUntil: new Date(Date.now() + 3_600_000).toISOString(),
          slot,
        },
        { ttlMs: 600_000 },
      ) as PrepareDiskRequest;
      const res = await k.gate.handle('PrepareDisk', p);
      if (res.status !== 'Accepted')
        throw new Error(`bench: PrepareDisk answered ${JSON.stringify(res)}`);
    }
    const latencies: number[] = [];
    let skipped = 0;
    for (let i = 0; running() === 2 && latencies.length < o.max; i++) {
      const both = running() === 2;
      const ms = await dispenseOnce(k, keys, 3 + (i % (SLOTS - 2)));
      if (both && running() === 2) latencies.push(ms);
      else skipped++;
    }
    await k.daemon.preparation.idle();
    const images = k.daemon.preparation.cache.images.list();
    return {
      latencies,
      skipped,
      slots: [1, 2].map((slot) => k.daemon.slots.get(slot).state),
      images: images.map((i) => `${i.contentId}@${i.version} ${i.state}`),
    };
  } finally {
    await k.daemon.stop();
  }
}

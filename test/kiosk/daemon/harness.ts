// Shared harness for kioskd tests: a Daemon on simulated hardware (in-process board
// simulator, sim GPIO/USB/drives/storage) talking to a REAL WebSocket test hub.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimDrives } from '../../../hal/drives/index.js';
import type { SimGpio } from '../../../hal/gpio/index.js';
import type { SimulatedMotorBoard } from '../../../hal/motor-board/index.js';
import type { SimUsb } from '../../../hal/usb/index.js';
import { type KioskConfig, parseConfig } from '../../../kiosk/config.js';
import { Daemon, type DaemonDeps } from '../../../kiosk/daemon.js';
import { silentLogger } from '../../../kiosk/log.js';
import { stockSlot } from '../../../kiosk/returns/stock.js';
import {
  type DispenseRequest,
  generateSigningKeyPair,
  signCommand,
} from '../../../protocol/index.js';
import { TestHubPeer } from '../../helpers/test-hub-peer.js';

export interface Tap {
  teardown(fn: () => unknown): void;
}

export const KIOSK_ID = 'kiosk-t1';
export const SECRET = 'test-secret-0123456789abcdef';

export function tempDir(t: Tap, prefix = 'kioskd-daemon-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function simConfig(
  dir: string,
  hubUrl: string,
  publicKeyPem: string,
  over: { slots?: number; motorBoard?: Record<string, unknown> } = {},
): KioskConfig {
  return parseConfig(
    {
      kioskId: KIOSK_ID,
      dataDir: path.join(dir, 'data'),
      hub: {
        url: hubUrl,
        secret: SECRET,
        publicKeyPem,
        backoff: { baseMs: 20, capMs: 200, stableSeconds: 1 },
        callTimeoutSeconds: 3,
      },
      slots: { count: over.slots ?? 4 },
      hardware: {
        motorBoard: over.motorBoard ?? {
          driver: 'sim',
          ejectMs: 20,
          retractMs: 20,
          replyTimeoutMs: 100,
          retries: 1,
        },
        gpio: { driver: 'sim', debounceMs: 1 },
        usb: { driver: 'sim', enumerateMs: 1 },
        drives: { driver: 'sim', pollIntervalMs: 50 },
        storage: { driver: 'sim', mountRoot: path.join(dir, 'mnt') },
      },
      logLevel: 'silent',
    },
    { env: {} },
  );
}

export interface Rig {
  dir: string;
  hub: TestHubPeer;
  daemon: Daemon;
  keys: { publicKeyPem: string; privateKeyPem: string };
  board: SimulatedMotorBoard;
  sim: SimulatedMotorBoard['sim'];
  drives: SimDrives;
  gpio: SimGpio;
  usb: SimUsb;
  /** A signed Dispense payload for this kiosk. */
  dispense(
    p: Partial<DispenseRequest> & { slot: number; diskId: string },
    ttlMs?: number,
  ): DispenseRequest;
  /** Puts a ready disk `disk-<slot>` into `slot` (board sensor and database). */
  stock(slot: number, opts?: { reservationId?: string }): string;
  /** Resolves once `cond()` holds (bounded). */
  until(what: string, cond: () => boolean, ms?: number): Promise<void>;
  /** Events of a type the hub received, distinct by eventId. */
  // biome-ignore lint/suspicious/noExplicitAny: test access to event data
  eventsOf(type: string): any[];
}

export async function startRig(
  t: Tap,
  opts: { slots?: number; deps?: Partial<DaemonDeps>; loaded?: number[] } = {},
): Promise<Rig> {
  const dir = tempDir(t);
  const keys = generateSigningKeyPair();
  const hub = new TestHubPeer({ kiosks: { [KIOSK_ID]: SECRET }, heartbeatInterval: 30 });
  await hub.start();
  t.teardown(() => hub.close());
  const config = simConfig(dir, hub.url, keys.publicKeyPem, {
    slots: opts.slots,
    motorBoard: {
      driver: 'sim',
      ejectMs: 20,
      retractMs: 20,
      replyTimeoutMs: 100,
      retries: 1,
      loaded: opts.loaded ?? [],
    },
  });
  const daemon = new Daemon({ config, log: silentLogger(), env: {}, ...opts.deps });
  t.teardown(() => daemon.stop());
  await daemon.start();
  const board = daemon.hardware.board as SimulatedMotorBoard;
  const rig: Rig = {
    dir,
    hub,
    daemon,
    keys,
    board,
    sim: board.sim,
    drives: daemon.hardware.drives as SimDrives,
    gpio: daemon.hardware.gpio as SimGpio,
    usb: daemon.hardware.usb as SimUsb,
    dispense(p, ttlMs = 60_000) {
      const payload = {
        commandId: randomUUID(),
        writeProtect: true,
        pickupWindowSeconds: 5,
        ...p,
      };
      return signCommand(keys.privateKeyPem, KIOSK_ID, 'Dispense', payload, {
        ttlMs,
      }) as DispenseRequest;
    },
    stock(slot, o = {}) {
      const diskId = `disk-${slot}`;
      if (!board.sim.sensors(slot).present) board.sim.insertDisk(slot);
      stockSlot(daemon, {
        slot,
        disk: {
          diskId,
          usbSerial: `SER${slot}`,
          capacityBytes: 2e9,
          contentId: 'c1',
          contentVersion: '1',
        },
        ...(o.reservationId
          ? {
              state: 'reserved' as const,
              reservation: {
                reservationId: o.reservationId,
                commandId: randomUUID(),
                holdUntil: new Date(Date.now() + 3600_000).toISOString(),
              },
            }
          : {}),
      });
      return diskId;
    },
    until(what, cond, ms = 30_000) {
      return hub.waitFor(cond, what, ms);
    },
    eventsOf(type) {
      const seen = new Map<string, unknown>();
      for (const e of hub.events)
        if (e.type === type && !seen.has(e.eventId)) seen.set(e.eventId, e.data);
      return [...seen.values()];
    },
  };
  await rig.until('kiosk booted', () => hub.boots.length > 0 && hub.inventories.length > 0);
  return rig;
}

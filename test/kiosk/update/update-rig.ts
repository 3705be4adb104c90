// kioskd updating itself: a kioskd on simulated hardware that can be "rebooted" (stopped, the
// firmware boots the slot the boot files name, and kioskd starts again on the same data
// directory with the image version of the booted slot), with either the real RAUC rig (root:
// a partitioned loop device laid out like the SD card, rauc service on a private bus, the
// image's backend on a stand-in boot directory) or the fake RAUC (test/helpers/fake-rauc.ts,
// no root). The hub is a TestHubPeer; bundles are served by a local content origin (Range,
// faults).
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SimulatedMotorBoard } from '../../../hal/motor-board/index.js';
import type { UpdateConfigT } from '../../../kiosk/config/schema.js';
import { Daemon } from '../../../kiosk/daemon.js';
import { silentLogger } from '../../../kiosk/log.js';
import { stockSlot } from '../../../kiosk/returns/stock.js';
import {
  type DispenseRequest,
  generateSigningKeyPair,
  type InstallUpdateRequest,
  signCommand,
  type UpdateStatusData,
} from '../../../protocol/index.js';
import {
  type GeneratedContent,
  sha256,
  startOrigin,
  type TestOrigin,
} from '../../helpers/content-fixtures.js';
import { FakeRauc } from '../../helpers/fake-rauc.js';
import { createRaucRig, type RaucRig } from '../../helpers/rauc-rig.js';
import { TestHubPeer } from '../../helpers/test-hub-peer.js';
import { KIOSK_ID, SECRET, simConfig, type Tap, tempDir } from '../daemon/harness.js';
import { runCtl } from '../kioskctl/ctl-rig.js';

export interface UpdateRig<F extends RaucRig | FakeRauc = RaucRig> {
  rauc: F;
  hub: TestHubPeer;
  origin: TestOrigin;
  daemon: Daemon;
  dir: string;
  rebootFile: string;
  socket: string;
  /** Serves a bundle on the origin; resolves with its blob URL, hash and size. */
  serve(bundle: string): { url: string; sha256: string; size: number };
  install(
    b: { url: string; sha256: string; size: number },
    version: string,
    deadlineMs?: number,
  ): Promise<unknown>;
  /** Distinct UpdateStatus events the hub got, in order. */
  statuses(): UpdateStatusData[];
  /** Waits for an UpdateStatus in `state`. */
  until(what: string, cond: () => boolean, ms?: number): Promise<void>;
  /** Stops kioskd; the firmware boots (tryboot or not); kioskd starts on the booted slot. */
  reboot(o: { tryboot: boolean; startKioskd?: boolean }): Promise<string>;
  startKioskd(): Promise<Daemon>;
  ctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A disk `diskId` loaded in `slot` and recorded there; resolves with the simulated board. */
  stockDisk(slot: number, diskId: string): SimulatedMotorBoard;
  /** A signed Dispense of `diskId` in `slot` (30 s pickup window). */
  dispense(slot: number, diskId: string): DispenseRequest;
}

/** With the real RAUC rig (root), or with `fake`'s RaucRunner. */
export async function startUpdateRig<F extends RaucRig | FakeRauc = RaucRig>(
  t: Tap,
  o: { fake?: F; update?: Partial<UpdateConfigT> } = {},
): Promise<UpdateRig<F>> {
  const rauc = (o.fake ?? (await createRaucRig(t, { initialVersion: '1.0.0' }))) as F;
  const fake = rauc instanceof FakeRauc ? rauc : undefined;
  const dir = tempDir(t, 'kioskd-update-');
  const keys = generateSigningKeyPair();
  const hub = new TestHubPeer({ kiosks: { [KIOSK_ID]: SECRET }, heartbeatInterval: 30 });
  await hub.start();
  t.teardown(() => hub.close());
  const blobs = new Map<string, Buffer>();
  const origin = await startOrigin([{ blobs } as unknown as GeneratedContent]);
  t.teardown(() => origin.close());
  const versionFile = path.join(dir, 'image-version');
  const rebootFile = path.join(dir, 'run', 'update-reboot');
  const socket = path.join(dir, 'run', 'kioskd.sock');
  const config = simConfig(dir, hub.url, keys.publicKeyPem, {
    slots: 2,
    motorBoard: { driver: 'sim', ejectMs: 20, retractMs: 20, replyTimeoutMs: 100, retries: 1 },
  });
  config.content = { ...config.content, origin: origin.url };
  config.update = {
    ...config.update,
    imageVersionFile: versionFile,
    rebootRequestFile: rebootFile,
    ...(fake ? {} : { raucConf: (rauc as RaucRig).systemConf }),
    progressIntervalMs: 0,
    ...o.update,
  };
  config.maintenanceSocket = socket;
  const configFile = path.join(dir, 'kioskd.json');
  writeFileSync(configFile, JSON.stringify(config));
  const setVersion = () =>
    writeFileSync(
      versionFile,
      fake
        ? `${fake.slotVersion()}\n`
        : (rauc as RaucRig).slotFile(rauc.booted as 'A', '/etc/disk-kiosk/image-version'),
    );
  let daemon: Daemon | undefined;
  const startKioskd = async () => {
    setVersion();
    const d = new Daemon({
      config,
      log: silentLogger(),
      env: { ...rauc.env },
      ...(fake ? { rauc: fake.run } : {}),
    });
    daemon = d;
    t.teardown(() => d.stop());
    await d.start();
    return d;
  };
  const seen = new Map<string, UpdateStatusData>();
  const rig: UpdateRig<F> = {
    rauc,
    hub,
    origin,
    dir,
    rebootFile,
    socket,
    get daemon() {
      return daemon as Daemon;
    },
    serve(bundle: string) {
      const buf = readFileSync(bundle);
      const h = sha256(buf);
      blobs.set(h, buf);
      return { url: `${origin.url}/blobs/sha256/${h}`, sha256: h, size: buf.length };
    },
    install(b, version, deadlineMs = 600_000) {
      const payload = signCommand(
        keys.privateKeyPem,
        KIOSK_ID,
        'InstallUpdate',
        {
          commandId: randomUUID(),
          version,
          bundleUrl: b.url,
          sha256: b.sha256,
          size: b.size,
          deadline: new Date(Date.now() + deadlineMs).toISOString(),
        },
        { ttlMs: 60_000 },
      ) as InstallUpdateRequest;
      return hub.call('InstallUpdate', payload);
    },
    statuses() {
      for (const e of hub.events)
        if (e.type === 'UpdateStatus' && !seen.has(e.eventId))
          seen.set(e.eventId, e.data as UpdateStatusData);
      return [...seen.values()];
    },
    until(what, cond, ms = 30_000) {
      return hub.waitFor(cond, what, ms);
    },
    async reboot(o) {
      await daemon?.stop();
      await rauc.reboot({ tryboot: o.tryboot });
      if (o.startKioskd !== false) await startKioskd();
      return rauc.booted;
    },
    startKioskd,
    stockDisk(slot, diskId) {
      const board = (daemon as Daemon).hardware.board as SimulatedMotorBoard;
      board.sim.insertDisk(slot);
      stockSlot(daemon as Daemon, {
        slot,
        disk: {
          diskId,
          usbSerial: `S${slot}`,
          capacityBytes: 2e9,
          contentId: 'c',
          contentVersion: '1',
        },
      });
      return board;
    },
    dispense: (slot, diskId) =>
      signCommand(
        keys.privateKeyPem,
        KIOSK_ID,
        'Dispense',
        { commandId: randomUUID(), slot, diskId, writeProtect: true, pickupWindowSeconds: 30 },
        { ttlMs: 60_000 },
      ) as DispenseRequest,
    ctl: (args) =>
      runCtl(args, {
        KIOSKCTL_CONFIG: configFile,
        KIOSKCTL_USER: 'tech-alice',
        PATH: process.env.PATH,
      }),
  };
  await startKioskd();
  await hub.waitFor(() => hub.boots.length > 0, 'kiosk booted');
  return rig;
}

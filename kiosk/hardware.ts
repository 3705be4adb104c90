/**
 * Creates the hal devices of one kiosk from its validated configuration: for each device
 * the real driver or the simulator, as `hardware.<device>.driver` says. Devices injected
 * by the caller (tests, the demo) are used as they are. Nothing is started here.
 */
import path from 'node:path';
import { createDrives, type Drives, type SimDiskSpec } from '../hal/drives/index.js';
import { createGpio, type Gpio, type GpioOptions } from '../hal/gpio/index.js';
import { createMotorBoard, type MotorBoard } from '../hal/motor-board/index.js';
import { createStorage, resolverFromDrives, type Storage } from '../hal/storage/index.js';
import { createUsb, type Usb } from '../hal/usb/index.js';
import { ConfigError, type KioskConfig } from './config.js';

/** Every device kioskd drives. */
export interface Devices {
  board: MotorBoard;
  gpio: Gpio;
  usb: Usb;
  drives: Drives;
  storage: Storage;
}

export interface Hardware extends Devices {
  /** The USB port path (`1-1.3`) of a slot's disk port, for power switching; undefined when not configured. */
  usbPortOf(slot: number): string | undefined;
}

type Raw = Record<string, unknown>;

function without(cfg: Raw, ...keys: string[]): Raw {
  const out = { ...cfg };
  for (const k of keys) delete out[k];
  return out;
}

/**
 * Builds every device not given in `injected`. Throws ConfigError naming the key when a
 * real driver lacks a setting it cannot do without (e.g. `/hardware/gpio/relays`).
 */
export async function createHardware(
  cfg: KioskConfig,
  injected: Partial<Devices> = {},
): Promise<Hardware> {
  const hw = cfg.hardware as unknown as Record<keyof KioskConfig['hardware'], Raw>;
  const n = cfg.slots.count;
  const slotList = Array.from({ length: n }, (_, i) => i + 1);

  const board =
    injected.board ??
    (hw.motorBoard.driver === 'real'
      ? await createMotorBoard({
          ...(hw.motorBoard as { driver: 'real'; path: string }),
        })
      : await createMotorBoard({ slots: n, ...without(hw.motorBoard, 'driver'), driver: 'sim' }));

  let gpio = injected.gpio;
  if (!gpio) {
    if (hw.gpio.driver === 'real') {
      for (const key of ['relays', 'door', 'tamper']) {
        if (hw.gpio[key] === undefined) {
          throw new ConfigError(
            `invalid configuration: /hardware/gpio/${key}: missing required key for the real GPIO driver (see hal/gpio/types.ts GpioOptions)`,
            '<config>',
            `/hardware/gpio/${key}`,
          );
        }
      }
      gpio = await createGpio({ ...(hw.gpio as unknown as GpioOptions), driver: 'real' });
    } else {
      gpio = await createGpio({ slots: slotList, ...without(hw.gpio, 'driver'), driver: 'sim' });
    }
  }

  const slotPorts = (hw.usb.slotPorts ?? {}) as Record<string, string>;
  const simUsb = hw.usb.driver === 'sim';
  const usbPortOf = (slot: number): string | undefined =>
    slotPorts[String(slot)] ?? (simUsb ? `1-1.${slot}` : undefined);
  const usb =
    injected.usb ??
    (simUsb
      ? await createUsb({
          ports: slotList.map((s) => usbPortOf(s)!),
          ...without(hw.usb, 'driver', 'slotPorts'),
          driver: 'sim',
        })
      : await createUsb({ ...without(hw.usb, 'driver', 'slotPorts'), driver: 'real' }));

  const drives =
    injected.drives ??
    (hw.drives.driver === 'sim'
      ? await createDrives({
          slotCount: n,
          ...(without(hw.drives, 'driver') as { disks?: Record<number, SimDiskSpec> }),
          kind: 'sim',
        })
      : await createDrives({
          calibrationFile: path.join(cfg.dataDir, 'calibration.json'),
          ...without(hw.drives, 'driver'),
          kind: 'real',
        }));

  const storage =
    injected.storage ??
    (await createStorage({
      ...without(hw.storage, 'driver'),
      resolveSlotDisk: resolverFromDrives(drives),
      kind: hw.storage.driver === 'sim' ? 'sim' : 'real',
    } as Parameters<typeof createStorage>[0]));

  return { board, gpio, usb, drives, storage, usbPortOf };
}

/**
 * Creates the hal devices of one kiosk from its validated configuration: for each device
 * the real driver or the simulator, as `hardware.<device>.driver` says (the same
 * discriminant every hal factory takes). Devices injected by the caller (tests, the demo)
 * are used as they are. Nothing is started here.
 */
import path from 'node:path';
import { createDrives, type Drives } from '../hal/drives/index.js';
import { createGpio, type Gpio } from '../hal/gpio/index.js';
import { createKeypad, type Keypad } from '../hal/keypad/index.js';
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
  /** The pickup-code keypad; undefined when the kiosk has none (`hardware.keypad` absent). */
  keypad?: Keypad | undefined;
}

export interface Hardware extends Devices {
  /** The USB port path (`1-1.3`) of a slot's disk port, for power switching; undefined when not configured. */
  usbPortOf(slot: number): string | undefined;
}

/** The real GPIO driver's `key`, or a ConfigError naming it. */
function required<T>(value: T | undefined, key: string): T {
  if (value !== undefined) return value;
  throw new ConfigError(
    `invalid configuration: /hardware/gpio/${key}: missing required key for the real GPIO driver (see hal/gpio/types.ts GpioOptions)`,
    '<config>',
    `/hardware/gpio/${key}`,
  );
}

/**
 * Builds every device not given in `injected`. Throws ConfigError naming the key when a
 * real driver lacks a setting it cannot do without (e.g. `/hardware/gpio/relays`).
 */
export async function createHardware(
  cfg: KioskConfig,
  injected: Partial<Devices> = {},
): Promise<Hardware> {
  const hw = cfg.hardware;
  const n = cfg.slots.count;
  const slotList = Array.from({ length: n }, (_, i) => i + 1);

  const board =
    injected.board ??
    (hw.motorBoard.driver === 'real'
      ? await createMotorBoard(hw.motorBoard)
      : await createMotorBoard({ slots: n, ...hw.motorBoard }));

  let gpio = injected.gpio;
  if (!gpio) {
    const g = hw.gpio;
    if (g.driver === 'real') {
      const relays = required(g.relays, 'relays');
      const door = required(g.door, 'door');
      const tamper = required(g.tamper, 'tamper');
      gpio = await createGpio({ ...g, relays, door, tamper });
    } else {
      gpio = await createGpio({ slots: slotList, ...g });
    }
  }

  const { slotPorts = {}, ...usbConfig } = hw.usb;
  const simUsb = usbConfig.driver === 'sim';
  const usbPortOf = (slot: number): string | undefined =>
    slotPorts[String(slot)] ?? (simUsb ? `1-1.${slot}` : undefined);
  const usb =
    injected.usb ??
    (simUsb
      ? await createUsb({ ports: slotList.map((s) => usbPortOf(s)!), ...usbConfig, driver: 'sim' })
      : await createUsb({ ...usbConfig, driver: 'real' }));

  const drives =
    injected.drives ??
    (hw.drives.driver === 'sim'
      ? await createDrives({ slotCount: n, ...hw.drives })
      : await createDrives({
          calibrationFile: path.join(cfg.dataDir, 'calibration.json'),
          ...hw.drives,
        }));

  const storage =
    injected.storage ??
    (await createStorage({ ...hw.storage, resolveSlotDisk: resolverFromDrives(drives) }));

  const keypad =
    injected.keypad ??
    (hw.keypad === undefined
      ? undefined
      : hw.keypad.driver === 'real'
        ? await createKeypad(hw.keypad)
        : await createKeypad(hw.keypad));

  return { board, gpio, usb, drives, storage, keypad, usbPortOf };
}

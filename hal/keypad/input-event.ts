/**
 * Linux `struct input_event` records: their layout, the codes a keypad sends, an encoder
 * (tests, the simulator) and a decoder that turns a byte stream into key presses.
 *
 *   struct input_event { struct timeval time; __u16 type; __u16 code; __s32 value; };
 *
 * `struct timeval` is two `long`s: on a 64-bit kernel ABI (arm64, x86-64) 16 bytes, so a
 * record is 24 bytes; on a 32-bit one (armhf, i386) 8 bytes, a record of 16. Little-endian
 * on every platform kioskd runs on.
 */
import type { KeyPress, KeypadKey } from './types.js';

export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_MSC = 0x04;
export const SYN_REPORT = 0;
export const SYN_DROPPED = 3;
export const MSC_SCAN = 4;
/** EVIOCGRAB = _IOW('E', 0x90, int): the same number on arm64 and x86-64. */
export const EVIOCGRAB = 0x40044590;

/** Key codes from linux/input-event-codes.h that a numeric keypad (or a keyboard) sends. */
export const KEY = {
  ESC: 1,
  '1': 2,
  '2': 3,
  '3': 4,
  '4': 5,
  '5': 6,
  '6': 7,
  '7': 8,
  '8': 9,
  '9': 10,
  '0': 11,
  BACKSPACE: 14,
  ENTER: 28,
  KPASTERISK: 55,
  NUMLOCK: 69,
  KP7: 71,
  KP8: 72,
  KP9: 73,
  KPMINUS: 74,
  KP4: 75,
  KP5: 76,
  KP6: 77,
  KPPLUS: 78,
  KP1: 79,
  KP2: 80,
  KP3: 81,
  KP0: 82,
  KPDOT: 83,
  KPENTER: 96,
  KPSLASH: 98,
  DELETE: 111,
} as const;

const KEYS = new Map<number, KeypadKey>([
  [KEY.KP0, '0'],
  [KEY.KP1, '1'],
  [KEY.KP2, '2'],
  [KEY.KP3, '3'],
  [KEY.KP4, '4'],
  [KEY.KP5, '5'],
  [KEY.KP6, '6'],
  [KEY.KP7, '7'],
  [KEY.KP8, '8'],
  [KEY.KP9, '9'],
  // The top row of a full keyboard, so a plain USB keyboard works as well.
  ...(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const).map(
    (d) => [KEY[d], d] as [number, KeypadKey],
  ),
  [KEY.ENTER, 'enter'],
  [KEY.KPENTER, 'enter'],
  [KEY.BACKSPACE, 'backspace'],
  [KEY.ESC, 'clear'],
  [KEY.DELETE, 'clear'],
  [KEY.KPDOT, 'clear'],
  [KEY.KPASTERISK, 'clear'],
]);

/** What a key code means on the keypad (`other` for keys kioskd does not use). */
export function keyOf(code: number): KeypadKey {
  return KEYS.get(code) ?? 'other';
}

/** The code the keypad sends for `key` (its keypad key; `other` maps to KEY_NUMLOCK). */
export function codeOf(key: KeypadKey): number {
  switch (key) {
    case 'enter':
      return KEY.KPENTER;
    case 'backspace':
      return KEY.BACKSPACE;
    case 'clear':
      return KEY.KPDOT;
    case 'other':
      return KEY.NUMLOCK;
    default:
      return KEY[`KP${key}`];
  }
}

export type EventLayout = 16 | 24;

/** The record size of this process's ABI: 24 on 64-bit architectures, 16 on 32-bit ones. */
export function nativeLayout(arch: string = process.arch): EventLayout {
  return ['arm', 'ia32', 'mips', 'mipsel', 'ppc'].includes(arch) ? 16 : 24;
}

export interface RawEvent {
  sec: number;
  usec: number;
  type: number;
  code: number;
  value: number;
}

/** One record, as the kernel writes it. */
export function encodeEvent(e: RawEvent, layout: EventLayout = 24): Buffer {
  const b = Buffer.alloc(layout);
  const half = layout === 24 ? 8 : 4;
  if (half === 8) {
    b.writeBigInt64LE(BigInt(e.sec), 0);
    b.writeBigInt64LE(BigInt(e.usec), 8);
  } else {
    b.writeInt32LE(e.sec, 0);
    b.writeInt32LE(e.usec, 4);
  }
  b.writeUInt16LE(e.type, half * 2);
  b.writeUInt16LE(e.code, half * 2 + 2);
  b.writeInt32LE(e.value, half * 2 + 4);
  return b;
}

/**
 * The records a USB HID keypad produces for one key stroke, in the kernel's order: the HID
 * usage (MSC_SCAN), the key down, a SYN_REPORT, then the same for the key up.
 */
export function keyStroke(code: number, atMs: number, layout: EventLayout = 24): Buffer {
  const sec = Math.floor(atMs / 1000);
  const usec = (atMs % 1000) * 1000;
  const scan = 0x70000 + code; // stands in for the HID usage; kioskd ignores it
  const rec = (type: number, c: number, value: number) =>
    encodeEvent({ sec, usec, type, code: c, value }, layout);
  return Buffer.concat([
    rec(EV_MSC, MSC_SCAN, scan),
    rec(EV_KEY, code, 1),
    rec(EV_SYN, SYN_REPORT, 0),
    rec(EV_MSC, MSC_SCAN, scan),
    rec(EV_KEY, code, 0),
    rec(EV_SYN, SYN_REPORT, 0),
  ]);
}

/**
 * Byte stream -> records. Reads from a device node return whole records; a FIFO or a
 * socket may split them anywhere, so partial records wait for the rest.
 */
export class InputEventDecoder {
  private rest: Buffer = Buffer.alloc(0);

  constructor(private readonly layout: EventLayout = 24) {}

  /** The complete records in `chunk` (plus what was left over before it). */
  push(chunk: Buffer): RawEvent[] {
    const buf = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    const n = Math.floor(buf.length / this.layout);
    const out: RawEvent[] = [];
    const half = this.layout === 24 ? 8 : 4;
    for (let i = 0; i < n; i++) {
      const o = i * this.layout;
      out.push({
        sec: half === 8 ? Number(buf.readBigInt64LE(o)) : buf.readInt32LE(o),
        usec: half === 8 ? Number(buf.readBigInt64LE(o + 8)) : buf.readInt32LE(o + 4),
        type: buf.readUInt16LE(o + half * 2),
        code: buf.readUInt16LE(o + half * 2 + 2),
        value: buf.readInt32LE(o + half * 2 + 4),
      });
    }
    this.rest = Buffer.from(buf.subarray(n * this.layout));
    return out;
  }

  /** Forgets a partial record (the device was reopened). */
  reset(): void {
    this.rest = Buffer.alloc(0);
  }
}

/** What a record means to the keypad: a key press, a drop, or nothing (release, repeat, sync). */
export function interpret(e: RawEvent): KeyPress | 'dropped' | null {
  if (e.type === EV_SYN && e.code === SYN_DROPPED) return 'dropped';
  if (e.type !== EV_KEY || e.value !== 1) return null; // 0 = up, 2 = auto-repeat
  return { key: keyOf(e.code), code: e.code };
}

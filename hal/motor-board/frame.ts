/**
 * The slot board's frame format and code tables (see PROTOCOL.md). Pure functions, no I/O.
 *
 *   SOF(0xA5) ADDR LEN ~LEN SEQ CMD PAYLOAD[LEN] CRC_LO CRC_HI
 *
 * The CRC (CRC-16/MODBUS) covers ADDR .. the last payload byte.
 */
import { crc16Modbus } from './crc16.js';

export const SOF = 0xa5;
export const HEADER_LEN = 6; // SOF ADDR LEN ~LEN SEQ CMD
export const CRC_LEN = 2;
export const MAX_PAYLOAD = 160;
export const BROADCAST = 0x00;
export const DEFAULT_ADDRESS = 0x01;

/** Host -> board commands (bit 7 clear). */
export const Cmd = {
  IDENTIFY: 0x01,
  GET_STATUS: 0x02,
  EJECT: 0x03,
  RETRACT: 0x04,
  SELF_TEST: 0x05,
  RESET: 0x06,
} as const;
export type CmdCode = (typeof Cmd)[keyof typeof Cmd];

/** Board -> host frames (bit 7 set). A positive reply to command C is `0x80 | C`. */
export const Rsp = {
  REPLY_FLAG: 0x80,
  NAK: 0xfe,
  SENSOR_CHANGE: 0xc0,
  MOTION_DONE: 0xc1,
  MOTION_FAULT: 0xc2,
  BOOT: 0xc3,
} as const;

export const Nak = {
  CRC: 0x01,
  UNKNOWN_CMD: 0x02,
  BAD_LENGTH: 0x03,
  BAD_SLOT: 0x04,
  BUSY: 0x05,
  FAULT: 0x06,
  NO_DISK: 0x07,
  NOT_READY: 0x08,
} as const;

/** Motion kinds (high nibble of the status byte `lastMotion`, and in MOTION_* reports). */
export const Motion = { NONE: 0, EJECT: 1, RETRACT: 2, SELF_TEST: 3 } as const;
/** Motion results. RUNNING only appears in status while the motor turns. */
export const Result = { OK: 0, JAM: 1, MOTOR_FAULT: 2, ABORTED: 3, RUNNING: 0xf } as const;

/** Per-slot sensor flags byte. */
export const Flag = { PRESENT: 1, SEATED: 2, TRAY_OPEN: 4, MOTOR_FAULT: 8, BUSY: 16 } as const;

export const ResetCause = { POWER_ON: 0, COMMAND: 1, WATCHDOG: 2, BROWN_OUT: 3 } as const;

export interface Frame {
  addr: number;
  seq: number;
  cmd: number;
  payload: Uint8Array;
}

export function encodeFrame(f: Frame): Buffer {
  const n = f.payload.length;
  if (n > MAX_PAYLOAD) throw new RangeError(`payload of ${n} bytes exceeds ${MAX_PAYLOAD}`);
  const buf = Buffer.alloc(HEADER_LEN + n + CRC_LEN);
  buf[0] = SOF;
  buf[1] = f.addr & 0xff;
  buf[2] = n;
  buf[3] = ~n & 0xff;
  buf[4] = f.seq & 0xff;
  buf[5] = f.cmd & 0xff;
  buf.set(f.payload, HEADER_LEN);
  const crc = crc16Modbus(buf, 1, HEADER_LEN + n);
  buf.writeUInt16LE(crc, HEADER_LEN + n);
  return buf;
}

/** Decodes one complete, already delimited frame (as emitted by FrameParser). */
export function decodeFrame(buf: Uint8Array): Frame {
  return {
    addr: buf[1]!,
    seq: buf[4]!,
    cmd: buf[5]!,
    payload: Buffer.from(buf.subarray(HEADER_LEN, buf.length - CRC_LEN)),
  };
}

export function hex(buf: Uint8Array): string {
  return Buffer.from(buf).toString('hex').replace(/(..)/g, '$1 ').trim().toUpperCase();
}

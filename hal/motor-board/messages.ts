/** Payload codecs shared by the driver and the simulator (layouts in PROTOCOL.md). */
import { Flag, Motion, Result } from './frame.js';
import type {
  BoardIdentity,
  MotionEvent,
  MotionFault,
  MotionKind,
  ResetCause,
  SlotSensors,
  SlotStatus,
} from './types.js';

export const PROTOCOL_VERSION = 1;

export function sensorsToFlags(s: Omit<SlotSensors, 'slot'>): number {
  return (
    (s.present ? Flag.PRESENT : 0) |
    (s.seated ? Flag.SEATED : 0) |
    (s.trayOpen ? Flag.TRAY_OPEN : 0) |
    (s.motorFault ? Flag.MOTOR_FAULT : 0) |
    (s.busy ? Flag.BUSY : 0)
  );
}

export function flagsToSensors(slot: number, f: number): SlotSensors {
  return {
    slot,
    present: (f & Flag.PRESENT) !== 0,
    seated: (f & Flag.SEATED) !== 0,
    trayOpen: (f & Flag.TRAY_OPEN) !== 0,
    motorFault: (f & Flag.MOTOR_FAULT) !== 0,
    busy: (f & Flag.BUSY) !== 0,
  };
}

const kinds: Record<number, MotionKind> = {
  [Motion.EJECT]: 'eject',
  [Motion.RETRACT]: 'retract',
  [Motion.SELF_TEST]: 'self-test',
};
export const motionCode = (k: MotionKind): number =>
  k === 'eject' ? Motion.EJECT : k === 'retract' ? Motion.RETRACT : Motion.SELF_TEST;
export const motionKind = (code: number): MotionKind | undefined => kinds[code];

const results: Record<number, 'ok' | MotionFault | 'running'> = {
  [Result.OK]: 'ok',
  [Result.JAM]: 'jam',
  [Result.MOTOR_FAULT]: 'motor-fault',
  [Result.ABORTED]: 'aborted',
  [Result.RUNNING]: 'running',
};
export const resultName = (code: number) => results[code] ?? 'motor-fault';

const causes: ResetCause[] = ['power-on', 'command', 'watchdog', 'brown-out'];
export const resetCauseName = (code: number): ResetCause => causes[code] ?? 'unknown';

/** IDENTIFY reply and BOOT report tail: boardId u32 LE, hwRev, fw maj/min/patch, slots, protoVer. */
export function encodeIdentity(id: {
  boardId: number;
  hardwareRevision: number;
  firmware: [number, number, number];
  slotCount: number;
}): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt32LE(id.boardId >>> 0, 0);
  b[4] = id.hardwareRevision;
  b.set(id.firmware, 5);
  b[8] = id.slotCount;
  return Buffer.concat([b, Buffer.from([PROTOCOL_VERSION])]);
}

export function decodeIdentity(p: Buffer, address: number): BoardIdentity | undefined {
  if (p.length < 10) return undefined;
  return {
    boardId: p.readUInt32LE(0).toString(16).padStart(8, '0'),
    address,
    hardwareRevision: p[4]!,
    firmwareVersion: `${p[5]}.${p[6]}.${p[7]}`,
    slotCount: p[8]!,
    protocolVersion: p[9]!,
  };
}

/** GET_STATUS reply: count, then per slot [slot, flags, lastMotion(kind<<4|result), lastMotionSeq]. */
export function decodeStatus(p: Buffer): SlotStatus[] | undefined {
  const n = p[0];
  if (n === undefined || p.length !== 1 + 4 * n) return undefined;
  const out: SlotStatus[] = [];
  for (let i = 0; i < n; i++) {
    const o = 1 + 4 * i;
    const lm = p[o + 2]!;
    const kind = motionKind(lm >> 4);
    out.push({
      ...flagsToSensors(p[o]!, p[o + 1]!),
      lastMotion: kind ? { kind, result: resultName(lm & 0xf), seq: p[o + 3]! } : null,
    });
  }
  return out;
}

/** MOTION_DONE / MOTION_FAULT: [slot, kind, cmdSeq, result, flags, durationMs u16 LE]. */
export function decodeMotion(p: Buffer): MotionEvent | undefined {
  const kind = motionKind(p[1] ?? 0);
  if (p.length < 7 || !kind) return undefined;
  const result = resultName(p[3]!);
  return {
    slot: p[0]!,
    kind,
    seq: p[2]!,
    result: result === 'running' ? 'motor-fault' : result,
    sensors: flagsToSensors(p[0]!, p[4]!),
    durationMs: p.readUInt16LE(5),
  };
}

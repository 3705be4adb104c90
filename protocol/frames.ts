import type { ErrorCode, FrameError } from './errors.js';

/** OCPP-J message type numbers. */
export const MessageType = { CALL: 2, CALLRESULT: 3, CALLERROR: 4 } as const;

/** `[2, id, action, payload]` */
export interface CallFrame {
  type: 2;
  id: string;
  action: string;
  payload: unknown;
}

/** `[3, id, payload]` */
export interface CallResultFrame {
  type: 3;
  id: string;
  payload: unknown;
}

/** `[4, id, code, description, details]` */
export interface CallErrorFrame {
  type: 4;
  id: string;
  code: ErrorCode;
  description: string;
  details: Record<string, unknown>;
}

export type Frame = CallFrame | CallResultFrame | CallErrorFrame;

export type ParseResult = { ok: true; frame: Frame } | { ok: false; error: FrameError };

/** Encodes a frame to its wire text. Throws only if a payload cannot be stringified (cycles). */
export function encodeFrame(frame: Frame): string {
  switch (frame.type) {
    case 2:
      return JSON.stringify([2, frame.id, frame.action, frame.payload]);
    case 3:
      return JSON.stringify([3, frame.id, frame.payload]);
    case 4:
      return JSON.stringify([4, frame.id, frame.code, frame.description, frame.details ?? {}]);
  }
}

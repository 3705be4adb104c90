/**
 * The maintenance socket's wire format: line-delimited JSON over a Unix stream socket.
 *
 *   client -> kioskd   {"id": 7, "method": "slot.eject", "params": {"slot": 3}, "user": "alice"}
 *   kioskd -> client   {"id": 7, "progress": {...}}          (zero or more, long operations)
 *                      {"id": 7, "prompt": "..."}            (interactive steps, e.g. calibrate)
 *                      {"id": 7, "result": {...}}            (exactly one of result / error,
 *                      {"id": 7, "error": {"code": "EJAM", "message": "..."}}   then done)
 *   client -> kioskd   {"id": 7, "cancel": true}             (aborts request 7)
 *
 * One connection may carry several requests; closing it cancels the ones still running.
 *
 * The one file shared by the daemon's server (kiosk/maintenance/) and kioskctl
 * (kiosk/kioskctl/), which import nothing of each other's (lint: .dependency-cruiser.cjs).
 */
import { CodedError } from '../common/coded-error.js';

export interface WireRequest {
  id: number;
  method: string;
  params?: Record<string, unknown>;
  /** The Unix user name of the technician (for the audit trail; see maintenance/server.ts about trust). */
  user?: string;
}

export interface WireCancel {
  id: number;
  cancel: true;
}

export interface WireError {
  code: string;
  message: string;
}

export type WireReply =
  | { id: number; result: unknown }
  | { id: number; error: WireError }
  | { id: number; progress: Record<string, unknown> }
  | { id: number; prompt: string };

/** Longest accepted request line; a longer one closes the connection. */
export const MAX_LINE_BYTES = 64 * 1024;

/** An error with a code that crosses the socket unchanged. */
export class MaintenanceError extends CodedError {}

/** Splits a byte stream into lines (UTF-8), calling `onLine` for each complete one. */
export function lineSplitter(
  onLine: (line: string) => void,
  onOverflow: () => void,
): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(line);
      nl = buf.indexOf('\n');
    }
    if (buf.length > MAX_LINE_BYTES) {
      buf = '';
      onOverflow();
    }
  };
}

// What the methods answer, as kioskctl reads it (its own definitions: kioskctl imports no hal).

export interface SlotView {
  slot: number;
  state: string;
  diskId: string | null;
  usbSerial: string | null;
  capacityBytes: number | null;
  /** `contentId@version` or null. */
  content: string | null;
  writeProtect: boolean;
  reservationId: string | null;
  fault: { code: string; message: string } | null;
  disabledFrom: string | null;
  updatedAt: string;
  /** The newest event about this slot still in the outbox, else the last state change. */
  lastEvent: { type: string; at: string } | null;
  /** Live (daemon only): an error the disk in the slot reports now. */
  diskError?: string;
}

/** One problem a technician should look at, with the kioskctl command that deals with it. */
export interface FaultView {
  slot?: number;
  code: string;
  message: string;
  /** What to do about it. */
  hint: string;
}

/** One row of `kioskctl test motors|relays|sensors`. */
export interface TestRow {
  slot: number | null;
  test: string;
  result: 'pass' | 'fail' | 'skip';
  detail: string;
}

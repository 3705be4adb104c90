import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';

/** The logger type every kioskd module takes in its deps (pino). */
export type KioskLogger = Logger;

export interface CreateLoggerOptions {
  /** Bound into every line as `kioskId`. */
  kioskId: string;
  /** pino level; default `info`. `silent` for tests. */
  level?: LevelWithSilent;
  /** Where lines go; default stdout (journald collects it on the Pi). */
  destination?: DestinationStream;
}

/** Root structured logger of one kiosk: JSON lines with `kioskId` on each. */
export function createLogger(opts: CreateLoggerOptions): KioskLogger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { kioskId: opts.kioskId },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}

/** Child logger for one slot: every line carries `slot`. */
export function slotLogger(log: KioskLogger, slot: number): KioskLogger {
  return log.child({ slot });
}

/** Child logger for one hub command: every line carries `commandId` and `action`. */
export function commandLogger(log: KioskLogger, commandId: string, action: string): KioskLogger {
  return log.child({ commandId, action });
}

/** A logger that drops everything (tests, tools). */
export function silentLogger(): KioskLogger {
  return pino({ level: 'silent' });
}

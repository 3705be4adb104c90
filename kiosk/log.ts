import { renameSync, statSync } from 'node:fs';
import path from 'node:path';
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

/** A log file is rotated (to `<file>.1`, replacing the older one) at start beyond this size. */
export const LOG_FILE_ROTATE_BYTES = 16 * 1024 * 1024;

/**
 * kioskd's logger. Under systemd with journald (`JOURNAL_STREAM` set) lines go to stdout only;
 * otherwise they go to stdout and to `<dataDir>/kioskd.log` (what `kioskctl logs` reads), which
 * is rotated once at start when it has grown past LOG_FILE_ROTATE_BYTES.
 */
export function createDaemonLogger(opts: {
  kioskId: string;
  level?: LevelWithSilent;
  dataDir: string;
  env: NodeJS.ProcessEnv;
}): KioskLogger {
  const level = opts.level ?? 'info';
  if (opts.env.JOURNAL_STREAM || level === 'silent') return createLogger(opts);
  const file = path.join(opts.dataDir, 'kioskd.log');
  try {
    if (statSync(file).size > LOG_FILE_ROTATE_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // no log file yet
  }
  // multistream filters by each stream's own level: give both the logger's level.
  return createLogger({
    ...opts,
    level,
    destination: pino.multistream([
      { level, stream: pino.destination(1) },
      { level, stream: pino.destination({ dest: file, mkdir: true, sync: false }) },
    ]),
  });
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

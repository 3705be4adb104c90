import { fstatSync, renameSync, statSync } from 'node:fs';
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

/** Each root logger's children (weakly held), so a new level reaches them too. */
const childrenOf = new WeakMap<Logger, Set<WeakRef<Logger>>>();

/** Root structured logger of one kiosk: JSON lines with `kioskId` on each. */
export function createLogger(opts: CreateLoggerOptions): KioskLogger {
  const children = new Set<WeakRef<Logger>>();
  let pruneAt = 1024;
  const root = pino(
    {
      level: opts.level ?? 'info',
      base: { kioskId: opts.kioskId },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Inherited by children's children: every logger made from this root is tracked.
      onChild: (child) => {
        children.add(new WeakRef(child));
        if (children.size < pruneAt) return;
        // Per-command children come and go: drop the collected ones now and then.
        for (const ref of children) if (!ref.deref()) children.delete(ref);
        pruneAt = Math.max(1024, children.size * 2);
      },
    },
    opts.destination,
  );
  childrenOf.set(root, children);
  return root;
}

/**
 * Sets the level of a root logger from createLogger and of every child made from it (pino
 * children keep the level they were made with): the remote configuration's log level.
 */
export function setLogLevel(root: KioskLogger, level: LevelWithSilent): void {
  root.level = level;
  const children = childrenOf.get(root);
  if (!children) return;
  for (const ref of children) {
    const child = ref.deref();
    if (child) child.level = level;
    else children.delete(ref);
  }
}

/** A log file is rotated (to `<file>.1`, replacing the older one) at start beyond this size. */
export const LOG_FILE_ROTATE_BYTES = 16 * 1024 * 1024;

/**
 * The syslog priority journald gives each pino level: trace and debug 7 (debug), info 6,
 * warn 4 (warning), error 3 (err), fatal 2 (crit). `journalctl -p err -u kioskd` then shows
 * error and fatal lines only.
 */
export const JOURNAL_PRIORITY: Readonly<Record<number, number>> = {
  10: 7,
  20: 7,
  30: 6,
  40: 4,
  50: 3,
  60: 2,
};

/**
 * True when file descriptor `fd` is the journal stream systemd connected (its device and inode
 * are the `JOURNAL_STREAM` systemd set), as sd-daemon(3) says to check: stdout redirected
 * elsewhere by hand gets no prefixes.
 */
export function isJournalStream(env: NodeJS.ProcessEnv, fd = 1): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/**
 * A pino destination that writes each line to `out` with its syslog priority as an
 * sd-daemon prefix (`<3>{"level":50,...}`): journald strips the prefix and files the line
 * under that priority (systemd's SyslogLevelPrefix=, on by default).
 */
export function journalDestination(
  out: DestinationStream = pino.destination(1),
): DestinationStream {
  return {
    write(line: string) {
      const level = Number(/^\{"level":(\d+)/.exec(line)?.[1]);
      out.write(`<${JOURNAL_PRIORITY[level] ?? 6}>${line}`);
    },
  };
}

/**
 * kioskd's logger. Under systemd with journald (`JOURNAL_STREAM` set) lines go to stdout only,
 * each with its priority prefix when stdout is that journal stream; otherwise they go to stdout
 * and to `<dataDir>/kioskd.log` (what `kioskctl logs` reads), which is rotated once at start
 * when it has grown past LOG_FILE_ROTATE_BYTES.
 */
export function createDaemonLogger(opts: {
  kioskId: string;
  level?: LevelWithSilent;
  dataDir: string;
  env: NodeJS.ProcessEnv;
}): KioskLogger {
  const level = opts.level ?? 'info';
  if (opts.env.JOURNAL_STREAM || level === 'silent')
    return createLogger({
      ...opts,
      ...(isJournalStream(opts.env) ? { destination: journalDestination() } : {}),
    });
  const file = path.join(opts.dataDir, 'kioskd.log');
  try {
    if (statSync(file).size > LOG_FILE_ROTATE_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // no log file yet
  }
  // multistream filters by each stream's own level too: let both pass everything the logger
  // lets through, so that setLogLevel can lower the logger's level at run time.
  return createLogger({
    ...opts,
    level,
    destination: pino.multistream([
      { level: 'trace', stream: pino.destination(1) },
      { level: 'trace', stream: pino.destination({ dest: file, mkdir: true, sync: false }) },
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

/**
 * The diagnostics bundle (`kioskctl diag`, and the hub's UploadDiagnostics): one tar.gz for
 * support with the configuration without secrets, recent logs, a database summary, status,
 * slots, disks and versions; and the kiosk's recent log lines at a level. Every file is
 * scrubbed of the secrets the kiosk holds (its hub secret, any PEM private key) before it is
 * packed: the configuration is redacted by key, and the scrub catches a secret that reached a
 * log line or a status field.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { redactConfig } from '../config/redact.js';
import type { KioskConfig } from '../config.js';
import type { KioskDb } from '../db/open-db.js';
import { imageVersion, packageVersion } from '../version.js';

/** journalctl when this system has it and kioskd runs under systemd; else `<dataDir>/kioskd.log`. */
export function logSource(
  dataDir: string,
): { kind: 'journal' } | { kind: 'file'; file: string } | null {
  const j = spawnSync('journalctl', ['--version'], { stdio: 'ignore' });
  if (j.status === 0 && existsSync('/run/systemd/system')) return { kind: 'journal' };
  const file = path.join(dataDir, 'kioskd.log');
  return existsSync(file) ? { kind: 'file', file } : null;
}

/** The last `n` lines of a file. */
export function tailLines(file: string, n: number): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n);
}

/** Row counts per table, user_version and integrity_check of the kiosk database. */
export function dbSummary(db: KioskDb) {
  const tables = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all() as Array<{ name: string }>;
  const counts: Record<string, number> = {};
  for (const { name } of tables)
    counts[name] = (
      db.prepare(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }
    ).n;
  return {
    userVersion: db.pragma('user_version', { simple: true }) as number,
    integrityCheck: (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map(
      (r) => r.integrity_check,
    ),
    counts,
  };
}

/** pino's numeric levels by name; `LOG_LEVELS[level]` is the lowest number included. */
export const LOG_LEVELS = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
} as const;
export type LogLevelName = keyof typeof LOG_LEVELS;
/** journalctl's priority for each level (kiosk/log.ts JOURNAL_PRIORITY). */
const JOURNAL_PRIORITY: Record<LogLevelName, string> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warning',
  error: 'err',
  fatal: 'crit',
};

/**
 * kioskd's newest `n` log lines at `level` or above (JSON lines as pino wrote them): from the
 * journal (`journalctl -p`), else from `<dataDir>/kioskd.log`. Lines that are not pino JSON
 * count as `info`.
 */
export function recentLogLines(dataDir: string, n: number, level: LogLevelName = 'trace'): string {
  const src = logSource(dataDir);
  if (!src) return '(no journal and no kioskd.log)\n';
  if (src.kind === 'journal') {
    const args = ['-u', 'kioskd', '-n', String(n), '--no-pager', '-o', 'cat'];
    if (level !== 'trace') args.push('-p', JOURNAL_PRIORITY[level]);
    const r = spawnSync('journalctl', args, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
    return r.stdout || r.stderr || '(journalctl printed nothing)\n';
  }
  const min = LOG_LEVELS[level];
  const lines = tailLines(src.file, level === 'trace' ? n : Number.MAX_SAFE_INTEGER).filter(
    (l) => (Number(/^\{"level":(\d+)/.exec(l)?.[1]) || LOG_LEVELS.info) >= min,
  );
  const out = lines.slice(-n);
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * `text` with every occurrence of each secret, and every PEM private key block, replaced by
 * `<redacted>`. Secrets shorter than 8 characters are ignored (they would match by chance).
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
    '<redacted>',
  );
  for (const s of secrets) if (s.length >= 8) out = out.replaceAll(s, '<redacted>');
  return out;
}

/** What a bundle is made from; `call` asks kioskd (status, slots, disks). */
export interface BundleSources {
  config: KioskConfig;
  /** Opens the kiosk database (read-only for kioskctl); closed after use when `close` is true. */
  db: () => { db: KioskDb; close: boolean };
  call: (method: 'status' | 'slots' | 'disks') => Promise<unknown>;
  /** Secrets to scrub from every file (the hub secret). */
  secrets: readonly string[];
  /** Who built it, for versions.json (`kioskctl` or `kioskd`). */
  builtBy: 'kioskctl' | 'kioskd';
}

/** Writes the diagnostics bundle (tar.gz, top directory `kioskctl-diag/`) to `out`. */
export async function writeDiagBundle(out: string, src: BundleSources): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiosk-diag-'));
  const root = path.join(dir, 'kioskctl-diag');
  try {
    mkdirSync(root);
    const put = (name: string, v: unknown) =>
      writeFileSync(
        path.join(root, name),
        scrubSecrets(typeof v === 'string' ? v : `${JSON.stringify(v, null, 2)}\n`, src.secrets),
      );
    const cfg = src.config;
    put('config.json', redactConfig(cfg));
    put('versions.json', {
      [src.builtBy]: packageVersion(),
      image: imageVersion(),
      node: process.version,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      at: new Date().toISOString(),
    });
    try {
      const { db, close } = src.db();
      try {
        put('database.json', dbSummary(db));
      } finally {
        if (close) db.close();
      }
    } catch (err) {
      put('database.json', { error: (err as Error).message });
    }
    put('kioskd.log', recentLogLines(cfg.dataDir, 2000));
    for (const m of ['status', 'slots', 'disks'] as const) {
      try {
        put(`${m}.json`, await src.call(m));
      } catch (err) {
        put(`${m}.json`, { error: (err as Error).message });
      }
    }
    await execa('tar', ['-czf', path.resolve(out), '-C', dir, 'kioskctl-diag']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Online backups of the hub's SQLite database and their restore.
 *
 * backupHub(): `VACUUM INTO` a staging directory, from a connection of its own while the
 * hub keeps writing (WAL: one read transaction, so the copy is the database as of one
 * commit, and writers are never blocked), fsync, `PRAGMA integrity_check` on the copy, the
 * signing key beside it (kiosks verify the hub's commands with its public key: a hub
 * restored without it could command none of them), a manifest with the SHA-256, then one
 * rename to `cloud-lite-<UTC time>`; older backups beyond `keep` are removed.
 *
 * restoreHub(): checks the backup (manifest, SHA-256, integrity, schema version), takes
 * the database's exclusive lock (a running hub holds it open, so the lock fails and the
 * restore refuses), keeps the current files as `*.before-restore-<time>`, and puts the
 * backup's in place with renames; files get the owner of their directory (a restore run
 * as root for a hub running as its own user).
 */
import { createHash } from 'node:crypto';
import {
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HubError } from '../../errors.js';
import { migrations } from './migrations/index.js';

export const BACKUP_PREFIX = 'cloud-lite-';
const DB_FILE = 'hub.db';
const KEY_FILE = 'hub-signing-key.pem';
const MANIFEST = 'backup.json';

/** A backup or a restore that did not happen; the message says why and what to do. */
export class BackupError extends HubError {
  constructor(code: 'EBACKUP' | 'ERESTORE' | 'EHUBRUNNING', message: string) {
    super(code, message);
    this.name = 'BackupError';
  }
}

export interface BackupManifest {
  createdAt: string;
  /** cloud-lite's version that made it. */
  hubVersion: string;
  /** `PRAGMA user_version` (schema version) of the copy. */
  schemaVersion: number;
  database: { file: string; bytes: number; sha256: string };
  signingKey: string | null;
}

export interface BackupResult {
  /** The backup directory. */
  dir: string;
  manifest: BackupManifest;
  /** Older backups removed by retention. */
  removed: string[];
  tookMs: number;
}

/** `2025-01-31T04:05:06.789Z` -> `20250131T040506789Z` (sorts by time). */
export function backupStamp(d: Date): string {
  return d.toISOString().replace(/[-:.]/g, '');
}

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function integrity(file: string): { ok: boolean; detail: string; schemaVersion: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const detail = rows.map((r) => r.integrity_check).join('; ');
    return {
      ok: detail === 'ok',
      detail,
      schemaVersion: db.pragma('user_version', { simple: true }) as number,
    };
  } finally {
    db.close();
  }
}

/** Backup directories in `dir`, oldest first. */
export function listBackups(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name.startsWith(BACKUP_PREFIX))
    .map((e) => e.name)
    .sort()
    .map((n) => path.join(dir, n));
}

export async function backupHub(opts: {
  databasePath: string;
  signingKeyPath: string;
  /** The directory that holds the backups. */
  to: string;
  /** Backups kept (the newest), this one included. */
  keep: number;
  hubVersion: string;
  now?: () => Date;
}): Promise<BackupResult> {
  const started = Date.now();
  const now = opts.now ?? (() => new Date());
  if (!Number.isInteger(opts.keep) || opts.keep < 1)
    throw new BackupError('EBACKUP', `--keep must be a whole number >= 1 (got ${opts.keep})`);
  if (!existsSync(opts.databasePath))
    throw new BackupError(
      'EBACKUP',
      `no database at ${opts.databasePath}: check databasePath in the hub configuration`,
    );
  mkdirSync(opts.to, { recursive: true, mode: 0o750 });
  const createdAt = now();
  const name = `${BACKUP_PREFIX}${backupStamp(createdAt)}`;
  const staging = path.join(opts.to, `.${name}.partial`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o700 });
  try {
    const copy = path.join(staging, DB_FILE);
    // A connection of our own, read-only work: VACUUM INTO reads in one transaction.
    const src = new Database(opts.databasePath, { fileMustExist: true, timeout: 10_000 });
    try {
      src.prepare('VACUUM INTO ?').run(copy);
    } finally {
      src.close();
    }
    fsyncPath(copy);
    const check = integrity(copy);
    if (!check.ok)
      throw new BackupError('EBACKUP', `the copy failed its integrity check: ${check.detail}`);
    let signingKey: string | null = null;
    if (existsSync(opts.signingKeyPath)) {
      copyFileSync(opts.signingKeyPath, path.join(staging, KEY_FILE));
      fsyncPath(path.join(staging, KEY_FILE));
      signingKey = KEY_FILE;
    }
    const manifest: BackupManifest = {
      createdAt: createdAt.toISOString(),
      hubVersion: opts.hubVersion,
      schemaVersion: check.schemaVersion,
      database: { file: DB_FILE, bytes: statSync(copy).size, sha256: sha256(copy) },
      signingKey,
    };
    writeFileSync(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, {
      mode: 0o600,
    });
    fsyncPath(path.join(staging, MANIFEST));
    fsyncPath(staging);
    const dir = path.join(opts.to, name);
    renameSync(staging, dir);
    fsyncPath(opts.to);
    const all = listBackups(opts.to);
    const removed = all.slice(0, Math.max(0, all.length - opts.keep));
    for (const old of removed) rmSync(old, { recursive: true, force: true });
    return { dir, manifest, removed, tookMs: Date.now() - started };
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (err instanceof HubError) throw err;
    throw new BackupError('EBACKUP', `backup failed: ${(err as Error).message}`);
  }
}

/** Checks a backup directory; returns its manifest. Throws BackupError ERESTORE naming what is wrong. */
export function verifyBackup(dir: string): BackupManifest {
  const bad = (why: string) =>
    new BackupError('ERESTORE', `${dir} is not a usable cloud-lite backup: ${why}`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as BackupManifest;
  } catch (err) {
    throw bad(`cannot read ${MANIFEST}: ${(err as Error).message}`);
  }
  const db = path.join(dir, manifest.database?.file ?? DB_FILE);
  if (!existsSync(db)) throw bad(`${path.basename(db)} is missing`);
  if (sha256(db) !== manifest.database.sha256)
    throw bad(`${path.basename(db)} does not match the SHA-256 in ${MANIFEST} (damaged copy)`);
  const check = integrity(db);
  if (!check.ok) throw bad(`integrity check: ${check.detail}`);
  if (check.schemaVersion > migrations.length)
    throw bad(
      `its schema version ${check.schemaVersion} is newer than this cloud-lite knows (${migrations.length}); restore with the cloud-lite that made it (${manifest.hubVersion})`,
    );
  if (manifest.signingKey && !existsSync(path.join(dir, manifest.signingKey)))
    throw bad(`${manifest.signingKey} is missing`);
  return manifest;
}

export interface RestoreResult {
  databasePath: string;
  /** Where the files replaced were kept (empty when there were none). */
  kept: string[];
  manifest: BackupManifest;
}

/**
 * Holds the database's exclusive lock (or returns null when there is no database yet).
 * Throws EHUBRUNNING when another process has it open.
 */
function lockDatabase(file: string): Database.Database | null {
  if (!existsSync(file)) return null;
  const db = new Database(file, { fileMustExist: true, timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    // Folds the WAL into the file (the copy kept aside is then complete) and leaves no
    // -wal/-shm behind; keeps the exclusive lock.
    db.pragma('journal_mode = DELETE');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY')
      throw new BackupError(
        'EHUBRUNNING',
        `the hub is running (${file} is open in another process): stop it first (systemctl stop cloud-lite), then restore`,
      );
    throw err;
  }
}

/** Gives `file` the owner of its directory when running as root. */
function ownLikeDir(file: string): void {
  if (process.getuid?.() !== 0) return;
  const d = statSync(path.dirname(file));
  chownSync(file, d.uid, d.gid);
}

export function restoreHub(opts: {
  from: string;
  databasePath: string;
  signingKeyPath: string;
  now?: () => Date;
}): RestoreResult {
  const manifest = verifyBackup(opts.from);
  const stamp = backupStamp((opts.now ?? (() => new Date()))());
  const target = path.resolve(opts.databasePath);
  mkdirSync(path.dirname(target), { recursive: true });
  const lock = lockDatabase(target);
  const kept: string[] = [];
  try {
    const incoming = `${target}.restoring`;
    copyFileSync(path.join(opts.from, manifest.database.file), incoming);
    fsyncPath(incoming);
    ownLikeDir(incoming);
    if (lock) {
      const old = `${target}.before-restore-${stamp}`;
      renameSync(target, old);
      kept.push(old);
    }
    for (const side of ['-wal', '-shm', '-journal']) rmSync(target + side, { force: true });
    renameSync(incoming, target);
    if (manifest.signingKey) {
      const key = path.resolve(opts.signingKeyPath);
      const from = path.join(opts.from, manifest.signingKey);
      mkdirSync(path.dirname(key), { recursive: true });
      if (existsSync(key) && readFileSync(key, 'utf8') !== readFileSync(from, 'utf8')) {
        const old = `${key}.before-restore-${stamp}`;
        renameSync(key, old);
        kept.push(old);
      }
      copyFileSync(from, `${key}.restoring`);
      fsyncPath(`${key}.restoring`);
      ownLikeDir(`${key}.restoring`);
      renameSync(`${key}.restoring`, key);
      fsyncPath(path.dirname(key));
    }
    fsyncPath(path.dirname(target));
  } finally {
    lock?.close();
  }
  return { databasePath: target, kept, manifest };
}

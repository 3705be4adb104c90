import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes `text` to `file` atomically: a temp file in the same directory, fsync'd, renamed over
 * `file`, then the directory fsync'd so the rename survives a power cut. A reader sees the old
 * file or the new one, never a part. The temp file is removed when anything fails.
 */
export function writeAtomic(file: string, text: string, mode = 0o640): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode, flush: true });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is done.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

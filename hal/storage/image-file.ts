/**
 * exFAT block images as regular files in the kiosk's cache: made sparse and formatted
 * (`mkfs.exfat` on the file: no root needed) and mapped (`bmaptool create`, Debian's
 * bmap-tools: which 4 KiB blocks hold data). Mounting one is a privileged step
 * (Storage.mountImage, through the storage helper on the SD image).
 */
import { open, readFile, rm } from 'node:fs/promises';
import { runTool } from './run-tool.js';
import { StorageError } from './types.js';

/** `kernel` when /proc/filesystems lists exfat, else `fuse`; `forced` wins unless `auto`. */
export async function exfatDriver(
  forced: 'auto' | 'kernel' | 'fuse' = 'auto',
): Promise<'kernel' | 'fuse'> {
  if (forced !== 'auto') return forced;
  const fs = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  return /^(nodev)?\s+exfat$/m.test(fs) ? 'kernel' : 'fuse';
}

export interface ImageFormat {
  /** Volume size; the file is made this long (sparse). A multiple of 1 MiB. */
  sizeBytes: number;
  label: string;
  /** exFAT cluster size, a power of two from 4 KiB to 32 MiB. */
  clusterBytes: number;
}

/** Creates `file` sparse and formats it exFAT. Rejects ETOOL (mkfs) or EINVAL. Seconds. */
export async function formatImageFile(file: string, f: ImageFormat): Promise<void> {
  if (f.sizeBytes <= 0 || f.sizeBytes % 2 ** 20 !== 0)
    throw new StorageError(
      'EINVAL',
      `image size ${f.sizeBytes} is not a positive multiple of 1 MiB`,
    );
  await rm(file, { force: true });
  const fh = await open(file, 'w');
  try {
    await fh.truncate(f.sizeBytes);
  } finally {
    await fh.close();
  }
  await runTool('mkfs.exfat', ['-c', String(f.clusterBytes), '-L', f.label, file], {
    doing: `formatting the image ${file}`,
    timeoutMs: 5 * 60_000,
  });
}

/**
 * `bmaptool create --no-checksum -o out file`: the block map of `file` (bmap XML, format
 * 2.0) without range checksums (the caller hashes its own refined ranges in a worker);
 * resolves with the XML as written. Rejects ETOOL, saying "install bmap-tools" when
 * bmaptool is missing. Reads the file's extent map only (FIEMAP / SEEK_DATA), not its data.
 */
export async function createBlockMap(file: string, out: string): Promise<string> {
  try {
    await runTool('bmaptool', ['create', '--no-checksum', '-o', out, file], {
      doing: `mapping the image ${file}`,
      timeoutMs: 30 * 60_000,
    });
    return await readFile(out, 'utf8');
  } catch (err) {
    if (err instanceof StorageError && err.exitCode === -1)
      throw new StorageError(
        'ETOOL',
        `bmaptool cannot run: install bmap-tools (scripts/setup-system.sh)`,
        {
          cause: err,
          tool: 'bmaptool',
          exitCode: -1,
          stderr: err.stderr ?? '',
        },
      );
    throw err;
  }
}

/**
 * bench:clone, file mode: the pipeline's copy step (staging view of hard links into the
 * content-addressed store, N parallel rsync processes) vs plain `cp -r` of the same tree,
 * each timed from the start of the copy to the end of the unmount (so the flush is
 * included); the pipeline's verify (SHA-256 in worker threads) vs a plain sequential read
 * of the same files, both after unmount, buffer-cache flush, drop_caches and a fresh mount.
 * On an exFAT (exfat-fuse) loop disk.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Storage } from '../../hal/storage/index.js';
import { waitReleased } from '../../hal/storage/mounts.js';
import { rsyncCopy } from '../../kiosk/cloning/rsync-copy.js';
import { buildStaging } from '../../kiosk/cloning/staging.js';
import { verifyTree } from '../../kiosk/cloning/verify.js';
import type { BlobStore } from '../../kiosk/content/blob-store.js';
import type { ContentManifest } from '../../kiosk/content/manifest.js';
import { dropCaches, mbps, median, sequentialRead, sh, timed, treeSize } from './clone-tools.js';

export interface FileModeTarget {
  device: string;
  mnt: string;
  /** Scratch directory for rsync's file lists. */
  work: string;
  trials: number;
  processes: number;
  readers: number;
  hashFiles: Storage['hashFiles'];
}

/**
 * Unmounts the exfat-fuse mount and waits until its daemon has let go of the device (umount
 * can return before it has: the next mount then fails "Device or resource busy").
 */
async function unmount(device: string, mnt: string): Promise<void> {
  await sh('umount', [mnt]);
  if (!(await waitReleased(device, 30_000)))
    throw new Error(`${device} is still held 30 s after unmounting ${mnt}`);
}

async function freshMount(device: string, mnt: string): Promise<void> {
  await sh('mkfs.exfat', ['-L', 'BENCH', device]);
  await mkdir(mnt, { recursive: true });
  await sh('mount.exfat-fuse', ['-o', 'noatime', device, mnt]);
}

async function checkCopied(dir: string, m: ContentManifest, what: string): Promise<void> {
  const s = await treeSize(dir);
  if (s.files !== m.files.length || s.bytes !== m.totalBytes) {
    throw new Error(
      `${what}: copied ${s.files} files / ${s.bytes} bytes, expected ${m.files.length} / ${m.totalBytes}`,
    );
  }
}

export interface FileModeRow {
  set: string;
  cp: number;
  pipe: number;
  read: number;
  verify: number;
  bytes: number;
}

/** Both steps of file mode for one content set, `trials` times each (medians). */
export async function benchFileMode(
  store: BlobStore,
  m: ContentManifest,
  o: FileModeTarget,
): Promise<FileModeRow> {
  const { device, mnt, work } = o;
  const staging = await buildStaging(store.stagingDir, m, (h) => store.blobPath(h));
  const warm = () => sequentialRead(staging.root);
  const cpTimes: number[] = [];
  const pipeTimes: number[] = [];
  for (let i = 1; i <= o.trials; i++) {
    for (const mode of ['cp', 'pipeline'] as const) {
      await freshMount(device, mnt);
      await dropCaches(device);
      await warm(); // both read the source from the page cache
      const { secs } = await timed(async () => {
        if (mode === 'cp') {
          await sh('cp', ['-r', staging.root, path.join(mnt, 'x')]);
        } else {
          await mkdir(path.join(mnt, 'x'));
          let last = 0;
          await rsyncCopy({
            source: staging.root,
            target: path.join(mnt, 'x'),
            files: m.files,
            processes: o.processes,
            listDir: work,
            onProgress: (b) => {
              const pct = Math.floor((b / m.totalBytes) * 100);
              if (pct >= last + 10) {
                last = pct;
                process.stdout.write(`\r    pipeline copy ${pct}%   `);
              }
            },
          });
        }
        await unmount(device, mnt); // flush included
      });
      await sh('mount.exfat-fuse', ['-o', 'ro', device, mnt]);
      await checkCopied(path.join(mnt, 'x'), m, `${m.contentId} ${mode}`);
      await unmount(device, mnt);
      (mode === 'cp' ? cpTimes : pipeTimes).push(secs);
      process.stdout.write(
        `\r  ${m.contentId} trial ${i}: ${mode.padEnd(8)} ${secs.toFixed(2)} s  (${mbps(m.totalBytes, secs).toFixed(1)} MB/s)\n`,
      );
    }
  }
  // Verify vs plain read, from the disk: unmount, flush buffers, drop caches, mount.
  const readTimes: number[] = [];
  const verifyTimes: number[] = [];
  for (let i = 1; i <= o.trials; i++) {
    for (const mode of ['read', 'verify'] as const) {
      await dropCaches(device);
      await sh('mount.exfat-fuse', ['-o', 'ro', device, mnt]);
      const root = path.join(mnt, 'x');
      const { secs, result } = await timed(async () => {
        if (mode === 'read') return sequentialRead(root);
        const v = await verifyTree(root, m, {
          readers: o.readers,
          hashFiles: o.hashFiles,
        });
        if (!v.ok)
          throw new Error(`verify failed on an intact copy: ${JSON.stringify(v).slice(0, 300)}`);
        return v.bytesRead;
      });
      await unmount(device, mnt);
      if (result !== m.totalBytes)
        throw new Error(`${mode} read ${result} bytes, expected ${m.totalBytes}`);
      (mode === 'read' ? readTimes : verifyTimes).push(secs);
      process.stdout.write(
        `  ${m.contentId} trial ${i}: ${mode.padEnd(8)} ${secs.toFixed(2)} s  (${mbps(m.totalBytes, secs).toFixed(1)} MB/s)\n`,
      );
    }
  }
  await staging.remove();
  return {
    set: m.contentId,
    cp: median(cpTimes),
    pipe: median(pipeTimes),
    read: median(readTimes),
    verify: median(verifyTimes),
    bytes: m.totalBytes,
  };
}

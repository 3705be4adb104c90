/**
 * The quick check of a disk the kiosk believes is prepared (a slot coming back from
 * `disabled`): its identity file names this disk and the content the kiosk recorded, its
 * manifest is the one the kiosk knows (the cache's signed copy when cached), and every file
 * of the manifest is on the disk with its size. No file is hashed: seconds, not the minutes
 * of a full verification (DiskCheckService.verifySlot).
 */

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CodedError } from '../../common/coded-error.js';
import { canonicalJson } from '../../protocol/index.js';
import type { ContentManifest } from '../content/manifest.js';
import type { ExpectedDisk } from '../slots/ready-again.js';
import type { SlotDiskLocator } from './disk-records.js';
import { readIdentity } from './identity.js';
import type { CloneStorage } from './types.js';

export interface QuickCheckDeps {
  storage: Pick<CloneStorage, 'mount' | 'unmount'>;
  locateDisk: SlotDiskLocator;
  manifestOf?: (contentId: string, version: string) => ContentManifest | undefined;
}

/** Why a disk did not pass; `code` is ENODEVICE, ENOIDENTITY, EIDENTITY, EMANIFEST or EVERIFY. */
export class QuickCheckError extends CodedError {}

/**
 * Mounts the disk in `slot` read-only and checks it against `expect` (see the file comment).
 * Resolves when it checks out; rejects QuickCheckError, or the storage's error (EMOUNT...).
 * Unmounts in every case.
 */
export async function quickCheckDisk(
  deps: QuickCheckDeps,
  slot: number,
  expect: ExpectedDisk,
): Promise<void> {
  const loc = await deps.locateDisk(slot).catch(() => undefined);
  if (!loc) throw new QuickCheckError('ENODEVICE', `no block device for the disk in slot ${slot}`);
  await deps.storage.unmount(loc.device);
  const mnt = await deps.storage.mount(loc.device, { readOnly: true });
  try {
    const id = await readIdentity(mnt.mountpoint);
    if (!id) throw new QuickCheckError('ENOIDENTITY', 'the disk has no readable identity file');
    if (
      id.diskId !== expect.diskId ||
      id.contentId !== expect.contentId ||
      id.contentVersion !== expect.version
    )
      throw new QuickCheckError(
        'EIDENTITY',
        `the identity file says ${id.diskId} with ${id.contentId}@${id.contentVersion}; the kiosk recorded ${expect.diskId} with ${expect.contentId}@${expect.version}`,
      );
    const known = deps.manifestOf?.(expect.contentId, expect.version);
    if (known && canonicalJson(known.files) !== canonicalJson(id.manifest.files))
      throw new QuickCheckError('EMANIFEST', "the disk's manifest is not the kiosk's");
    for (const f of (known ?? id.manifest).files) {
      const st = await stat(path.join(mnt.mountpoint, ...f.path.split('/'))).catch(() => undefined);
      if (!st?.isFile() || st.size !== f.size)
        throw new QuickCheckError(
          'EVERIFY',
          `${f.path} is ${st ? `${st.size} bytes, not ${f.size}` : 'missing'}`,
        );
    }
  } finally {
    await deps.storage.unmount(loc.device);
  }
}

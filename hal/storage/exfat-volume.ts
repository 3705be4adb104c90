/**
 * The few exFAT structures a block image needs changed per disk (Microsoft's exFAT
 * specification, sections 3.1-3.4 and 7.3): the volume serial number in the main and
 * backup boot sectors (with the boot checksum sectors that cover them) and the volume
 * label directory entry in the root directory. `tune.exfat -I/-L` (exfatprogs) changes the
 * same bytes on a finished disk; computing them as patches instead lets the image writer
 * put them on the disk in the same sequential pass, and the verification cover them.
 */
import type { BlockPatch } from './block-io.js';
import { StorageError } from './types.js';

export interface ExfatGeometry {
  sectorBytes: number;
  clusterBytes: number;
  /** Byte offsets from the start of the volume. */
  fatOffset: number;
  heapOffset: number;
  clusterCount: number;
  rootCluster: number;
  volumeBytes: number;
  serial: number;
}

/** Reads `length` bytes at `offset` of the volume. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

const SERIAL_AT = 100;
const ENTRY = 32;
const LABEL_ENTRY = 0x83;
const LABEL_UNUSED = 0x03;
const END_OF_DIRECTORY = 0x00;

/** The geometry of an exFAT volume from its main boot sector; EINVAL when it is none. */
export function parseBootSector(b: Buffer): ExfatGeometry {
  if (
    b.length < 512 ||
    b.toString('latin1', 3, 11) !== 'EXFAT   ' ||
    b.readUInt16LE(510) !== 0xaa55
  )
    throw new StorageError('EINVAL', 'not an exFAT volume (no EXFAT boot sector signature)');
  const sectorShift = b[108] ?? 0;
  const clusterShift = b[109] ?? 0;
  if (sectorShift < 9 || sectorShift > 12 || sectorShift + clusterShift > 25)
    throw new StorageError(
      'EINVAL',
      `exFAT boot sector has bad shifts (${sectorShift}, ${clusterShift})`,
    );
  const sectorBytes = 2 ** sectorShift;
  return {
    sectorBytes,
    clusterBytes: sectorBytes * 2 ** clusterShift,
    fatOffset: b.readUInt32LE(80) * sectorBytes,
    heapOffset: b.readUInt32LE(88) * sectorBytes,
    clusterCount: b.readUInt32LE(92),
    rootCluster: b.readUInt32LE(96),
    volumeBytes: Number(b.readBigUInt64LE(72)) * sectorBytes,
    serial: b.readUInt32LE(SERIAL_AT),
  };
}

/** The boot checksum over the first 11 sectors of a boot region (spec 3.4). */
export function bootChecksum(region: Buffer, sectorBytes: number): number {
  let sum = 0;
  for (let i = 0; i < 11 * sectorBytes; i++) {
    if (i === 106 || i === 107 || i === 112) continue;
    sum = (((sum & 1) !== 0 ? 0x80000000 : 0) + (sum >>> 1) + (region[i] ?? 0)) >>> 0;
  }
  return sum;
}

/** `1234-ABCD`, the way blkid and Windows show an exFAT volume serial. */
export function formatSerial(serial: number): string {
  const h = (serial >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `${h.slice(0, 4)}-${h.slice(4)}`;
}

/** Byte offset of the volume label entry in the first cluster of the root directory. */
async function labelEntryOffset(g: ExfatGeometry, readAt: ReadAt): Promise<number | undefined> {
  const root = g.heapOffset + (g.rootCluster - 2) * g.clusterBytes;
  const dir = await readAt(root, g.clusterBytes);
  for (let at = 0; at + ENTRY <= dir.length; at += ENTRY) {
    const type = dir[at];
    if (type === END_OF_DIRECTORY) break;
    if (type === LABEL_ENTRY || type === LABEL_UNUSED) return root + at;
  }
  return undefined;
}

export interface VolumePatchOptions {
  /** New volume serial (32 bits). */
  serial: number;
  /** New volume label (1-11 characters, already validated); unchanged when absent. */
  label?: string;
}

/**
 * The patches that give the volume read through `readAt` a new serial (main and backup
 * boot sectors, both checksum sectors) and optionally a new label. Rejects EINVAL when
 * the volume is not exFAT, or a label is asked for and the root has no label entry.
 */
export async function volumePatches(readAt: ReadAt, o: VolumePatchOptions): Promise<BlockPatch[]> {
  const first = await readAt(0, 512);
  const g = parseBootSector(first);
  const s = g.sectorBytes;
  const region = Buffer.from(await readAt(0, 12 * s));
  region.writeUInt32LE(o.serial >>> 0, SERIAL_AT);
  const sum = bootChecksum(region, s);
  const sumSector = Buffer.alloc(s);
  for (let i = 0; i < s; i += 4) sumSector.writeUInt32LE(sum, i);
  const serial = region.subarray(SERIAL_AT, SERIAL_AT + 4);
  const patches: BlockPatch[] = [
    { offset: SERIAL_AT, bytes: Buffer.from(serial) },
    { offset: 11 * s, bytes: sumSector },
    { offset: 12 * s + SERIAL_AT, bytes: Buffer.from(serial) },
    { offset: 23 * s, bytes: sumSector },
  ];
  if (o.label !== undefined) {
    const at = await labelEntryOffset(g, readAt);
    if (at === undefined)
      throw new StorageError('EINVAL', 'the exFAT root directory has no volume label entry');
    const entry = Buffer.alloc(ENTRY);
    entry[0] = LABEL_ENTRY;
    entry[1] = o.label.length;
    entry.write(o.label, 2, 22, 'utf16le');
    patches.push({ offset: at, bytes: entry });
  }
  return patches;
}

/** Where volumePatches() writes, as 4 KiB-aligned regions (for a block map to isolate them). */
export async function patchRegions(
  readAt: ReadAt,
  block = 4096,
): Promise<{ offset: number; length: number }[]> {
  const patches = await volumePatches(readAt, { serial: 0, label: 'X' });
  const blocks = new Set<number>();
  for (const p of patches) {
    for (let b = Math.floor(p.offset / block); b * block < p.offset + p.bytes.length; b++)
      blocks.add(b);
  }
  return [...blocks].sort((a, b) => a - b).map((b) => ({ offset: b * block, length: block }));
}

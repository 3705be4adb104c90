/**
 * The few exFAT structures a block image needs changed per disk (Microsoft's exFAT
 * specification, sections 3.1-3.4 and 7.3): the volume serial number in the main and
 * backup boot sectors (with the boot checksum sectors that cover them) and the volume
 * label directory entry in the root directory. `tune.exfat -I/-L` (exfatprogs) changes the
 * same bytes on a finished disk; computing them as patches instead lets the image writer
 * put them on the disk in the same sequential pass, and the verification cover them.
 *
 * fileExtent() finds where a file's data lies on the volume (directory entry sets, spec
 * 6.3 and 7.4-7.7), so that a file the image holds at a fixed size (the disk's identity) can
 * be given per-disk bytes as one more patch; it refuses a file whose clusters are not
 * contiguous.
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
const FILE_ENTRY = 0x85;
const STREAM_ENTRY = 0xc0;
const NAME_ENTRY = 0xc1;
const DIRECTORY_ATTRIBUTE = 0x10;
const NO_FAT_CHAIN = 0x02;
const END_OF_CHAIN = 0xffffffff;
/** Longest directory read while looking a path up (a directory of 20,000 files is ~2 MiB). */
const MAX_DIRECTORY_BYTES = 64 * 2 ** 20;

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

/**
 * Where volumePatches() writes, and the data of `files` that are on the volume (per-disk
 * files patched whole, see fileExtent), as `block`-aligned regions, for a block map to
 * isolate them.
 */
export async function patchRegions(
  readAt: ReadAt,
  block = 4096,
  files: readonly string[] = [],
): Promise<{ offset: number; length: number }[]> {
  const patches = await volumePatches(readAt, { serial: 0, label: 'X' });
  const spans: { offset: number; length: number }[] = patches.map((p) => ({
    offset: p.offset,
    length: p.bytes.length,
  }));
  for (const f of files) {
    const e = await fileExtent(readAt, f).catch(() => undefined);
    if (e) spans.push(e);
  }
  const regions: { offset: number; length: number }[] = [];
  for (const sp of spans.sort((a, b) => a.offset - b.offset)) {
    const from = Math.floor(sp.offset / block) * block;
    const to = Math.ceil((sp.offset + sp.length) / block) * block;
    const last = regions.at(-1);
    if (last && from <= last.offset + last.length)
      last.length = Math.max(last.length, to - last.offset);
    else regions.push({ offset: from, length: to - from });
  }
  return regions;
}

/** A file's data on the volume: `length` bytes (its data length) from byte `offset`. */
export interface FileExtent {
  offset: number;
  length: number;
}

interface EntryStream {
  directory: boolean;
  noFatChain: boolean;
  firstCluster: number;
  validLength: number;
  length: number;
}

const clusterAt = (g: ExfatGeometry, c: number) => g.heapOffset + (c - 2) * g.clusterBytes;

/**
 * The clusters of a chain of `count` clusters from `first` (count undefined: up to the FAT's
 * end-of-chain mark, as for the root directory), as runs of consecutive clusters.
 */
async function chainOf(
  g: ExfatGeometry,
  readAt: ReadAt,
  first: number,
  count: number | undefined,
  noFatChain: boolean,
): Promise<{ first: number; count: number }[]> {
  const bad = (why: string) =>
    new StorageError('EINVAL', `exFAT cluster chain from ${first}: ${why}`);
  const valid = (c: number) => c >= 2 && c < g.clusterCount + 2;
  if (!valid(first)) throw bad('not a cluster of the heap');
  if (noFatChain) {
    if (count === undefined || !valid(first + count - 1)) throw bad('runs past the heap');
    return [{ first, count }];
  }
  const runs: { first: number; count: number }[] = [];
  let c = first;
  for (let n = 0; count === undefined || n < count; n++) {
    if (!valid(c) || n > g.clusterCount) throw bad(`cluster ${c} is not in the heap (or a loop)`);
    const last = runs.at(-1);
    if (last && last.first + last.count === c) last.count++;
    else runs.push({ first: c, count: 1 });
    const next = (await readAt(g.fatOffset + c * 4, 4)).readUInt32LE(0);
    if (next === END_OF_CHAIN) {
      if (count !== undefined && n + 1 < count) throw bad('ends before the data does');
      break;
    }
    c = next;
  }
  return runs;
}

/** The bytes of a directory (its clusters in chain order). */
async function readDirectory(
  g: ExfatGeometry,
  readAt: ReadAt,
  first: number,
  bytes: number | undefined,
  noFatChain: boolean,
): Promise<Buffer> {
  const count = bytes === undefined ? undefined : Math.ceil(bytes / g.clusterBytes);
  const runs = await chainOf(g, readAt, first, count, noFatChain);
  const total = runs.reduce((s, r) => s + r.count, 0) * g.clusterBytes;
  if (total > MAX_DIRECTORY_BYTES)
    throw new StorageError('EINVAL', `exFAT directory at cluster ${first} is ${total} bytes long`);
  return Buffer.concat(
    await Promise.all(runs.map((r) => readAt(clusterAt(g, r.first), r.count * g.clusterBytes))),
  );
}

/** The stream of the entry set named `name` (ASCII, compared case-insensitively) in `dir`. */
function findEntry(dir: Buffer, name: string): EntryStream | undefined {
  const want = name.toUpperCase();
  for (let at = 0; at + ENTRY <= dir.length; at += ENTRY) {
    const type = dir[at];
    if (type === END_OF_DIRECTORY) return undefined;
    if (type !== FILE_ENTRY) continue;
    const secondary = dir[at + 1] ?? 0;
    const set = dir.subarray(at, at + (secondary + 1) * ENTRY);
    if (secondary < 2 || set.length < (secondary + 1) * ENTRY || set[ENTRY] !== STREAM_ENTRY)
      continue;
    const nameLength = set[ENTRY + 3] ?? 0;
    let found = '';
    for (let e = 2; e <= secondary && set[e * ENTRY] === NAME_ENTRY; e++)
      found += set.toString('utf16le', e * ENTRY + 2, e * ENTRY + 32);
    if (found.slice(0, nameLength).toUpperCase() !== want) continue;
    const s = set.subarray(ENTRY, 2 * ENTRY);
    return {
      directory: (set.readUInt16LE(4) & DIRECTORY_ATTRIBUTE) !== 0,
      noFatChain: ((s[1] ?? 0) & NO_FAT_CHAIN) !== 0,
      firstCluster: s.readUInt32LE(20),
      validLength: Number(s.readBigUInt64LE(8)),
      length: Number(s.readBigUInt64LE(24)),
    };
  }
  return undefined;
}

/**
 * Where the data of the file at `filePath` (`/`-separated, from the root; ASCII names) lies
 * on the volume read through `readAt`. Rejects EINVAL when the volume is not exFAT, the file
 * is missing or empty, its valid data length is short of its length, or its clusters are not
 * one contiguous run (a fragmented file cannot be patched as one extent).
 */
export async function fileExtent(readAt: ReadAt, filePath: string): Promise<FileExtent> {
  const g = parseBootSector(await readAt(0, 512));
  const parts = filePath.split('/').filter((p) => p !== '');
  if (parts.length === 0) throw new StorageError('EINVAL', 'no file path given');
  let dir = await readDirectory(g, readAt, g.rootCluster, undefined, false);
  for (const [i, part] of parts.entries()) {
    const e = findEntry(dir, part);
    const where = parts.slice(0, i + 1).join('/');
    if (!e) throw new StorageError('EINVAL', `${where} is not on the exFAT volume`);
    const last = i === parts.length - 1;
    if (e.directory !== !last)
      throw new StorageError('EINVAL', `${where} is ${e.directory ? '' : 'not '}a directory`);
    if (!last) {
      dir = await readDirectory(g, readAt, e.firstCluster, e.length, e.noFatChain);
      continue;
    }
    if (e.length === 0 || e.firstCluster === 0)
      throw new StorageError('EINVAL', `${where} is empty`);
    if (e.validLength !== e.length)
      throw new StorageError(
        'EINVAL',
        `${where} has ${e.validLength} valid bytes of ${e.length}: the rest reads as zeros`,
      );
    const runs = await chainOf(
      g,
      readAt,
      e.firstCluster,
      Math.ceil(e.length / g.clusterBytes),
      e.noFatChain,
    );
    if (runs.length !== 1)
      throw new StorageError(
        'EINVAL',
        `${where} is fragmented (${runs.length} runs of clusters): it cannot be patched as one extent`,
      );
    return { offset: clusterAt(g, e.firstCluster), length: e.length };
  }
  throw new StorageError('EINVAL', `${filePath} is not on the exFAT volume`);
}

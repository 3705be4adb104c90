// fileExtent() on a small exFAT volume built in memory (the structures of the exFAT
// specification, 512-byte clusters): a file's data extent is found by path through a
// subdirectory, whether its clusters are marked contiguous (NoFatChain) or chained in the
// FAT; a fragmented, missing or partly valid file is refused; patchRegions() isolates the
// file's blocks. (Real mkfs.exfat images are covered by test/kiosk/cloning/image-mode.test.ts.)
import t from 'tap';
import { fileExtent, patchRegions, type ReadAt } from '../../../hal/storage/exfat-volume.js';
import type { StorageError } from '../../../hal/storage/types.js';

const SECTOR = 512;
const FAT_AT = 24 * SECTOR;
const HEAP_AT = 32 * SECTOR;
const CLUSTERS = 64;
const EOC = 0xffffffff;

interface FileSpec {
  name: string;
  directory?: boolean;
  first: number;
  length: number;
  validLength?: number;
  noFatChain: boolean;
}

/** One entry set: file entry, stream extension, name entries. */
function entrySet(f: FileSpec): Buffer {
  const names = Math.ceil(f.name.length / 15);
  const b = Buffer.alloc((2 + names) * 32);
  b[0] = 0x85;
  b[1] = 1 + names;
  b.writeUInt16LE(f.directory ? 0x10 : 0x20, 4);
  b[32] = 0xc0;
  b[33] = 0x01 | (f.noFatChain ? 0x02 : 0);
  b[35] = f.name.length;
  b.writeBigUInt64LE(BigInt(f.validLength ?? f.length), 40);
  b.writeUInt32LE(f.first, 52);
  b.writeBigUInt64LE(BigInt(f.length), 56);
  for (let i = 0; i < names; i++) {
    b[(2 + i) * 32] = 0xc1;
    b.write(f.name.slice(i * 15, i * 15 + 15), (2 + i) * 32 + 2, 'utf16le');
  }
  return b;
}

/** A volume with /.disk-kiosk/identity.json (plus a file before it) and the given FAT links. */
function volume(identity: Partial<FileSpec>, fat: Record<number, number> = {}) {
  const v = Buffer.alloc(HEAP_AT + CLUSTERS * SECTOR);
  v.write('EXFAT   ', 3, 'latin1');
  v.writeBigUInt64LE(BigInt(v.length / SECTOR), 72);
  v.writeUInt32LE(FAT_AT / SECTOR, 80);
  v.writeUInt32LE(HEAP_AT / SECTOR, 88);
  v.writeUInt32LE(CLUSTERS, 92);
  v.writeUInt32LE(2, 96);
  v.writeUInt32LE(0x12345678, 100);
  v[108] = 9;
  v[109] = 0;
  v.writeUInt16LE(0xaa55, 510);
  const cluster = (c: number) => HEAP_AT + (c - 2) * SECTOR;
  const links: Record<number, number> = { 2: EOC, 3: EOC, ...fat };
  for (const [c, next] of Object.entries(links)) v.writeUInt32LE(next, FAT_AT + Number(c) * 4);
  // Root (cluster 2): the label entry, a file, the identity directory (cluster 3).
  let at = cluster(2);
  v[at] = 0x83;
  at += 32;
  for (const set of [
    entrySet({ name: 'film.bin', first: 20, length: 4000, noFatChain: true }),
    entrySet({ name: '.disk-kiosk', directory: true, first: 3, length: 512, noFatChain: true }),
  ]) {
    set.copy(v, at);
    at += set.length;
  }
  entrySet({
    name: 'identity.json',
    first: 4,
    length: 1500,
    noFatChain: true,
    ...identity,
  }).copy(v, cluster(3));
  const readAt: ReadAt = async (offset, length) => Buffer.from(v.subarray(offset, offset + length));
  return readAt;
}

const FILE = '.disk-kiosk/identity.json';
const DATA_AT = HEAP_AT + 2 * SECTOR; // cluster 4

t.test('a contiguous file is found by path, marked so or chained in the FAT', async (t) => {
  t.same(await fileExtent(volume({}), FILE), { offset: DATA_AT, length: 1500 }, 'NoFatChain');
  t.same(
    await fileExtent(volume({ noFatChain: false }, { 4: 5, 5: 6, 6: EOC }), FILE),
    { offset: DATA_AT, length: 1500 },
    'a FAT chain of consecutive clusters',
  );
  t.same(
    await fileExtent(volume({}), '/.DISK-KIOSK/Identity.JSON'),
    { offset: DATA_AT, length: 1500 },
    'names compare without case, as exFAT does',
  );
});

t.test('refused: fragmented, missing, partly valid, a directory, not exFAT', async (t) => {
  const refused = async (readAt: ReadAt, path: string, why: RegExp, what: string) => {
    const err = (await fileExtent(readAt, path).catch((e: unknown) => e)) as StorageError;
    t.equal(err.code, 'EINVAL', what);
    t.match(err.message, why, what);
  };
  await refused(
    volume({ noFatChain: false }, { 4: 5, 5: 9, 9: EOC }),
    FILE,
    /fragmented \(2 runs/,
    'clusters 4, 5, 9',
  );
  await refused(
    volume({ noFatChain: false }, { 4: 5, 5: EOC }),
    FILE,
    /ends before the data/,
    'a chain shorter than the file',
  );
  await refused(volume({}), '.disk-kiosk/other.json', /not on the exFAT volume/, 'missing');
  await refused(volume({ validLength: 1000 }), FILE, /1000 valid bytes of 1500/, 'partly valid');
  await refused(volume({}), '.disk-kiosk', /is not a directory|is a directory/, 'a directory');
  await refused(volume({ first: 200 }), FILE, /not a cluster of the heap/, 'outside the heap');
  await refused(async (_o, l) => Buffer.alloc(l), FILE, /not an exFAT volume/, 'zeros');
});

t.test('patchRegions isolates the file blocks beside the boot and label blocks', async (t) => {
  const regions = await patchRegions(volume({}), 4096, [FILE, 'not/there']);
  t.same(
    regions,
    [
      { offset: 0, length: 3 * 4096 }, // boot sectors, checksum sectors (main and backup)
      { offset: 4 * 4096, length: 4096 }, // the root's label entry and the file's data
    ],
    'whole blocks, merged where they touch',
  );
});

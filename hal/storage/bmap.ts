/**
 * Block maps in bmap-tools' format 2.0 (the XML `bmaptool create` writes and `bmaptool
 * copy` reads): which blocks of an image hold data, with a SHA-256 per range and one over
 * the file itself (`BmapFileChecksum`, computed with its own value zeroed, as bmaptool does).
 *
 * refineRanges() splits bmaptool's maximal runs so that no range is longer than a bound
 * (a mismatch then names a few MiB, and re-checking the image costs no more) and the blocks
 * a per-disk patch touches (volume serial, label) form ranges of their own (their expected
 * hash on a disk is recomputed from the image and the patch; every other range keeps the
 * map's). The result is still a valid bmap for `bmaptool copy`.
 */
import { createHash } from 'node:crypto';
import type { BlockRange } from './block-io.js';
import { StorageError } from './types.js';

export interface BlockMap {
  imageSize: number;
  blockSize: number;
  /** Mapped ranges in bytes, sorted, with `sha256` once hashed. */
  ranges: BlockRange[];
}

const tag = (xml: string, name: string): string | undefined =>
  new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`).exec(xml)?.[1];

/** Parses bmap XML; checks the file checksum when it has one. Rejects EINVAL when malformed. */
export function parseBmap(xml: string): BlockMap {
  const bad = (why: string) => new StorageError('EINVAL', `block map rejected: ${why}`);
  const version = /<bmap\s+version="(\d+)\.(\d+)"/.exec(xml);
  if (!version || Number(version[1]) !== 2) throw bad('not a bmap file of format 2.x');
  const blockSize = Number(tag(xml, 'BlockSize'));
  const imageSize = Number(tag(xml, 'ImageSize'));
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0 || blockSize % 512 !== 0)
    throw bad(`block size ${tag(xml, 'BlockSize')}`);
  if (!Number.isSafeInteger(imageSize) || imageSize <= 0) throw bad('no image size');
  const fileSum = tag(xml, 'BmapFileChecksum');
  if (fileSum && !/^0+$/.test(fileSum)) {
    if (tag(xml, 'ChecksumType') !== 'sha256') throw bad('checksum type is not sha256');
    if (fileChecksum(xml, fileSum) !== fileSum) throw bad('its BmapFileChecksum does not match');
  }
  const ranges: BlockRange[] = [];
  const re = /<Range(?:\s+chksum="([0-9a-f]{64})")?\s*>\s*(\d+)(?:\s*-\s*(\d+))?\s*<\/Range>/g;
  for (const m of xml.matchAll(re)) {
    const first = Number(m[2]);
    const last = m[3] === undefined ? first : Number(m[3]);
    if (last < first) throw bad(`range ${first}-${last}`);
    const r: BlockRange = { offset: first * blockSize, length: (last - first + 1) * blockSize };
    if (r.offset + r.length > Math.ceil(imageSize / blockSize) * blockSize)
      throw bad(`range ${first}-${last} lies beyond the image`);
    if (m[1]) r.sha256 = m[1];
    ranges.push(r);
  }
  ranges.sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < ranges.length; i++) {
    const p = ranges[i - 1] as BlockRange;
    if (p.offset + p.length > (ranges[i] as BlockRange).offset) throw bad('overlapping ranges');
  }
  return { imageSize, blockSize, ranges };
}

function fileChecksum(xml: string, current: string): string {
  const zeroed = xml.replace(current, '0'.repeat(current.length));
  return createHash('sha256').update(zeroed).digest('hex');
}

/** bmap XML for `map` (every range must carry its sha256). */
export function serializeBmap(map: BlockMap): string {
  const blocks = Math.ceil(map.imageSize / map.blockSize);
  let mapped = 0;
  const lines = map.ranges.map((r) => {
    if (!r.sha256) throw new StorageError('EINVAL', `range at ${r.offset} has no checksum`);
    const first = r.offset / map.blockSize;
    const last = first + r.length / map.blockSize - 1;
    mapped += r.length / map.blockSize;
    return `        <Range chksum="${r.sha256}"> ${first === last ? first : `${first}-${last}`} </Range>`;
  });
  const xml = [
    '<?xml version="1.0" ?>',
    '<!-- Block map of an exFAT content image (disk-kiosk), bmap-tools format 2.0:',
    '     written by bmaptool create, ranges refined and hashed by the kiosk. -->',
    '<bmap version="2.0">',
    `    <ImageSize> ${map.imageSize} </ImageSize>`,
    `    <BlockSize> ${map.blockSize} </BlockSize>`,
    `    <BlocksCount> ${blocks} </BlocksCount>`,
    `    <MappedBlocksCount> ${mapped} </MappedBlocksCount>`,
    '    <ChecksumType> sha256 </ChecksumType>',
    `    <BmapFileChecksum> ${'0'.repeat(64)} </BmapFileChecksum>`,
    '    <BlockMap>',
    ...lines,
    '    </BlockMap>',
    '</bmap>',
    '',
  ].join('\n');
  const sum = createHash('sha256').update(xml).digest('hex');
  return xml.replace('0'.repeat(64), sum);
}

/**
 * Splits ranges at the edges of `isolate` (block-aligned regions) and into pieces of at
 * most `maxBytes` (a multiple of the block size). Checksums are dropped: hash the result.
 */
export function refineRanges(
  ranges: readonly BlockRange[],
  isolate: readonly { offset: number; length: number }[],
  maxBytes: number,
): BlockRange[] {
  const cuts = new Set<number>();
  for (const r of isolate) {
    cuts.add(r.offset);
    cuts.add(r.offset + r.length);
  }
  const edges = [...cuts].sort((a, b) => a - b);
  const out: BlockRange[] = [];
  for (const r of ranges) {
    const end = r.offset + r.length;
    const inner = edges.filter((e) => e > r.offset && e < end);
    let start = r.offset;
    for (const stop of [...inner, end]) {
      for (let at = start; at < stop; at += maxBytes)
        out.push({ offset: at, length: Math.min(maxBytes, stop - at) });
      start = stop;
    }
  }
  return out;
}

/** Bytes the map says hold data. */
export const mappedBytes = (m: { ranges: readonly BlockRange[] }): number =>
  m.ranges.reduce((s, r) => s + r.length, 0);

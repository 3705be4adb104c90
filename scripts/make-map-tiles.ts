// Writes a small set of map tiles (256 x 256 PNG, <z>/<x>/<y>.png) around a position, drawn
// here with no network: a light ground with a grid, so the renter's map (Leaflet) has
// something to show in the tests and the demo. The hub serves the folder with `map.tileDir`.
//   node --import tsx scripts/make-map-tiles.ts --out <dir> [--at 52.52,13.40] [--zooms 11-15]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

const SIZE = 256;

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** One tile: ground colour by zoom, a darker grid every 32 px, a border, a block by x+y. */
export function tilePng(z: number, x: number, y: number): Buffer {
  const rows: Buffer[] = [];
  const ground = (x + y) % 2 === 0 ? [236, 240, 228] : [228, 234, 240];
  for (let py = 0; py < SIZE; py++) {
    const row = Buffer.alloc(1 + SIZE * 3); // filter byte 0, then RGB
    for (let px = 0; px < SIZE; px++) {
      const edge = px === 0 || py === 0;
      const grid = px % 32 === 0 || py % 32 === 0;
      const road = Math.abs(px - 128) < 3 + z / 4 || Math.abs(py - 128) < 3 + z / 4;
      const c = edge ? [170, 170, 170] : road ? [255, 255, 255] : grid ? [214, 218, 210] : ground;
      row.set(c as number[], 1 + px * 3);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(SIZE, 0);
  ihdr.writeUInt32BE(SIZE, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The tile (Web Mercator, as OSM numbers them) holding a position at zoom z. */
export function tileOf(lat: number, lng: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return {
    x: Math.floor(((lng + 180) / 360) * n),
    y: Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n),
  };
}

/**
 * Writes the tiles within `radius` tiles of `at` for each zoom (default zooms 11-15, radius 2:
 * 125 tiles, about 100 KB). Answers the number written.
 */
export async function writeMapTiles(
  dir: string,
  opts: { at?: { lat: number; lng: number }; zooms?: [number, number]; radius?: number } = {},
): Promise<number> {
  const at = opts.at ?? { lat: 52.52, lng: 13.4 };
  const [zMin, zMax] = opts.zooms ?? [11, 15];
  const radius = opts.radius ?? 2;
  let n = 0;
  for (let z = zMin; z <= zMax; z++) {
    const c = tileOf(at.lat, at.lng, z);
    const max = 2 ** z - 1;
    for (let x = Math.max(0, c.x - radius); x <= Math.min(max, c.x + radius); x++) {
      await mkdir(path.join(dir, String(z), String(x)), { recursive: true });
      for (let y = Math.max(0, c.y - radius); y <= Math.min(max, c.y + radius); y++) {
        await writeFile(path.join(dir, String(z), String(x), `${y}.png`), tilePng(z, x, y));
        n++;
      }
    }
  }
  return n;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const out = arg('--out');
  const [lat, lng] = (arg('--at') ?? '52.52,13.40').split(',').map(Number);
  const [z0, z1] = (arg('--zooms') ?? '11-15').split('-').map(Number);
  if (!out || !Number.isFinite(lat) || !Number.isFinite(lng) || !(z0! <= z1!) || z1! > 19) {
    process.stderr.write(
      'usage: make-map-tiles --out <dir> [--at <lat>,<lng>] [--zooms <min>-<max>] (zoom at most 19)\n',
    );
    process.exit(2);
  }
  writeMapTiles(out, { at: { lat: lat!, lng: lng! }, zooms: [z0!, z1!] }).then(
    (n) => process.stdout.write(`${n} tiles written to ${out}\n`),
    (err: Error) => {
      process.stderr.write(`make-map-tiles: ${err.message}\n`);
      process.exit(1);
    },
  );
}

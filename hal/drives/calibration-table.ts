/**
 * The calibration table (slot -> USB port paths), persisted as JSON:
 *   { "version": 1, "slots": { "1": ["platform-...-usb-0:1.3", "platform-...-usb-0:2"] } }
 * Writes are atomic (temporary file + rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type CalibrationTable, DrivesError, type PortMapping } from './types.js';

const TableSchema = Type.Object({
  version: Type.Literal(1),
  slots: Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.Array(Type.String()), {
    additionalProperties: false,
  }),
});
const checkTable = TypeCompiler.Compile(TableSchema);

export function emptyTable(): CalibrationTable {
  return { version: 1, slots: {} };
}

/** Reads the table; a missing file yields `fallback`. Rejects with `ETABLE` when unreadable or invalid. */
export async function loadCalibrationTable(
  file: string,
  fallback: CalibrationTable = emptyTable(),
): Promise<CalibrationTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(fallback);
    throw new DrivesError('ETABLE', `Cannot read the calibration table ${file}: ${String(err)}`, {
      cause: err,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DrivesError(
      'ETABLE',
      `Calibration table ${file} is not JSON; fix or delete it and calibrate the slots again`,
      { cause: err },
    );
  }
  if (!checkTable.Check(data)) {
    const first = checkTable.Errors(data).First();
    throw new DrivesError(
      'ETABLE',
      `Calibration table ${file} is invalid (${first?.path ?? ''} ${first?.message ?? ''}); fix or delete it and calibrate again`,
    );
  }
  return data;
}

export async function saveCalibrationTable(file: string, table: CalibrationTable): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(table, null, 2)}\n`, 'utf8');
  await rename(tmp, file);
}

/** A new table with `portPaths` added to `slot` and removed from every other slot. */
export function withPortsRecorded(
  table: CalibrationTable,
  slot: number,
  portPaths: readonly string[],
): CalibrationTable {
  const slots: Record<string, string[]> = {};
  for (const [s, paths] of Object.entries(table.slots)) {
    const kept = paths.filter((p) => !portPaths.includes(p));
    if (kept.length > 0 || s === String(slot)) slots[s] = kept;
  }
  const own = new Set([...(slots[String(slot)] ?? []), ...portPaths]);
  slots[String(slot)] = [...own].sort();
  return { version: 1, slots };
}

export function withoutSlot(table: CalibrationTable, slot: number): CalibrationTable {
  const slots = { ...table.slots };
  delete slots[String(slot)];
  return { version: 1, slots };
}

export function tableMappings(table: CalibrationTable): PortMapping[] {
  return Object.entries(table.slots)
    .map(([slot, portPaths]) => ({ slot: Number(slot), portPaths: [...portPaths] }))
    .sort((a, b) => a.slot - b.slot);
}

/**
 * Resolves a GPIO line named by chip label + offset to the global sysfs GPIO number.
 * Kernels since 6.6 (Raspberry Pi OS) number lines from a per-chip base (512 + N on a
 * Pi 4, another base on a Pi 5), so global numbers are never hard-coded: the chip is
 * found by its label under `<sysfsRoot>/gpiochip<base>/{label,base,ngpio}`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GpioError, type GpioLineRef } from './types.js';

export const DEFAULT_GPIO_SYSFS_ROOT = '/sys/class/gpio';

export interface GpioChipInfo {
  /** Directory name, e.g. `gpiochip512`. */
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

/** Lists the GPIO chips under `sysfsRoot` (an empty list if the directory is missing). */
export async function listGpioChips(sysfsRoot = DEFAULT_GPIO_SYSFS_ROOT): Promise<GpioChipInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(sysfsRoot);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new GpioError('EGPIO', `cannot list ${sysfsRoot}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const chips: GpioChipInfo[] = [];
  for (const name of entries.filter((e) => /^gpiochip\d+$/.test(e)).sort()) {
    const dir = join(sysfsRoot, name);
    const read = async (file: string) => (await readFile(join(dir, file), 'utf8')).trim();
    try {
      const [label, base, ngpio] = await Promise.all([read('label'), read('base'), read('ngpio')]);
      chips.push({ name, label, base: Number(base), ngpio: Number(ngpio) });
    } catch {
      // A chip directory without readable attributes is not usable; skip it.
    }
  }
  return chips;
}

/** Global GPIO number (base + offset) of `line`; rejects with ENOCHIP or ENOLINE. */
export async function resolveGpioLine(
  line: GpioLineRef,
  sysfsRoot = DEFAULT_GPIO_SYSFS_ROOT,
): Promise<number> {
  const chips = await listGpioChips(sysfsRoot);
  return resolveAmong(line, chips, sysfsRoot);
}

/** Same as resolveGpioLine, against an already listed set of chips. */
export function resolveAmong(line: GpioLineRef, chips: GpioChipInfo[], sysfsRoot: string): number {
  const chip = chips.find((c) => c.label === line.chip);
  if (!chip) {
    const found = chips.length
      ? chips.map((c) => `${c.label} (${c.name}, base ${c.base}, ${c.ngpio} lines)`).join(', ')
      : 'none';
    throw new GpioError(
      'ENOCHIP',
      `no GPIO chip labelled "${line.chip}" under ${sysfsRoot}; chips found: ${found}. ` +
        'Check the chip label in the kiosk configuration (cat /sys/class/gpio/gpiochip*/label).',
    );
  }
  if (!Number.isInteger(line.offset) || line.offset < 0 || line.offset >= chip.ngpio) {
    throw new GpioError(
      'ENOLINE',
      `line offset ${line.offset} is outside chip "${chip.label}" (${chip.name}), which has ` +
        `${chip.ngpio} lines (0..${chip.ngpio - 1}); fix the offset in the kiosk configuration.`,
    );
  }
  return chip.base + line.offset;
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Default location of the SD image's version stamp (images/install.sh writes it). */
export const IMAGE_VERSION_FILE = '/etc/disk-kiosk/image-version';

/** The image version from `file`, or null when the file is absent (not an SD image). */
export function imageVersion(file = IMAGE_VERSION_FILE): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The version in this checkout's (or dist's) package.json. */
export function packageVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(here, rel), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'disk-kiosk' && pkg.version) return pkg.version;
    } catch {}
  }
  return '0.0.0';
}

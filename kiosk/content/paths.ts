/**
 * What an exFAT file name may be (exFAT spec 7.7.3 and the Linux drivers): no
 * `" * / : < > ? \ |`, no control characters, at most 255 UTF-16 units per name;
 * Windows and the exFAT drivers also strip trailing dots and spaces, so such a name
 * would not read back as written. Names compare case-insensitively.
 */

/** Directory on every prepared disk holding the identity file. */
export const IDENTITY_DIR = '.disk-kiosk';
export const MAX_NAME_UTF16 = 255;
/**
 * Longest relative path (UTF-8 bytes). The mountpoint prefix plus this stays under
 * Linux PATH_MAX (4096), and Windows' long-path limit is far above it.
 */
export const MAX_PATH_BYTES = 3072;

const FORBIDDEN = /["*:<>?\\|\u0000-\u001f]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `p` is not a safe relative exFAT path, or undefined when it is. */
export function checkPath(p: string): string | undefined {
  if (p.length === 0) return 'path is empty';
  if (p.startsWith('/')) return 'path is absolute';
  if (Buffer.byteLength(p, 'utf8') > MAX_PATH_BYTES)
    return `path longer than ${MAX_PATH_BYTES} bytes`;
  if (LONE_SURROGATE.test(p)) return 'path has unpaired UTF-16 surrogates';
  for (const name of p.split('/')) {
    if (name === '') return 'path has an empty component (// or a trailing /)';
    if (name === '.' || name === '..') return `path has a "${name}" component`;
    const bad = FORBIDDEN.exec(name);
    if (bad) {
      const ch =
        bad[0].charCodeAt(0) < 32
          ? `control character 0x${bad[0].charCodeAt(0).toString(16)}`
          : `"${bad[0]}"`;
      return `name ${JSON.stringify(name)} has ${ch}, which exFAT cannot hold`;
    }
    if (/[. ]$/.test(name)) return `name ${JSON.stringify(name)} ends with a dot or space`;
    if (name.length > MAX_NAME_UTF16) return `name longer than ${MAX_NAME_UTF16} UTF-16 units`;
  }
  return undefined;
}

/** The key two exFAT paths collide on (exFAT upcases names before comparing). */
export function foldPath(p: string): string {
  return p.toUpperCase();
}

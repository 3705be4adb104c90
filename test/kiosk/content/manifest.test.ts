import t from 'tap';
import { type ContentError, ManifestError } from '../../../kiosk/content/errors.js';
import {
  signManifest,
  validateManifest,
  verifySignedManifest,
} from '../../../kiosk/content/manifest.js';
import { hubKeys } from '../../helpers/content-fixtures.js';

const H = 'a'.repeat(64);
const base = (files: unknown[], extra: Record<string, unknown> = {}) => ({
  format: 1,
  contentId: 'movie-1',
  version: '1.0',
  title: 'A movie',
  files,
  totalBytes: (files as { size?: number }[]).reduce(
    (s, f) => s + (typeof f.size === 'number' ? f.size : 0),
    0,
  ),
  ...extra,
});
const f = (path: unknown, size = 1, sha256: unknown = H) => ({ path, size, sha256 });

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

const hostile: [string, unknown, RegExp][] = [
  ['absolute path', base([f('/etc/passwd')]), /"\/etc\/passwd": path is absolute/],
  ['dot-dot', base([f('a/../../x')]), /"a\/..\/..\/x": path has a ".." component/],
  ['dot component', base([f('./x')]), /"\.\/x".*"\."/],
  ['empty component', base([f('a//b')]), /empty component/],
  ['trailing slash', base([f('a/')]), /empty component/],
  ['empty path', base([f('')]), /path is empty/],
  ['duplicate', base([f('a/b.txt'), f('a/b.txt')]), /"a\/b.txt": clashes with "a\/b.txt"/],
  [
    'duplicate ignoring case',
    base([f('Movie/A.mkv'), f('movie/a.MKV')]),
    /"movie\/a.MKV": clashes with "Movie\/A.mkv"/,
  ],
  [
    'file is also a directory',
    base([f('a/b'), f('A/b/c')]),
    /"A\/b\/c": its directory is the file "a\/b"/,
  ],
  ['directory then file', base([f('a/b/c'), f('A/B')]), /"A\/B": clashes with "a\/b\/c"/],
  ['colon', base([f('a:b')]), /"a:b" has ":"/],
  ['star', base([f('x*.txt')]), /has "\*"/],
  ['question mark', base([f('what?.txt')]), /has "\?"/],
  ['quote', base([f('say"hi".txt')]), /has """/],
  ['pipe', base([f('a|b')]), /has "\|"/],
  ['angle brackets', base([f('<x>')]), /has "<"/],
  ['backslash', base([f('dir\\file')]), /has "\\"/],
  ['control char', base([f('bell\u0007.txt')]), /control character 0x7/],
  ['newline', base([f('a\nb')]), /control character 0xa/],
  ['trailing dot', base([f('name.')]), /ends with a dot or space/],
  ['trailing space', base([f('dir /x')]), /ends with a dot or space/],
  ['name over 255 UTF-16 units', base([f('x'.repeat(256))]), /longer than 255 UTF-16 units/],
  [
    'path too long',
    base([f(Array(20).fill('y'.repeat(200)).join('/'))]),
    /path longer than 3072 bytes/,
  ],
  ['lone surrogate', base([f('bad\uD800name')]), /unpaired UTF-16 surrogates/],
  [
    'reserved identity dir',
    base([f('.DISK-KIOSK/identity.json')]),
    /reserved for the disk's identity/,
  ],
  [
    'sizes do not add up',
    base([f('a', 10), f('b', 5)], { totalBytes: 16 }),
    /totalBytes: is 16 but the files add up to 15/,
  ],
  ['negative size', base([f('a', -1)]), /"a": size must be a non-negative integer/],
  ['fractional size', base([f('a', 1.5)]), /"a": size must be/],
  ['bad hash', base([f('a', 1, 'XYZ')]), /"a": sha256 must be 64 lower-case hex/],
  ['path not a string', base([f(42)]), /files\[0\]: path must be a string/],
  ['no files', base([]), /files: must be a list/],
  ['bad content id', base([f('a')], { contentId: '../x' }), /contentId/],
  ['bad format', base([f('a')], { format: 2 }), /format: must be 1/],
];

for (const [name, doc, re] of hostile) {
  t.test(`hostile manifest: ${name}`, async (t) => {
    const err = catchErr(() => validateManifest(doc));
    t.ok(err instanceof ManifestError, 'a ManifestError');
    t.equal((err as ManifestError).code, 'EMANIFEST');
    t.match((err as Error).message, re, 'names the entry and the problem');
  });
}

t.test(
  'a good manifest with unicode and deep paths passes and round-trips a signature',
  async (t) => {
    const { publicKeyPem, privateKeyPem } = hubKeys();
    const m = validateManifest(
      base([f('Música/Canción ñ.txt', 3), f('a/b/c/d/e/f.txt', 4), f('日本/x y.txt', 0)]),
    );
    const signed = signManifest(m, privateKeyPem);
    t.same(verifySignedManifest(JSON.parse(JSON.stringify(signed)), publicKeyPem), m);
    const tampered = { ...signed, manifest: { ...signed.manifest, title: 'Other' } };
    t.equal(
      (catchErr(() => verifySignedManifest(tampered, publicKeyPem)) as ContentError).code,
      'ESIGNATURE',
    );
    const other = hubKeys();
    t.equal(
      (catchErr(() => verifySignedManifest(signed, other.publicKeyPem)) as ContentError).code,
      'ESIGNATURE',
    );
    t.ok(
      catchErr(() => verifySignedManifest({ manifest: m }, publicKeyPem)) instanceof ManifestError,
    );
  },
);

// Passwords per NIST SP 800-63B: length in code points after NFKC (10 to 256), a blocklist of
// common passwords, no repeated or straight runs, not the login; NFKC on every check.
import t from 'tap';
import { checkNewPassword } from '../../../cloud-lite/rental/auth/password-policy.js';
import { startRentalHub } from './helpers/rental-hub.js';

t.test(
  'the policy refuses short, common, repetitive and own-login passwords, and says why',
  async (t) => {
    const refused: Array<[string, string]> = [
      ['short', 'too_short'],
      ['ab cd éf', 'too_short'],
      [' '.repeat(10), 'repetitive'],
      ['aaaaaaaaaa', 'repetitive'],
      ['abcabcabcabc', 'repetitive'],
      ['abcdefghij', 'sequential'],
      ['9876543210', 'sequential'],
      ['password12', 'common'],
      ['Password123', 'common'],
      ['qwertyuiop', 'common'],
      ['iloveyou2024', 'common'],
      ['ＰＡＳＳＷＯＲＤ１２', 'common'],
      ['ann.smith@example.test', 'login'],
      ['ann.smith2024', 'login'],
      ['x'.repeat(200) + 'y'.repeat(57), 'too_long'],
    ];
    for (const [pw, reason] of refused) {
      t.throws(
        () => checkNewPassword(pw, ['ann.smith@example.test', 'ann.smith']),
        { code: 'WEAK_PASSWORD', status: 400, details: { reason } },
        `${JSON.stringify(pw.slice(0, 20))}: ${reason}`,
      );
    }
    for (const pw of [
      'correct horse battery',
      'staff password 123',
      'Tr0ub4dor&3 plus',
      'x'.repeat(63) + 'y',
      `${'pass phrase '.repeat(21)}1234`,
      'ça va très bien, merci',
      '日本語のパスワードです',
    ]) {
      t.doesNotThrow(
        () => checkNewPassword(pw, ['ann@example.test']),
        `${pw.slice(0, 20)} accepted`,
      );
    }
    t.equal([...checkNewPassword(`${'ab1'.repeat(85)}x`)].length, 256, '256 code points allowed');
    t.equal(checkNewPassword('ｆｕｌｌ ｗｉｄｔｈ ｐａｓｓ'), 'full width pass', 'returned NFKC');
  },
);

t.test('register and staff accounts apply the policy through the API', async (t) => {
  const hub = await startRentalHub(t);
  for (const pw of [' '.repeat(10), 'aaaaaaaaaa', 'password12']) {
    const r = await hub.api('POST', '/api/auth/register', {
      email: 'a@example.test',
      password: pw,
    });
    t.same([r.status, r.body.error.code], [400, 'WEAK_PASSWORD'], JSON.stringify(pw));
    t.type(r.body.error.reason, 'string');
  }
  const long =
    'the quick brown fox jumps over the lazy dog while seven wizards quietly hex a jovial boxer';
  t.equal((await hub.register('long@example.test', long)).status, 201, `${long.length} characters`);
  const staff = await hub.admin('POST', '/api/operator/users', {
    email: 'ops@example.test',
    password: 'password12',
    role: 'operator',
  });
  t.same([staff.status, staff.body.error.code], [400, 'WEAK_PASSWORD']);
});

t.test('the same password in two Unicode forms logs in (NFKC)', async (t) => {
  const hub = await startRentalHub(t);
  const composed = 'Grüße aus Köln, Ångström'.normalize('NFC');
  const decomposed = composed.normalize('NFD');
  t.not(composed, decomposed);
  t.equal((await hub.register('u@example.test', composed)).status, 201);
  const login = await hub.api('POST', '/api/auth/login', {
    login: 'u@example.test',
    password: decomposed,
  });
  t.equal(login.status, 200, 'decomposed form logs in');
  t.equal((await hub.register('w@example.test', 'ｆｕｌｌ ｗｉｄｔｈ ｐａｓｓ')).status, 201);
  const ascii = await hub.api('POST', '/api/auth/login', {
    login: 'w@example.test',
    password: 'full width pass',
  });
  t.equal(ascii.status, 200, 'full-width and ASCII forms are one password');
});

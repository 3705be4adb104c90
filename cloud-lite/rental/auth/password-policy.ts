import { createRequire } from 'node:module';
import { RentalError } from '../errors.js';

/** Shortest password accepted, in Unicode code points after NFKC (NIST SP 800-63B: 8 or more). */
export const PASSWORD_MIN_LENGTH = 10;
/** Longest password accepted, in code points after NFKC (NIST: allow at least 64). */
export const PASSWORD_MAX_LENGTH = 256;

/** Why a password was refused: `details.reason` of WEAK_PASSWORD. */
export type WeakReason =
  | 'too_short'
  | 'too_long'
  | 'common'
  | 'repetitive'
  | 'sequential'
  | 'login';

let common: Set<string> | undefined;

/**
 * The ~49,000 most common passwords of public breach lists, as kept by zxcvbn-ts
 * (`@zxcvbn-ts/language-common`); the package itself is loaded at the first password checked
 * (a registration or a password change), not when the hub starts: its dictionaries cost
 * several MB of heap that an idle hub does not need.
 */
function commonPasswords(): Set<string> {
  if (!common) {
    const { dictionary } = createRequire(import.meta.url)(
      '@zxcvbn-ts/language-common',
    ) as typeof import('@zxcvbn-ts/language-common');
    common = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  }
  return common;
}

/** NFKC: a password typed in two Unicode forms (composed é, decomposed e + ´, full-width) is one. */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

/** True when the text is one unit repeated (`aaaaaaaaaa`, `abcabcabca`, ten spaces). */
function repetitive(cps: string[]): boolean {
  for (let unit = 1; unit <= Math.floor(cps.length / 2); unit++) {
    if (cps.every((c, i) => c === cps[i % unit])) return true;
  }
  return false;
}

/** True when every code point is the previous one plus (or minus) one: `abcdefghij`, `9876543210`. */
function sequential(cps: string[]): boolean {
  const codes = cps.map((c) => c.toLowerCase().codePointAt(0)!);
  const step = codes[1]! - codes[0]!;
  return (
    (step === 1 || step === -1) && codes.every((c, i) => i === 0 || c - codes[i - 1]! === step)
  );
}

function weak(reason: WeakReason, message: string): RentalError {
  return new RentalError('WEAK_PASSWORD', message, 400, { reason });
}

/**
 * Checks a new password against NIST SP 800-63B's rules and returns it NFKC-normalised:
 * 10 to 256 code points, not a common password (case-insensitive, also with trailing digits
 * or spaces removed), not one character or unit repeated, not a straight run of characters,
 * and not the account's own login (`context`: e-mail, its local part, phone). No composition
 * rules. Throws WEAK_PASSWORD (400) with `details.reason`.
 */
export function checkNewPassword(password: string, context: readonly string[] = []): string {
  const pw = normalisePassword(password);
  const cps = [...pw];
  if (cps.length < PASSWORD_MIN_LENGTH)
    throw weak('too_short', `the password needs at least ${PASSWORD_MIN_LENGTH} characters`);
  if (cps.length > PASSWORD_MAX_LENGTH)
    throw weak('too_long', `the password may have at most ${PASSWORD_MAX_LENGTH} characters`);
  if (repetitive(cps))
    throw weak('repetitive', 'the password repeats one character or group; choose another');
  if (sequential(cps)) throw weak('sequential', 'the password is a straight run of characters');
  const lower = pw.toLowerCase();
  const stems = [lower, lower.trim(), lower.replace(/[0-9\s]+$/, ''), lower.replace(/\s+/g, '')];
  if (stems.some((s) => s.length > 0 && commonPasswords().has(s)))
    throw weak('common', 'the password is one of the most common passwords; choose another');
  const own = context.map((c) => c.toLowerCase()).filter((c) => c.length >= 3);
  if (own.some((c) => lower === c || lower.replace(/[0-9\s]+$/, '') === c))
    throw weak('login', 'the password must not be your e-mail address or phone number');
  return pw;
}

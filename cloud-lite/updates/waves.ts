/**
 * The rules of a rollout's waves (docs/updates.md), pure: how an operator's wave spec becomes
 * kiosk counts, and what a rollout does next given where its kiosks stand.
 */
import { HubError } from '../errors.js';
import type { RolloutKioskRecord, RolloutKioskState, RolloutRecord } from '../store/types.js';

/** Kiosk states that end its part of a rollout. */
export const KIOSK_FINAL: readonly RolloutKioskState[] = ['committed', 'failed', 'rolled_back'];
export const FAILED: readonly RolloutKioskState[] = ['failed', 'rolled_back'];
/** A kiosk revoked during the rollout ends `failed` with this code; not held against its wave. */
export const REVOKED_CODE = 'KIOSK_REVOKED';

const isFinal = (k: RolloutKioskRecord) => KIOSK_FINAL.includes(k.state);
const isRevoked = (k: RolloutKioskRecord) => k.code === REVOKED_CODE;

/**
 * Cumulative kiosk counts of `spec` for `n` kiosks: `"3"` is 3 kiosks, `"10%"` is 10 % of
 * them (rounded up, at least 1). Counts that do not grow are dropped; a last wave short of
 * `n` gets a final wave of all. Throws VALIDATION for a malformed entry.
 */
export function parseWaves(spec: readonly string[], n: number): number[] {
  if (spec.length === 0 || spec.length > 20)
    throw new HubError('VALIDATION', 'waves: give 1 to 20 waves, e.g. 1,10%,100%', 400);
  const out: number[] = [];
  for (const w of spec) {
    const m = /^(\d{1,6})(%?)$/.exec(w.trim());
    const v = m ? Number(m[1]) : Number.NaN;
    if (!m || v < 1 || (m[2] && v > 100))
      throw new HubError(
        'VALIDATION',
        `waves: "${w.slice(0, 20)}" is neither a kiosk count (1, 5) nor a share of them (1% to 100%)`,
        400,
      );
    const count = Math.min(n, m[2] ? Math.max(1, Math.ceil((v * n) / 100)) : v);
    if (count > (out.at(-1) ?? 0)) out.push(count);
  }
  if ((out.at(-1) ?? 0) < n) out.push(n);
  return out;
}

/** The wave (index into `waves`) of the kiosk at `position` in the rollout's order. */
export const waveOf = (position: number, waves: readonly number[]) =>
  Math.max(
    0,
    waves.findIndex((count) => position < count),
  );

export type WaveDecision =
  | { kind: 'halt'; wave: number; failures: number; reason: string }
  | { kind: 'complete'; wave: number; reason: string }
  | { kind: 'continue'; wave: number };

/**
 * What a running rollout does next: halt when the wave under way (or one it moves on to) has
 * failed beyond `maxFailureRate` of its kiosks, or, once it has settled (none of its kiosks
 * sent and unfinished, at least one finished), of its finished kiosks; move on past settled
 * waves; complete when every kiosk has finished. Revoked kiosks settle a wave but count
 * neither as its kiosks nor as its failures.
 */
export function decide(r: RolloutRecord, ks: readonly RolloutKioskRecord[]): WaveDecision {
  let wave = r.currentWave;
  for (;;) {
    const members = ks.filter((k) => k.wave === wave);
    const failures = members.filter((k) => FAILED.includes(k.state) && !isRevoked(k)).length;
    const final = members.filter(isFinal);
    const ended = final.filter((k) => !isRevoked(k)).length;
    const counted = members.filter((k) => !isRevoked(k)).length;
    const underWay = members.filter((k) => k.state !== 'pending' && !isFinal(k)).length;
    const settled = underWay === 0 && final.length > 0;
    const over = (n: number) => n > 0 && failures > r.maxFailureRate * n;
    if (over(counted) || (settled && over(ended))) {
      const of = settled ? ended : counted;
      const reason =
        `wave ${wave + 1} of ${r.waves.length}: ${failures} of ${of} ` +
        `kiosks failed (${Math.round((failures * 100) / of)}% > ` +
        `${Math.round(r.maxFailureRate * 100)}%); kiosks already installing carry on`;
      return { kind: 'halt', wave, failures, reason };
    }
    if (!settled || wave === r.waves.length - 1) break;
    wave++;
  }
  if (ks.every(isFinal)) {
    const failed = ks.filter((k) => FAILED.includes(k.state)).length;
    const gone = ks.filter(isRevoked).length;
    const reason =
      `${ks.length - failed} of ${ks.length} kiosks run version ${r.version}` +
      (gone ? ` (${gone} revoked)` : '');
    return { kind: 'complete', wave, reason };
  }
  return { kind: 'continue', wave };
}

import { PREPARE_STEPS } from '../../../protocol/index.js';

type PrepareStep = (typeof PREPARE_STEPS)[number];

/**
 * The share of the whole preparation each step of PrepareProgress takes, in percent (they add
 * up to 100). The kiosk reports bytes done of each step separately, so its own figures restart
 * at 0 six times; the renter sees one bar: a step's band starts where the previous one ends,
 * and the step's bytesDone/bytesTotal fill its band. The bands follow where the time goes on a
 * kiosk (docs/web-pages.md): downloading missing content and copying it dominate, the verify
 * pass re-reads everything, formatting, flushing and configuring are short.
 */
export const PREPARE_STEP_SHARE: Readonly<Record<PrepareStep, number>> = {
  fetching: 30,
  formatting: 5,
  copying: 40,
  flushing: 5,
  verifying: 18,
  configuring: 2,
};

/**
 * The preparation's overall percent (0-100, one decimal) from one PrepareProgress report, never
 * below `previous` (reports of an earlier step arriving late do not move the bar back). An
 * unknown step counts as the start of the preparation.
 */
export function overallPrepareProgress(
  step: string,
  bytesDone: number,
  bytesTotal: number,
  previous = 0,
): number {
  let start = 0;
  let share = 0;
  for (const s of PREPARE_STEPS) {
    if (s === step) {
      share = PREPARE_STEP_SHARE[s];
      break;
    }
    start += PREPARE_STEP_SHARE[s];
  }
  if (share === 0) return previous;
  const within = bytesTotal > 0 ? Math.min(1, Math.max(0, bytesDone / bytesTotal)) : 0;
  const pct = Math.round((start + share * within) * 10) / 10;
  return Math.min(100, Math.max(previous, pct));
}

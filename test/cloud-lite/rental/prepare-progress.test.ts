import t from 'tap';
import {
  overallPrepareProgress,
  PREPARE_STEP_SHARE,
} from '../../../cloud-lite/rental/reservations/prepare-progress.js';
import { PREPARE_STEPS } from '../../../protocol/index.js';

t.test('the six steps share one 0-100% bar', async (t) => {
  t.equal(
    PREPARE_STEPS.reduce((sum, s) => sum + PREPARE_STEP_SHARE[s], 0),
    100,
    'the bands add up to 100',
  );
  // A preparation as a kiosk reports it: each step from 0 to its total.
  let pct = 0;
  const seen: number[] = [];
  for (const step of PREPARE_STEPS) {
    for (const done of [0, 50, 100]) {
      pct = overallPrepareProgress(step, done, 100, pct);
      seen.push(pct);
    }
  }
  t.same(
    seen,
    [0, 15, 30, 30, 32.5, 35, 35, 55, 75, 75, 77.5, 80, 80, 89, 98, 98, 99, 100],
    'never restarts at 0, ends at 100',
  );
  t.equal(overallPrepareProgress('copying', 20e9, 40e9), 55, 'copying half done: 55%');
  t.equal(overallPrepareProgress('fetching', 90, 100, 60), 60, 'a late report does not go back');
  t.equal(overallPrepareProgress('flushing', 0, 0, 40), 75, 'a step without bytes: its start');
  t.equal(overallPrepareProgress('warp', 5, 10, 12), 12, 'an unknown step keeps the bar');
  t.equal(overallPrepareProgress('copying', 50, 10), 75, 'bytes over the total cap the band');
});

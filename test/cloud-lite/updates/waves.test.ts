// The wave rules of a rollout without a hub: wave specs, halts, moving on, completion, and
// revoked kiosks (they settle a wave but count neither as its kiosks nor its failures).
import t from 'tap';
import type { RolloutKioskRecord, RolloutRecord } from '../../../cloud-lite/store/types.js';
import { decide, parseWaves, waveOf } from '../../../cloud-lite/updates/waves.js';

t.test('parseWaves', async (t) => {
  t.same(parseWaves(['1', '10%', '100%'], 50), [1, 5, 50]);
  t.same(parseWaves(['1', '10%', '100%'], 3), [1, 3], 'waves that do not grow are dropped');
  t.same(parseWaves(['2'], 10), [2, 10], 'a final wave of all is added');
  t.throws(() => parseWaves(['150%'], 10), { code: 'VALIDATION' });
  t.throws(() => parseWaves(['0'], 10), { code: 'VALIDATION' });
  t.throws(() => parseWaves([], 10), { code: 'VALIDATION' });
  t.same(
    [0, 1, 4, 5, 49].map((p) => waveOf(p, [1, 5, 50])),
    [0, 1, 1, 2, 2],
  );
});

const T = '2026-12-06T12:00:00.000Z';
function rollout(waves: number[], maxFailureRate: number, currentWave = 0): RolloutRecord {
  return {
    id: 'r1',
    version: '2.0.0',
    bundleSha256: 'a'.repeat(64),
    bundleSize: 1,
    waves,
    waveSpec: waves.map(String),
    maxFailureRate,
    installWindowSeconds: 3600,
    currentWave,
    state: 'running',
    reason: null,
    createdBy: 'admin',
    createdAt: T,
    updatedAt: T,
  };
}
function kiosks(
  waves: number[],
  states: (RolloutKioskRecord['state'] | 'revoked')[],
): RolloutKioskRecord[] {
  return states.map((s, position) => ({
    rolloutId: 'r1',
    kioskId: `k${position + 1}`,
    position,
    wave: waveOf(position, waves),
    state: s === 'revoked' ? 'failed' : s,
    commandId: null,
    attempts: 1,
    fromVersion: '1.0.0',
    code: s === 'revoked' ? 'KIOSK_REVOKED' : null,
    reason: null,
    updatedAt: T,
  }));
}

t.test('decide', async (t) => {
  const w = [1, 3];
  t.same(decide(rollout(w, 0.2), kiosks(w, ['installing', 'pending', 'pending'])), {
    kind: 'continue',
    wave: 0,
  });
  t.same(
    decide(rollout(w, 0.2), kiosks(w, ['committed', 'pending', 'pending'])),
    { kind: 'continue', wave: 1 },
    'a settled canary starts the next wave',
  );
  t.match(decide(rollout(w, 0.2), kiosks(w, ['failed', 'pending', 'pending'])), {
    kind: 'halt',
    wave: 0,
    failures: 1,
    reason: 'wave 1 of 2: 1 of 1 kiosks failed (100% > 20%); kiosks already installing carry on',
  });
  t.match(
    decide(rollout(w, 0.5, 1), kiosks(w, ['committed', 'rolled_back', 'installing'])),
    { kind: 'continue', wave: 1 },
    'one of two is not more than half',
  );
  t.match(
    decide(rollout(w, 0.4, 1), kiosks(w, ['committed', 'rolled_back', 'installing'])),
    { kind: 'halt', reason: /wave 2 of 2: 1 of 2 kiosks failed \(50% > 40%\)/ },
    'before the wave settled, failures count against all its kiosks',
  );
  t.same(decide(rollout(w, 0.2, 1), kiosks(w, ['committed', 'committed', 'committed'])), {
    kind: 'complete',
    wave: 1,
    reason: '3 of 3 kiosks run version 2.0.0',
  });
  t.same(
    decide(rollout(w, 0, 1), kiosks(w, ['committed', 'revoked', 'committed'])),
    { kind: 'complete', wave: 1, reason: '2 of 3 kiosks run version 2.0.0 (1 revoked)' },
    'a revoked kiosk is not a failure of its wave',
  );
  t.same(
    decide(rollout(w, 0), kiosks(w, ['revoked', 'pending', 'pending'])),
    { kind: 'continue', wave: 1 },
    'a wave of only revoked kiosks is settled',
  );
});

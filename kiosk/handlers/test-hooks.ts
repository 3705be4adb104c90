/**
 * Fault injection for crash tests. `KIOSKD_TEST_CRASH_AT=<step>` makes the process SIGKILL
 * itself when a dispense reaches that step; honoured only when `KIOSKD_TEST_HOOKS=1`, so a
 * stray variable on a kiosk does nothing.
 */

/** Named points of a dispense where a crash test may kill kioskd. */
export const CRASH_STEPS = ['received', 'recorded', 'ejected', 'taken', 'completed'] as const;
export type CrashStep = (typeof CRASH_STEPS)[number];

export interface TestHooks {
  /** Called at each step; kills the process when armed for that step. */
  at(step: CrashStep): void;
}

export const noHooks: TestHooks = { at() {} };

/** Hooks from the environment (no-ops unless KIOSKD_TEST_HOOKS=1). */
export function hooksFromEnv(env: Record<string, string | undefined>): TestHooks {
  if (env.KIOSKD_TEST_HOOKS !== '1' || !env.KIOSKD_TEST_CRASH_AT) return noHooks;
  const target = env.KIOSKD_TEST_CRASH_AT;
  return {
    at(step) {
      if (step === target) process.kill(process.pid, 'SIGKILL');
    },
  };
}

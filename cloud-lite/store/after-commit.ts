import type { Logger } from '../log.js';

/**
 * Runs one after-commit callback (TxContext.afterCommit) for a store: a callback that throws
 * or rejects is logged (to stderr without a logger), never passed on, and undoes nothing.
 */
export function runAfterCommit(fn: () => unknown, logger: Pick<Logger, 'error'> | undefined): void {
  const failed = (err: unknown) => {
    if (logger) logger.error({ err }, 'after-commit callback failed');
    else console.error('cloud-lite store: after-commit callback failed:', err);
  };
  try {
    const out = fn();
    if (out instanceof Promise) out.catch(failed);
  } catch (err) {
    failed(err);
  }
}

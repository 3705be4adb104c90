import { CodedError } from '../../common/coded-error.js';

/** Errors of the demo orchestration: `code` says what failed, the message what to do. */
export class DemoError extends CodedError<'ETIMEOUT' | 'ESTEP' | 'ESTART' | 'EMISSING' | 'EAPI'> {}

/**
 * Polls `fn` every `intervalMs` until it returns a truthy value (resolved with it) or
 * `timeoutMs` passes (rejects with DemoError ETIMEOUT naming `what`). An error thrown by
 * `fn` rejects at once. Aborting `signal` rejects with its reason.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new DemoError('ETIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

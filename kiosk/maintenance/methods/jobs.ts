/**
 * Long jobs: clone/verify/wipe (cloning service), cache ls/import/prune (content cache),
 * sync (drain the outbox). Progress is streamed; a missing service is a clear error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MaintenanceError } from '../../maintenance-wire.js';
import type { JobProgress } from '../deps.js';
import { type Method, type MethodContext, recordAction, slotParam } from './context.js';
import { assertNotBusy } from './slot-fixes.js';

function notAvailable(what: string, service: string): never {
  throw new MaintenanceError(
    'ENOTAVAILABLE',
    `${what} is not available in this build: kioskd runs without the ${service}`,
  );
}

function cloning(ctx: MethodContext, what: string) {
  return ctx.deps.cloning ?? notAvailable(what, 'cloning service');
}

function content(ctx: MethodContext, what: string) {
  return ctx.deps.content ?? notAvailable(what, 'content cache');
}

const job = (ctx: MethodContext) => ({
  signal: ctx.signal,
  onProgress: (p: JobProgress) => ctx.progress(p),
});

export const cloneMethod: Method = async (params, ctx) => {
  const svc = cloning(ctx, 'clone');
  const slot = slotParam(params, ctx.deps);
  assertNotBusy(ctx.deps, slot, 'clone');
  const contentId = String(params.contentId ?? '');
  if (!contentId) throw new MaintenanceError('EINVAL', 'clone needs --content <id[@version]>');
  const version = typeof params.version === 'string' ? params.version : undefined;
  recordAction(ctx, 'clone', { slot, contentId, version });
  return svc.clone(slot, { contentId, ...(version ? { version } : {}) }, job(ctx));
};

export const verifyMethod: Method = async (params, ctx) => {
  const svc = cloning(ctx, 'verify');
  const slot = slotParam(params, ctx.deps);
  assertNotBusy(ctx.deps, slot, 'verify');
  recordAction(ctx, 'verify', { slot });
  return svc.verify(slot, job(ctx));
};

export const wipeMethod: Method = async (params, ctx) => {
  const svc = cloning(ctx, 'wipe');
  const slot = slotParam(params, ctx.deps);
  assertNotBusy(ctx.deps, slot, 'wipe');
  const mode = params.mode === 'full' ? 'full' : 'quick';
  recordAction(ctx, 'wipe', { slot, mode });
  return svc.wipe(slot, mode, job(ctx));
};

export const cacheLsMethod: Method = async (_p, ctx) => {
  return { content: await content(ctx, 'cache ls').list() };
};

export const cacheImportMethod: Method = async (params, ctx) => {
  const svc = content(ctx, 'cache import');
  const dir = String(params.path ?? '');
  if (!dir.startsWith('/'))
    throw new MaintenanceError('EINVAL', 'cache import needs an absolute PATH');
  recordAction(ctx, 'cache.import', { path: dir });
  return svc.importDir(dir, job(ctx));
};

export const cachePruneMethod: Method = async (_p, ctx) => {
  const svc = content(ctx, 'cache prune');
  const r = await svc.prune();
  recordAction(ctx, 'cache.prune', { removed: r.removed.length, freedBytes: r.freedBytes });
  return r;
};

/**
 * Flushes the outbox now: the TechnicianAction appended here wakes the link's drain;
 * waits until the outbox is empty or `timeoutSeconds` (default 30) pass, streaming the
 * depth. Fails with ETIMEOUT (naming the link state and last error) on timeout.
 */
export const syncMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const timeoutMs = Math.max(0.1, Number(params.timeoutSeconds ?? 30)) * 1000;
  recordAction(ctx, 'sync', {});
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const depth = deps.outbox.depth();
    if (depth !== last) ctx.progress({ step: 'draining', outbox: depth });
    last = depth;
    if (depth === 0) return { outbox: 0, link: deps.link.status.state };
    if (ctx.signal.aborted) throw new MaintenanceError('ECANCELED', 'sync cancelled');
    if (Date.now() > deadline) {
      const st = deps.link.status;
      throw new MaintenanceError(
        'ETIMEOUT',
        `outbox still holds ${depth} event(s) after ${timeoutMs / 1000} s; hub link is ${st.state}` +
          `${st.lastError ? ` (last error: ${st.lastError})` : ''}; events stay queued and are sent when the hub answers`,
      );
    }
    await sleep(100);
  }
};

/**
 * `kioskctl update status` and `kioskctl update install FILE` (a bundle from a USB stick):
 * through kioskd's update service, which takes the update lock, installs with RAUC and asks
 * for the reboot. install streams each step and percentage as progress and resolves once the
 * kiosk is about to reboot (or the update failed); kioskctl disconnecting does not stop it.
 */
import path from 'node:path';
import { MaintenanceError } from '../../maintenance-wire.js';
import { type Method, type MethodContext, recordAction } from './context.js';

function updates(ctx: MethodContext) {
  const u = ctx.deps.updates;
  if (!u)
    throw new MaintenanceError(
      'ENOTAVAILABLE',
      'updates are not available: kioskd runs without its update service',
    );
  return u;
}

export const updateStatusMethod: Method = async (_params, ctx) => updates(ctx).view();

export const updateInstallMethod: Method = async (params, ctx) => {
  const svc = updates(ctx);
  const file = String(params.path ?? '');
  if (!path.isAbsolute(file))
    throw new MaintenanceError(
      'EINVAL',
      'update install needs the absolute path of a .raucb bundle',
    );
  recordAction(ctx, 'update.install', { path: file });
  const rec = await svc.installFile(file, {
    actor: ctx.user,
    onProgress: (r, x) =>
      ctx.progress({
        step: r.state,
        version: r.version,
        ...(x.percent !== undefined ? { bytesDone: x.percent, bytesTotal: 100 } : {}),
        ...(x.waitingFor ? { waitingFor: x.waitingFor } : {}),
      }),
  });
  return {
    updateId: rec.updateId,
    version: rec.version,
    fromVersion: rec.fromVersion,
    state: rec.state,
    code: rec.code,
    reason: rec.reason,
  };
};

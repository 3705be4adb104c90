/** `kioskctl disks` and `kioskctl calibrate`: the drive scan and the port-to-slot map. */
import { MaintenanceError } from '../../maintenance-wire.js';
import { type Method, recordAction, slotParam } from './context.js';

export const disksMethod: Method = async (_p, { deps }) => {
  const { drives } = deps.hardware;
  const inSlots = await drives.list();
  const all = await drives.candidates();
  const slotOf = new Map(inSlots.map((d) => [d.device, d.slot]));
  return {
    disks: all.map((d) => ({
      device: d.device,
      slot: slotOf.get(d.device) ?? null,
      serial: d.serial,
      sizeBytes: d.sizeBytes,
      readOnly: d.readOnly,
      mountpoints: d.mountpoints,
      portPaths: d.portPaths,
      error: d.error ?? null,
    })),
    calibrated: drives.mappings(),
  };
};

/**
 * Calibrates one slot: tells the technician to insert a disk, then waits (drives.calibrate,
 * default 120 s, `timeoutSeconds` param) for a new disk and records its port path(s).
 * Cancelled by the client (Ctrl-C or disconnect): the table is left unchanged.
 */
export const calibrateMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const slot = slotParam(params, deps);
  const timeoutMs = Math.max(1, Number(params.timeoutSeconds ?? 120)) * 1000;
  const pending = deps.hardware.drives.calibrate(slot, { timeoutMs, signal: ctx.signal });
  pending.catch(() => {});
  // calibrate() first scans what is there already; a scan started now joins or follows it,
  // so the technician is told to insert the disk only once that baseline is taken.
  await deps.hardware.drives.candidates().catch(() => {});
  ctx.progress({ step: 'waiting', slot });
  let r: Awaited<typeof pending>;
  try {
    r = await pending;
  } catch (err) {
    const e = err as { code?: string; message: string };
    throw new MaintenanceError(
      e.code ?? 'ECALIBRATE',
      `slot ${slot}: calibration failed: ${e.message}`,
    );
  }
  recordAction(ctx, 'calibrate', { slot, portPaths: r.portPaths, added: r.added.length });
  return {
    slot,
    portPaths: r.portPaths,
    added: r.added,
    device: r.disk.device,
    serial: r.disk.serial,
  };
};

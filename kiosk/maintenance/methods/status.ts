import type { SlotDisk } from '../../../hal/drives/types.js';
import type { FaultView, SlotView } from '../../maintenance-wire.js';
import { diskSpace, hintFor, identityView, queueDepths, slotViews } from '../../state/views.js';
import { imageVersion } from '../../version.js';
import type { MaintenanceDeps } from '../deps.js';
import { describe, type Method } from './context.js';

/** Slots from the database plus what the drive scan says now (disk errors). */
export async function liveSlotViews(
  deps: MaintenanceDeps,
): Promise<{ slots: SlotView[]; disks: SlotDisk[]; scanError?: string }> {
  const slots = slotViews(deps.db);
  let disks: SlotDisk[] = [];
  let scanError: string | undefined;
  try {
    disks = await deps.hardware.drives.list();
  } catch (err) {
    scanError = describe(err).message;
  }
  for (const d of disks) {
    const v = slots.find((s) => s.slot === d.slot);
    if (v && d.error) v.diskError = d.error;
  }
  return { slots, disks, ...(scanError ? { scanError } : {}) };
}

/** Every fault visible now: slots in fault, disk errors, latched motors, board link, door. */
export async function collectFaults(
  deps: MaintenanceDeps,
  live: Awaited<ReturnType<typeof liveSlotViews>>,
): Promise<FaultView[]> {
  const faults: FaultView[] = [];
  for (const s of live.slots) {
    if (s.fault) faults.push({ slot: s.slot, ...s.fault, hint: hintFor(s.fault.code, s.slot) });
    if (s.diskError && s.state !== 'disabled')
      faults.push({
        slot: s.slot,
        code: 'EIO',
        message: `the disk in slot ${s.slot} reports: ${s.diskError}`,
        hint: hintFor('EIO', s.slot),
      });
  }
  if (live.scanError)
    faults.push({
      code: 'ESCAN',
      message: `drive scan failed: ${live.scanError}`,
      hint: 'kioskctl disks',
    });
  const { board, gpio } = deps.hardware;
  if (!board.connected) {
    faults.push({
      code: 'EDISCONNECTED',
      message: 'the slot board is not connected',
      hint: 'check the board cable and power; kioskctl test sensors',
    });
  } else {
    try {
      for (const st of await board.status()) {
        const rec = live.slots.find((s) => s.slot === st.slot);
        if (st.motorFault && rec?.state !== 'fault')
          faults.push({
            slot: st.slot,
            code: 'EMOTOR',
            message: `slot ${st.slot}: motor fault latched on the board`,
            hint: hintFor('EMOTOR', st.slot),
          });
      }
    } catch (err) {
      faults.push({
        code: 'EBOARD',
        message: `slot board status unreadable: ${describe(err).message}`,
        hint: 'kioskctl test sensors',
      });
    }
  }
  const keypad = deps.hardware.keypad?.status();
  if (keypad && !keypad.connected)
    faults.push({
      code: 'EKEYPAD',
      message: `the pickup-code keypad is not connected: ${keypad.note ?? keypad.device}`,
      hint: 'plug the keypad in; kioskd opens it again by itself',
    });
  try {
    const inputs = await gpio.readInputs();
    if (inputs.tamper)
      faults.push({
        code: 'ETAMPER',
        message: 'tamper switch active',
        hint: 'inspect the kiosk housing',
      });
    if (inputs.door === 'open')
      faults.push({
        code: 'EDOOR',
        message: 'service door open',
        hint: 'close the door when done',
      });
  } catch (err) {
    faults.push({
      code: 'EGPIO',
      message: `GPIO inputs unreadable: ${describe(err).message}`,
      hint: 'kioskctl test relays',
    });
  }
  return faults;
}

function stateCounts(slots: SlotView[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of slots) out[s.state] = (out[s.state] ?? 0) + 1;
  return out;
}

export const statusMethod: Method = async (_p, { deps }) => {
  const live = await liveSlotViews(deps);
  const link = deps.link.status;
  const id = identityView(deps.db);
  return {
    daemon: 'running',
    kioskId: deps.config.kioskId,
    softwareVersion: deps.softwareVersion,
    imageVersion: imageVersion(deps.imageVersionFile),
    hub: {
      url: link.url,
      state: link.state,
      connected: link.connected,
      lastSync: link.lastSync ?? id.lastSync,
      lastError: link.lastError,
    },
    clockOffsetMs: deps.clock.offset,
    queues: queueDepths(deps.db),
    dataDir: diskSpace(deps.config.dataDir),
    board: {
      connected: deps.hardware.board.connected,
      boardId: deps.hardware.board.identity?.boardId ?? null,
      firmware: deps.hardware.board.identity?.firmwareVersion ?? null,
    },
    slots: stateCounts(live.slots),
    faults: await collectFaults(deps, live),
  };
};

export const slotsMethod: Method = async (_p, { deps }) => {
  const live = await liveSlotViews(deps);
  return { slots: live.slots };
};

import { kioskFeatures, type SlotSnapshot } from '../../../protocol/index.js';
import type { CommandRecord, EventRecord, KioskRecord, SlotRecord } from '../../store/types.js';

/** Kiosk as the operator API shows it (never the secret hash). */
export function kioskView(k: KioskRecord, connected: boolean, slots?: SlotRecord[]) {
  return {
    id: k.id,
    name: k.name,
    createdAt: k.createdAt,
    enrolled: k.secretHash !== null,
    revokedAt: k.revokedAt,
    status: connected ? ('online' as const) : ('offline' as const),
    connected,
    lastSeenAt: k.lastSeenAt,
    connectedAt: k.connectedAt,
    softwareVersion: k.softwareVersion,
    imageVersion: k.imageVersion,
    slotCount: k.slotCount,
    lastBootAt: k.lastBootAt,
    bootReason: k.bootReason,
    features: k.features,
    // What the hub takes it to understand (the baseline for a Boot without a list); null until
    // its first Boot. The pages disable an action whose feature is missing here.
    understands: k.lastBootAt === null ? null : [...kioskFeatures(k.features)],
    lastSeq: k.lastSeq,
    ...(slots
      ? {
          slots: slots.map((s) => ({
            // The kiosk's snapshot as it reported it (checked against SlotSnapshot on arrival).
            ...(s.snapshot as SlotSnapshot),
            slot: s.slot,
            state: s.state as SlotSnapshot['state'],
            updatedAt: s.updatedAt,
          })),
        }
      : {}),
  };
}

export function commandView(c: CommandRecord) {
  return {
    id: c.id,
    kioskId: c.kioskId,
    action: c.action,
    state: c.state,
    payload: c.payload,
    result: c.result,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    deadline: c.deadline,
    attempts: c.attempts,
    lastSentAt: c.lastSentAt,
  };
}

export function eventView(e: EventRecord) {
  return {
    eventId: e.eventId,
    seq: e.seq,
    type: e.type,
    at: e.at,
    data: e.data,
    receivedAt: e.receivedAt,
  };
}

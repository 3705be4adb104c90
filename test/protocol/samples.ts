import {
  type Action,
  type EventDataOf,
  type EventType,
  generateSigningKeyPair,
  type RequestOf,
  type ResponseOf,
  signCommand,
} from '../../protocol/index.js';

/** Valid sample payloads for every action and every event type (test helper, not a test). */

const KIOSK = 'kiosk-001';
const keys = generateSigningKeyPair();
const cmd = () => crypto.randomUUID();
const at = '2025-03-01T12:00:00.000Z';

export const eventSamples: { [T in EventType]: EventDataOf<T> } = {
  DispenseCompleted: {
    commandId: cmd(),
    orderId: 'ord_123',
    slot: 3,
    diskId: 'disk-7f3a',
    outcome: 'taken',
  },
  PrepareProgress: {
    commandId: cmd(),
    reservationId: 'res-1',
    slot: 4,
    step: 'copying',
    bytesDone: 1024,
    bytesTotal: 4096,
    filesDone: 1,
    filesTotal: 4,
    rateBps: 1_000_000.5,
    etaSeconds: 3,
  },
  PrepareCompleted: {
    commandId: cmd(),
    reservationId: 'res-1',
    slot: 4,
    diskId: 'disk-1',
    contentId: 'movies-2025',
    contentVersion: '3',
    holdUntil: '2025-03-02T12:00:00Z',
  },
  PrepareFailed: {
    commandId: cmd(),
    reservationId: 'res-1',
    code: 'EVERIFY',
    reason: 'checksum mismatch',
  },
  DiskReturned: { slot: 9, usbSerial: 'WD 1234', identityValid: false, writeProtected: true },
  DiskChecked: { slot: 9, diskId: 'disk-2', result: 'fault', reason: 'SMART failing' },
  WipeCompleted: { slot: 2, diskId: 'disk-3', mode: 'full' },
  WipeFailed: { commandId: cmd(), slot: 2, code: 'EIO', reason: 'write error' },
  SlotStateChanged: { slot: 255, from: 'ready', to: 'reserved' },
  FaultRaised: { code: 'EJAM', message: 'motor stalled' },
  FaultCleared: { slot: 1, code: 'EJAM' },
  CommandRejected: { action: 'Dispense', code: 'EBUSY', reason: 'slot busy' },
  ReservationCancelled: { reservationId: 'res-9', reason: 'prepare failed', slot: 5 },
  ReservationExpired: { reservationId: 'res-9', slot: 5 },
  TechnicianAction: { actor: 'tech-7', action: 'slot.disable', args: { slot: 5, force: true } },
  DoorChanged: { open: true },
  TamperDetected: { input: 'case-switch' },
};

let seq = 0;
export function eventRequest<T extends EventType>(type: T): RequestOf<'Event'> {
  seq += 1;
  return {
    eventId: crypto.randomUUID(),
    seq,
    at,
    type,
    data: eventSamples[type],
  } as RequestOf<'Event'>;
}

const accepted = { status: 'Accepted' } as const;

export const actionSamples: {
  [A in Action]: { requests: RequestOf<A>[]; response: ResponseOf<A> };
} = {
  Boot: {
    requests: [
      { kioskId: KIOSK, softwareVersion: '0.1.0', slotCount: 24, bootReason: 'PowerOn' },
      {
        kioskId: KIOSK,
        softwareVersion: '0.1.0',
        imageVersion: '2025.03',
        slotCount: 1,
        bootReason: 'Watchdog',
      },
    ],
    response: {
      status: 'Accepted',
      currentTime: '2025-03-01T12:00:00.123+01:00',
      heartbeatInterval: 60,
    },
  },
  Heartbeat: { requests: [{}], response: { currentTime: at } },
  Inventory: {
    requests: [
      { takenAt: at, slots: [] },
      {
        takenAt: at,
        slots: [
          { slot: 1, state: 'empty', writeProtect: false },
          {
            slot: 2,
            state: 'reserved',
            diskId: 'disk-1',
            diskSerial: 'S3Z9NB0K',
            capacityBytes: 2_000_000_000_000,
            contentId: 'movies-2025',
            contentVersion: '3',
            writeProtect: true,
            reservationId: 'res-1',
            holdUntil: at,
          },
          {
            slot: 3,
            state: 'fault',
            writeProtect: false,
            fault: { code: 'EJAM', message: 'stuck' },
          },
        ],
      },
    ],
    response: {},
  },
  Event: {
    requests: (Object.keys(eventSamples) as EventType[]).map((t) => eventRequest(t)),
    response: {},
  },
  Dispense: {
    requests: [
      signCommand(
        keys.privateKeyPem,
        KIOSK,
        'Dispense',
        {
          commandId: cmd(),
          slot: 7,
          diskId: 'disk-1',
          orderId: 'ord-1',
          writeProtect: true,
          pickupWindowSeconds: 60,
        },
        { ttlMs: 60_000 },
      ),
    ],
    response: accepted,
  },
  PrepareDisk: {
    requests: [
      signCommand(
        keys.privateKeyPem,
        KIOSK,
        'PrepareDisk',
        {
          commandId: cmd(),
          reservationId: 'res-1',
          contentId: 'movies-2025',
          contentVersion: '3',
          minCapacityBytes: 500_000_000_000,
          writeProtect: false,
          holdUntil: at,
          manifestUrl: 'https://hub.example/content/movies-2025/3/manifest.json',
        },
        { ttlMs: 60_000 },
      ),
    ],
    response: { status: 'Rejected', reason: 'no disk large enough' },
  },
  CancelReservation: {
    requests: [{ commandId: cmd(), reservationId: 'res-1' }],
    response: accepted,
  },
  SetWriteProtect: { requests: [{ commandId: cmd(), slot: 1, on: true }], response: accepted },
  WipeDisk: {
    requests: [
      signCommand(
        keys.privateKeyPem,
        KIOSK,
        'WipeDisk',
        { commandId: cmd(), slot: 1, mode: 'quick' as const },
        { ttlMs: 1000 },
      ),
    ],
    response: accepted,
  },
  DisableSlot: {
    requests: [{ commandId: cmd(), slot: 1, reason: 'broken latch' }],
    response: accepted,
  },
  EnableSlot: { requests: [{ commandId: cmd(), slot: 1 }], response: accepted },
  TriggerMessage: { requests: [{ commandId: cmd(), message: 'Inventory' }], response: accepted },
  Reset: { requests: [{ commandId: cmd(), kind: 'Soft' }], response: { status: 'Rejected' } },
};

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SlotSnapshot } from '../../../protocol/schemas/slot-snapshot.js';
import { COMMAND_STATES } from '../../store/repos/command-repo.js';
import { ErrorBody, Exact, IsoTime, literals, Nullable, Reason } from './common.js';
import { Rollout, RolloutKiosk, UpdateHistoryEntry } from './rollouts.js';

/**
 * The named shapes of the API's answers (OpenAPI `components.schemas`, by `$id`), exactly as
 * the domains' views build them. Routes refer to them with `Type.Ref`; the web client's types
 * are generated from them (cloud-lite/web/src/lib/api-types.gen.ts).
 */

const Role = literals(['renter', 'technician', 'operator', 'admin'] as const);
const WriteProtectPolicy = literals(
  ['allowed', 'forced', 'off'] as const,
  'allowed: the renter chooses; forced: always on; off: never',
);
const Minor = (description?: string) =>
  Type.Integer(description ? { description } : { description: 'money in minor units (cents)' });

export const User = Exact(
  {
    id: Type.String(),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    name: Nullable(Type.String()),
    role: Role,
  },
  { $id: 'User' },
);

export const Deposit = Exact(
  { heldMinor: Minor('what the deposit holds now'), currency: Type.String() },
  { $id: 'Deposit' },
);

export const Me = Exact(
  {
    user: Type.Ref(User),
    deposit: Type.Ref(Deposit),
    savedCard: Nullable(Exact({ last4: Type.String() })),
    canRent: Type.Boolean(),
    reasons: Type.Array(Reason),
  },
  { $id: 'Me' },
);

export const Session = Exact(
  {
    token: Type.String({
      description: 'the session token (also set as the dk_session cookie); send as Bearer',
    }),
    user: Type.Ref(User),
  },
  { $id: 'Session' },
);

export const ContentPackage = Exact(
  {
    id: Type.String(),
    title: Type.String(),
    version: Type.String(),
    sizeBytes: Type.Integer(),
    description: Type.String(),
  },
  { $id: 'ContentPackage' },
);

export const DiskType = Exact(
  {
    id: Type.String(),
    capacityBytes: Type.Integer(),
    contentId: Type.String(),
    writeProtect: WriteProtectPolicy,
    pricePerDayMinor: Minor(),
    currency: Type.String(),
    defaultDays: Type.Integer(),
    maxDays: Type.Integer(),
    kioskIds: Nullable(Type.Array(Type.String(), { description: 'null: every kiosk' })),
  },
  { $id: 'DiskType' },
);

export const KioskSite = Exact(
  {
    kioskId: Type.String(),
    name: Type.String(),
    address: Type.String(),
    lat: Type.Number(),
    lng: Type.Number(),
  },
  { $id: 'KioskSite' },
);

export const NearbyKiosk = Exact(
  {
    id: Type.String(),
    name: Type.String(),
    address: Type.String(),
    lat: Type.Number(),
    lng: Type.Number(),
    distanceMeters: Nullable(Type.Number({ description: 'from `near`; null without it' })),
    online: Type.Boolean({ description: 'the kiosk can serve now' }),
    available: Type.Array(
      Exact({
        diskTypeId: Type.String(),
        count: Type.Integer({ description: 'ready to rent now' }),
        reservable: Type.Integer({ description: 'reservations it can still take' }),
      }),
    ),
    disks: Exact({ ready: Type.Integer(), reservable: Type.Integer() }),
  },
  { $id: 'NearbyKiosk' },
);

const ReservationState = literals([
  'preparing',
  'ready',
  'picked_up',
  'cancelled',
  'expired',
  'failed',
] as const);

export const PrepareProgress = Exact(
  {
    step: Type.String({
      description:
        'the step now: fetching, formatting, copying, flushing, verifying, configuring (in that order)',
    }),
    bytesDone: Type.Number({ description: 'of this step' }),
    bytesTotal: Type.Number({ description: 'of this step' }),
    percent: Type.Number({
      description:
        'of the whole preparation, 0-100, never going back: each step fills its band (fetching 0-30, formatting 30-35, copying 35-75, flushing 75-80, verifying 80-98, configuring 98-100)',
    }),
    etaSeconds: Type.Number(),
  },
  { $id: 'PrepareProgress' },
);

/** A disk type as a kiosk offers it, with what is ready and reservable there now. */
const OfferedDiskType = Exact({
  id: Type.String(),
  capacityBytes: Type.Integer(),
  contentId: Type.String(),
  contentTitle: Type.String(),
  contentVersion: Type.Optional(Type.String()),
  writeProtect: WriteProtectPolicy,
  pricePerDayMinor: Minor(),
  currency: Type.String(),
  defaultDays: Type.Integer(),
  maxDays: Type.Integer(),
  available: Type.Integer({ description: 'disks ready to dispense now' }),
  reservable: Type.Integer({ description: 'reservations the kiosk can still take' }),
});

/**
 * The rental settings an operator edits (GET/POST /api/operator/rental-settings): stored in
 * the hub's store, seeded from the config's `rental` section at the first start.
 */
export const RentalSettings = Exact(
  {
    depositMinor: Minor('the deposit a renter must hold before renting'),
    overdueFeePerDayMinor: Minor('late fee per started day past the due time'),
    lostDiskChargeMinor: Minor('charge for a lost disk, taken from the deposit'),
    currency: Type.String({ description: 'the currency of these amounts (rental.currency)' }),
    updatedAt: IsoTime,
    updatedBy: Type.String({
      description:
        '`config` while the values are the seed from the config file, else who saved them',
    }),
  },
  { $id: 'RentalSettings' },
);

/** The hub's rental terms, as a renter reads them before paying (stored settings + rental config). */
export const Terms = Exact(
  {
    currency: Type.String({ description: 'ISO 4217 code every price is in (rental.currency)' }),
    depositMinor: Minor(
      'the deposit a renter pays before the first rental (the stored rental settings)',
    ),
    overdueFeePerDayMinor: Minor('fee per started day past the due time'),
    overdueMaxDays: Type.Integer({
      description: 'overdue days after which the disk counts as lost',
    }),
    lostDiskChargeMinor: Minor('charge for a lost disk, taken from the deposit'),
    pickupWindowSeconds: Type.Integer({
      description: 'how long a dispensed disk waits to be taken',
    }),
    holdWindowSeconds: Type.Integer({ description: 'how long a prepared reservation is held' }),
    noShowFeeMinor: Minor('fee when a ready reservation is not picked up in its hold window'),
    termsUrl: Type.Optional(
      Type.String({ description: "the operator's terms page (rental.termsUrl), when set" }),
    ),
    privacyUrl: Type.Optional(
      Type.String({ description: "the operator's privacy page (rental.privacyUrl), when set" }),
    ),
  },
  { $id: 'Terms' },
);

/** The renter's map page settings (GET /api/map), from the hub's `map` configuration. */
export const MapSettings = Exact(
  {
    tileUrl: Type.String({ description: 'raster tile URL template: {z} {x} {y}, maybe {s}' }),
    subdomains: Type.Array(Type.String(), { description: 'the values of {s}' }),
    attribution: Type.String({ description: "the tile provider's credit, shown on the map" }),
    minZoom: Type.Integer(),
    maxZoom: Type.Integer(),
    coordSystem: literals(
      ['wgs84', 'gcj02'] as const,
      "the tiles' coordinates: gcj02 (Chinese providers) means positions are converted before they are drawn",
    ),
    directionsUrl: Type.String({
      description: 'a web directions link; {lat} and {lng} are the WGS-84 destination',
    }),
  },
  { $id: 'MapSettings' },
);

/** What a kiosk's QR code shows before anyone logs in (GET /api/kiosks/{id}/offer). */
export const KioskOffer = Exact(
  {
    kiosk: Exact({
      id: Type.String(),
      name: Type.String(),
      address: Type.String(),
      online: Type.Boolean({ description: 'the kiosk can serve now' }),
      lat: Nullable(Type.Number()),
      lng: Nullable(Type.Number()),
    }),
    diskTypes: Type.Array(OfferedDiskType),
    terms: Type.Ref(Terms),
  },
  { $id: 'KioskOffer' },
);

export const KioskSession = Exact(
  {
    kiosk: Exact({
      id: Type.String(),
      name: Type.String(),
      address: Type.String(),
      online: Type.Boolean(),
    }),
    canRent: Type.Boolean(),
    reasons: Type.Array(Reason),
    canReserve: Type.Boolean(),
    reserveReasons: Type.Array(Reason),
    diskTypes: Type.Array(OfferedDiskType),
    reservations: Type.Array(
      Exact({
        id: Type.String(),
        state: ReservationState,
        slot: Type.Optional(Type.Integer()),
        holdUntil: IsoTime,
        diskTypeId: Type.String(),
        progress: Type.Optional(Type.Ref(PrepareProgress)),
      }),
      { description: "the renter's reservations at this kiosk, preparing or ready" },
    ),
  },
  { $id: 'KioskSession' },
);

export const OrderState = literals(
  [
    'created',
    'authorised',
    'dispensing',
    'jam_hold',
    'kiosk_unreachable',
    'completed',
    'failed',
    'cancelled',
  ] as const,
  'terminal: completed, failed, cancelled',
);

/** A refund of captured money (an operator's, or a deposit's), as a receipt line. */
export const RefundLine = Exact(
  {
    id: Type.String(),
    amountMinor: Minor(),
    currency: Type.String(),
    state: Type.Union([
      Type.Literal('refunding'),
      Type.Literal('refunded'),
      Type.Literal('refund_failed'),
    ]),
    at: IsoTime,
    reason: Type.Union([Type.String(), Type.Null()], {
      description: "the operator's reason for the refund (null: none given)",
    }),
  },
  { $id: 'RefundLine' },
);
export const RefundAnswer = Exact({ refund: Type.Ref(RefundLine) }, { $id: 'RefundAnswer' });

export const Order = Exact(
  {
    id: Type.String(),
    kioskId: Type.String(),
    diskTypeId: Type.String(),
    days: Type.Integer(),
    writeProtect: Type.Boolean(),
    amountMinor: Minor(),
    currency: Type.String(),
    state: OrderState,
    slot: Type.Optional(Type.Integer()),
    diskId: Type.Optional(Type.String()),
    failureReason: Type.Optional(Type.String()),
    reservationId: Type.Optional(Type.String({ description: "a reservation's pickup" })),
    rentalId: Type.Optional(Type.String()),
    paymentId: Type.Optional(
      Type.String({
        description: 'the payment (operators refund it: /api/operator/payments/:id/refund)',
      }),
    ),
    steps: Type.Array(
      Exact({
        at: IsoTime,
        state: Type.String(),
        message: Type.String(),
        until: Type.Optional(IsoTime),
        takenAt: Type.Optional({
          ...IsoTime,
          description:
            "the step of the disk taken: when the kiosk saw it taken, by the kiosk's clock (an offline pickup reports later); the rental starts then",
        }),
      }),
    ),
    releaseAt: Type.Optional(
      Type.String({
        description:
          'kiosk_unreachable: when the payment is released unless the kiosk reports the disk taken',
      }),
    ),
    refunds: Type.Optional(
      Type.Array(Type.Ref(RefundLine), {
        description: "refunds of the order's payment (receipt lines), oldest first",
      }),
    ),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  },
  { $id: 'Order' },
);

export const Reservation = Exact(
  {
    id: Type.String(),
    kioskId: Type.String(),
    diskTypeId: Type.String(),
    days: Type.Integer(),
    writeProtect: Type.Boolean(),
    amountMinor: Minor(),
    currency: Type.String(),
    state: ReservationState,
    progress: Type.Optional(Type.Ref(PrepareProgress)),
    slot: Type.Optional(Type.Integer()),
    diskId: Type.Optional(Type.String()),
    holdUntil: IsoTime,
    failureReason: Type.Optional(Type.String()),
    fees: Type.Array(
      Exact({
        kind: Type.String(),
        amountMinor: Minor(),
        currency: Type.String(),
        at: IsoTime,
        message: Type.String(),
      }),
    ),
    orderId: Type.Optional(Type.String({ description: 'the pickup order' })),
    pickupCode: Type.Optional(
      Type.String({
        pattern: '^[0-9]{8}$',
        description:
          "the 8 digits to type on the kiosk's keypad; works once, offline too, until holdUntil (docs/pickup-codes.md). Only to the reservation's renter, while it is ready and its kiosk holds the code",
      }),
    ),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  },
  { $id: 'Reservation' },
);

export const Rental = Exact(
  {
    id: Type.String(),
    orderId: Type.String(),
    diskId: Type.String(),
    diskTypeId: Type.String(),
    kioskId: Type.String(),
    contentTitle: Type.String({ description: "the content's title, as the renter knows the disk" }),
    capacityBytes: Nullable(Type.Integer()),
    kioskName: Type.String({ description: 'where it was rented' }),
    startedAt: IsoTime,
    dueAt: IsoTime,
    returnedAt: Type.Optional(IsoTime),
    returnKioskId: Type.Optional(Type.String()),
    state: literals(['open', 'returned', 'overdue', 'lost'] as const),
    charges: Type.Array(
      Exact({ kind: Type.String(), amountMinor: Minor(), currency: Type.String(), at: IsoTime }),
    ),
    totalMinor: Minor('the sum of the charges'),
    overdueFeePerDayMinor: Type.Optional(
      Minor('the late fee per day this rental was paid under (absent: the current terms)'),
    ),
    lostDiskChargeMinor: Type.Optional(
      Minor('the lost-disk charge this rental was paid under (absent: the current terms)'),
    ),
    pendingExtensionDays: Type.Integer({
      description: 'days of extensions still being paid (the due date moves once captured)',
    }),
  },
  { $id: 'Rental' },
);

export const ExtensionQuote = Exact(
  {
    rentalId: Type.String(),
    days: Type.Integer(),
    amountMinor: Minor(),
    currency: Type.String(),
    pricePerDayMinor: Minor(),
    dueAt: IsoTime,
    newDueAt: IsoTime,
    maxDays: Type.Integer(),
    daysSoFar: Type.Integer(),
    maxExtraDays: Type.Integer(),
    payWith: literals(['card', 'deposit'] as const),
    cardLast4: Type.Optional(Type.String()),
  },
  { $id: 'ExtensionQuote' },
);

export const AuditEntry = Exact(
  {
    id: Type.Optional(Type.Integer()),
    at: IsoTime,
    actor: Type.String({ description: 'user:<id>, kiosk:<id>, system:<job>, admin-token' }),
    action: Type.String(),
    subject: Nullable(Type.String()),
    kioskId: Nullable(Type.String()),
    ip: Nullable(Type.String()),
    details: Nullable(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'AuditEntry' },
);

export const MissingDisk = Exact(
  {
    id: Type.String(),
    eventId: Type.String(),
    diskId: Nullable(Type.String()),
    kioskId: Type.String(),
    slot: Type.Integer(),
    slotState: Type.String(),
    reason: Type.String(),
    door: Nullable(literals(['open', 'closed'] as const)),
    orderId: Nullable(Type.String()),
    flaggedAt: IsoTime,
    clearedAt: Nullable(IsoTime),
    clearedBy: Nullable(Type.String()),
  },
  { $id: 'MissingDisk' },
);

export const Flag = Exact(
  {
    id: Type.Integer(),
    kind: Type.String(),
    subject: Type.String(),
    message: Type.String(),
    createdAt: IsoTime,
    resolvedAt: Nullable(IsoTime),
  },
  { $id: 'Flag' },
);

export const Alert = Exact(
  {
    id: Type.Integer(),
    kind: Type.String({ description: 'docs/alerts-and-notifications.md lists every kind' }),
    key: Type.String({ description: 'the cause: one live alert per key' }),
    kioskId: Nullable(Type.String()),
    severity: literals(['warning', 'critical'] as const),
    message: Type.String(),
    details: Nullable(Type.Record(Type.String(), Type.Unknown())),
    state: literals(['open', 'acknowledged', 'resolved'] as const),
    openedAt: IsoTime,
    lastSeenAt: IsoTime,
    acknowledgedAt: Nullable(IsoTime),
    acknowledgedBy: Nullable(Type.String({ description: '`user:<id>` or `admin-token`' })),
    resolvedAt: Nullable(IsoTime),
    resolvedBy: Nullable(
      Type.String({
        description: '`user:<id>`, `admin-token`, or `system:alerts` (the fact cleared)',
      }),
    ),
    notifyCount: Type.Integer({ description: 'how often operators were told (opened, reminders)' }),
  },
  { $id: 'Alert' },
);

export const OpsSlot = Exact(
  { ...SlotSnapshot.properties, updatedAt: IsoTime },
  { $id: 'OpsSlot', description: "the hub's copy of a slot: the kiosk's last snapshot" },
);

export const OpsKiosk = Exact(
  {
    id: Type.String(),
    name: Type.String(),
    createdAt: IsoTime,
    enrolled: Type.Boolean(),
    revokedAt: Nullable(IsoTime),
    status: literals(['online', 'offline'] as const),
    connected: Type.Boolean(),
    lastSeenAt: Nullable(IsoTime),
    connectedAt: Nullable(IsoTime),
    softwareVersion: Nullable(Type.String()),
    imageVersion: Nullable(Type.String()),
    slotCount: Nullable(Type.Integer()),
    lastBootAt: Nullable(IsoTime),
    bootReason: Nullable(Type.String()),
    features: Nullable(
      Type.Array(Type.String(), {
        description:
          'the protocol features its last Boot listed, as sent; null: it listed none (older kioskd: the baseline, docs/protocol.md "Versions and features")',
      }),
    ),
    understands: Nullable(
      Type.Array(Type.String(), {
        description:
          'the protocol features the hub takes it to understand and sends it commands for: those of `features` this hub knows, or the baseline when it listed none; null: it never booted (its first Boot decides)',
      }),
    ),
    lastSeq: Type.Integer(),
    slots: Type.Optional(Type.Array(Type.Ref(OpsSlot))),
  },
  { $id: 'OpsKiosk' },
);

export const OpsCommand = Exact(
  {
    id: Type.String(),
    kioskId: Type.String(),
    action: Type.String(),
    state: literals(COMMAND_STATES),
    payload: Type.Record(Type.String(), Type.Unknown()),
    result: Nullable(Type.Record(Type.String(), Type.Unknown())),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    deadline: IsoTime,
    attempts: Type.Integer(),
    lastSentAt: Nullable(IsoTime),
  },
  { $id: 'OpsCommand' },
);

export const OpsEvent = Exact(
  {
    eventId: Type.String(),
    seq: Type.Integer(),
    type: Type.String(),
    at: IsoTime,
    data: Type.Record(Type.String(), Type.Unknown()),
    receivedAt: IsoTime,
  },
  { $id: 'OpsEvent' },
);

// The answers' envelopes (inline in the document: each names the component it carries).

export const OrderAnswer = Exact({ order: Type.Ref(Order) });
export const ReservationAnswer = Exact({ reservation: Type.Ref(Reservation) });
export const PickupAnswer = Exact({
  reservation: Type.Ref(Reservation),
  order: Type.Ref(Order, { description: 'the pickup order: follow it like any order' }),
});
export const RentalAnswer = Exact({ rental: Type.Ref(Rental) });
export const QuoteAnswer = Exact({ quote: Type.Ref(ExtensionQuote) });
export const DepositAnswer = Exact({ deposit: Type.Ref(Deposit) });
export const RegisterAnswer = Exact({
  status: Type.Literal('confirmation-sent'),
  message: Type.String(),
});
export const UserAnswer = Exact({ user: Type.Ref(User) });
export const OrdersList = Exact({ orders: Type.Array(Type.Ref(Order)) });
/** An order as operators list it: with its renter and what was actually charged. */
export const OpsOrder = Exact(
  {
    ...Order.properties,
    renter: Exact({
      id: Type.String(),
      label: Type.String({ description: "the renter's name, else e-mail, else phone, else id" }),
    }),
    chargedMinor: Minor(
      'captured minus refunded, in minor units of `currency`; 0 when nothing was captured (a failed or cancelled order)',
    ),
  },
  { $id: 'OpsOrder' },
);
export const OpsOrdersList = Exact({ orders: Type.Array(Type.Ref(OpsOrder)) });
export const ReservationsList = Exact({ reservations: Type.Array(Type.Ref(Reservation)) });
export const ContentList = Exact({ content: Type.Array(Type.Ref(ContentPackage)) });
export const ContentAnswer = Exact({ content: Type.Ref(ContentPackage) });
export const DiskTypesList = Exact({ diskTypes: Type.Array(Type.Ref(DiskType)) });
export const DiskTypeAnswer = Exact({ diskType: Type.Ref(DiskType) });
export const SiteAnswer = Exact({ site: Type.Ref(KioskSite) });
export const RentalSettingsAnswer = Exact({ settings: Type.Ref(RentalSettings) });
export const AuditList = Exact({ audit: Type.Array(Type.Ref(AuditEntry)) });
export const MissingDisksList = Exact({ missingDisks: Type.Array(Type.Ref(MissingDisk)) });
export const FlagsList = Exact({ flags: Type.Array(Type.Ref(Flag)) });
const EnrolmentToken = {
  enrolmentToken: Type.String({ description: 'one-time: `kioskctl enrol` takes it' }),
  expiresAt: IsoTime,
};
export const IssuedToken = Exact(EnrolmentToken);
export const KioskCreated = Exact({ kiosk: Type.Ref(OpsKiosk), ...EnrolmentToken });
export const KiosksList = Exact({ kiosks: Type.Array(Type.Ref(OpsKiosk)) });
/** A kiosk diagnostics request (remote diagnostics, docs/remote-operations.md). */
export const Diagnostics = Exact(
  {
    id: Type.String(),
    kioskId: Type.String(),
    kind: literals(['bundle', 'logs'] as const),
    lines: Nullable(Type.Integer()),
    level: Nullable(Type.String()),
    state: literals(['requested', 'uploaded', 'failed'] as const),
    commandId: Nullable(Type.String({ description: 'the UploadDiagnostics command' })),
    requestedBy: Type.String({ description: 'audit actor: user:<id>, admin-token' }),
    requestedAt: IsoTime,
    finishedAt: Nullable(IsoTime),
    sizeBytes: Nullable(Type.Integer()),
    sha256: Nullable(Type.String()),
    failure: Nullable(Type.String({ description: "why it failed (the kiosk's code and reason)" })),
  },
  { $id: 'Diagnostics' },
);
export const DiagnosticsAnswer = Exact({ diagnostics: Type.Ref(Diagnostics) });
export const DiagnosticsList = Exact({ diagnostics: Type.Array(Type.Ref(Diagnostics)) });
export const KioskAnswer = Exact({ kiosk: Type.Ref(OpsKiosk) });
export const CommandAnswer = Exact({ command: Type.Ref(OpsCommand) });
export const CommandsList = Exact({ commands: Type.Array(Type.Ref(OpsCommand)) });
export const EventsList = Exact({ events: Type.Array(Type.Ref(OpsEvent)) });
export const EnrolAnswer = Exact({
  kioskId: Type.String(),
  secret: Type.String({ description: "the kiosk's secret (Basic credentials on /kiosk)" }),
  hubPublicKey: Type.String({ description: "PEM: verifies the hub's signed commands" }),
  hubUrl: Type.Optional(Type.String({ description: "the hub's public URL, when configured" })),
});
export const Health = Exact({
  status: Type.Literal('ok'),
  connectedKiosks: Type.Integer(),
});
export const WebhookAnswer = Exact({
  received: Type.Literal(true),
  duplicate: Type.Boolean({ description: 'the event was applied before' }),
});

/** GET /api/payments/config: how a page collects a card (docs/payments.md). */
export const PaymentsConfig = Exact(
  {
    provider: literals(['sandbox', 'stripe'] as const),
    stripe: Nullable(
      Exact({
        publishableKey: Nullable(
          Type.String({ description: 'pk_…, for Stripe.js (null: not configured)' }),
        ),
        jsUrl: Type.String({ description: 'where to load Stripe.js from' }),
      }),
    ),
    sandbox: Nullable(
      Exact({
        paymentMethodsUrl: Type.String({
          description: "POST the card here (the sandbox's card form); it answers { id: 'pm_…' }",
        }),
      }),
    ),
  },
  { $id: 'PaymentsConfig' },
);

/** Every named schema, in the order they are added (a schema after those it refers to). */
export const COMPONENTS = [
  ErrorBody,
  User,
  Deposit,
  Me,
  Session,
  ContentPackage,
  DiskType,
  KioskSite,
  NearbyKiosk,
  PrepareProgress,
  RentalSettings,
  Terms,
  MapSettings,
  KioskOffer,
  RefundLine,
  RefundAnswer,
  PaymentsConfig,
  KioskSession,
  Order,
  OpsOrder,
  Reservation,
  Rental,
  ExtensionQuote,
  AuditEntry,
  MissingDisk,
  Flag,
  Alert,
  OpsSlot,
  OpsKiosk,
  OpsCommand,
  OpsEvent,
  Rollout,
  RolloutKiosk,
  UpdateHistoryEntry,
  Diagnostics,
];

/** Adds the named schemas to `app` (validation, serialisation and the OpenAPI components). */
export function addComponentSchemas(app: FastifyInstance): void {
  for (const s of COMPONENTS) app.addSchema(s);
}

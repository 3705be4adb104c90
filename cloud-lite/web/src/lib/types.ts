// Shapes of the cloud-lite JSON API as the web pages read them (the routes in cloud-lite/http/routes/).

export type Role = 'renter' | 'technician' | 'operator' | 'admin';

export interface User {
  id: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  role: Role;
}

export interface Money {
  heldMinor: number;
  currency: string;
}

export interface Me {
  user: User;
  deposit: Money;
  canRent: boolean;
  reasons: string[];
}

export interface Card {
  number: string;
  expMonth: number;
  expYear: number;
  cvc: string;
}

export type Payment = Card | { useSaved: true };

export type WriteProtectPolicy = 'allowed' | 'forced' | 'off';

export interface DiskType {
  id: string;
  capacityBytes: number;
  contentId: string;
  contentTitle: string;
  writeProtect: WriteProtectPolicy;
  pricePerDayMinor: number;
  currency: string;
  defaultDays: number;
  maxDays: number;
  /** Disks of this type ready to dispense now. */
  available: number;
  /** Reservations this kiosk can still take for this type (disks it could prepare). */
  reservable: number;
}

export interface KioskBrief {
  id: string;
  name: string;
  address: string;
  online: boolean;
}

export interface ReservationBrief {
  id: string;
  state: ReservationState;
  slot?: number | null;
  holdUntil: string;
  diskTypeId: string;
}

export interface KioskSession {
  kiosk: KioskBrief;
  canRent: boolean;
  reasons: string[];
  /** Reserving here: the reasons above plus the reservation limit. */
  canReserve: boolean;
  reserveReasons: string[];
  diskTypes: DiskType[];
  reservations: ReservationBrief[];
}

export interface NearbyKiosk extends KioskBrief {
  lat: number;
  lng: number;
  distanceMeters: number | null;
  /** Per disk type: ready to rent now, reservations it can still take (one disk may serve several types). */
  available: Array<{ diskTypeId: string; count: number; reservable: number }>;
  /** Distinct disks: ready now, and how many reservations the kiosk can take in all. */
  disks: { ready: number; reservable: number };
}

export interface Step {
  at: string;
  state: string;
  message: string;
}

export type OrderState =
  | 'created'
  | 'authorised'
  | 'dispensing'
  | 'jam_hold'
  | 'kiosk_unreachable'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface Order {
  id: string;
  kioskId: string;
  diskTypeId: string;
  days: number;
  writeProtect: boolean;
  amountMinor: number;
  currency: string;
  state: OrderState;
  slot?: number | null;
  diskId?: string | null;
  failureReason?: string | null;
  steps: Step[];
  rentalId?: string | null;
  /** kiosk_unreachable: when the payment is released unless the kiosk reports the disk taken. */
  releaseAt?: string;
}

export type ReservationState =
  | 'preparing'
  | 'ready'
  | 'picked_up'
  | 'cancelled'
  | 'expired'
  | 'failed';

export interface PrepareProgress {
  step: string;
  bytesDone: number;
  bytesTotal: number;
  percent: number;
  etaSeconds: number;
}

export interface Fee {
  kind: string;
  amountMinor: number;
  currency?: string;
  at: string;
  message?: string;
}

export interface Reservation {
  id: string;
  kioskId: string;
  diskTypeId: string;
  state: ReservationState;
  progress?: PrepareProgress | null;
  slot?: number | null;
  holdUntil: string;
  failureReason?: string | null;
  fees: Fee[];
  days?: number;
  amountMinor?: number;
  currency?: string;
}

export interface Charge {
  kind: string;
  amountMinor: number;
  at: string;
  currency?: string;
}

export type RentalState = 'open' | 'returned' | 'overdue' | 'lost';

export interface Rental {
  id: string;
  orderId: string;
  diskId: string;
  kioskId: string;
  startedAt: string;
  dueAt: string;
  returnedAt?: string | null;
  returnKioskId?: string | null;
  state: RentalState;
  charges: Charge[];
}

/** GET /api/rentals/:id/extension-quote */
export interface ExtensionQuote {
  rentalId: string;
  days: number;
  amountMinor: number;
  currency: string;
  pricePerDayMinor: number;
  dueAt: string;
  newDueAt: string;
  maxDays: number;
  daysSoFar: number;
  maxExtraDays: number;
  payWith: 'card' | 'deposit';
  cardLast4?: string;
}

export interface ContentPackage {
  id: string;
  title: string;
  version: string;
  sizeBytes: number;
  description?: string;
}

// Operator side (cloud-lite/api/views.ts).

export interface OpsSlot {
  slot: number;
  state: string;
  diskId?: string;
  capacityBytes?: number;
  contentId?: string;
  contentVersion?: string;
  writeProtect?: boolean;
  reservationId?: string;
  holdUntil?: string;
  fault?: { code: string; message: string };
  updatedAt?: string;
}

export interface OpsKiosk {
  id: string;
  name: string;
  createdAt: string;
  enrolled: boolean;
  revokedAt: string | null;
  status: 'online' | 'offline';
  connected: boolean;
  lastSeenAt: string | null;
  softwareVersion: string | null;
  slotCount: number | null;
  lastBootAt: string | null;
  bootReason: string | null;
  lastSeq: number;
  slots?: OpsSlot[];
}

export interface OpsCommand {
  id: string;
  kioskId: string;
  action: string;
  state: string;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  deadline: string;
  attempts: number;
}

export interface OpsEvent {
  eventId: string;
  seq: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
  receivedAt: string;
}

// Shapes of the cloud-lite JSON API as the web pages read them: named from the types
// openapi-typescript generates from the API document (api-types.gen.ts, from docs/openapi.json;
// `npm run gen:docs` writes both), so a change of a route's schema that a page depends on fails
// `tsc` here instead of at run time.
import type { components, paths } from './api-types.gen.js';

type Schemas = components['schemas'];
/** The JSON body of an operation's request. */
type RequestBody<P extends keyof paths, M extends 'post'> = paths[P][M] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type User = Schemas['User'];
export type Role = User['role'];
export type Money = Schemas['Deposit'];
export type Me = Schemas['Me'];

/** POST /api/orders (and /api/reservations) */
export type RentBody = RequestBody<'/api/orders', 'post'>;
export type Payment = RentBody['card'];
/** A payment-method id from the provider's card form (the hub takes no card details). */
export type Card = RequestBody<'/api/me/deposit', 'post'>['card'];
/** GET /api/payments/config: the provider and what its card form needs. */
export type PaymentsConfig = Schemas['PaymentsConfig'];
/** The card details the sandbox's card endpoint (the provider's side) takes. */
export type SandboxCard = RequestBody<'/sandbox-provider/payment-methods', 'post'>;

export type KioskSession = Schemas['KioskSession'];
export type KioskOffer = Schemas['KioskOffer'];
export type Terms = Schemas['Terms'];
export type MapSettings = Schemas['MapSettings'];
export type KioskBrief = KioskSession['kiosk'];
/** A disk type as a kiosk session offers it (with what is ready and reservable there). */
export type DiskType = KioskSession['diskTypes'][number];
export type WriteProtectPolicy = DiskType['writeProtect'];
export type ReservationBrief = KioskSession['reservations'][number];
export type NearbyKiosk = Schemas['NearbyKiosk'];

export type Order = Schemas['Order'];
export type OrderState = Order['state'];
export type Step = Order['steps'][number];

export type Reservation = Schemas['Reservation'];
export type ReservationState = Reservation['state'];
export type PrepareProgress = Schemas['PrepareProgress'];
export type Fee = Reservation['fees'][number];

export type Rental = Schemas['Rental'];
export type RentalState = Rental['state'];
export type Charge = Rental['charges'][number];
export type ExtensionQuote = Schemas['ExtensionQuote'];

export type ContentPackage = Schemas['ContentPackage'];
/** POST /api/operator/content */
export type ContentBody = RequestBody<'/api/operator/content', 'post'>;
/** A disk type as operators edit it (GET/POST /api/operator/disk-types). */
export type OpsDiskType = Schemas['DiskType'];
export type DiskTypeBody = RequestBody<'/api/operator/disk-types', 'post'>;
export type OpsOrder = Schemas['OpsOrder'];

// Operator side (cloud-lite/http/routes/fleet-views.ts).
export type OpsSlot = Schemas['OpsSlot'];
export type OpsKiosk = Schemas['OpsKiosk'];
export type OpsCommand = Schemas['OpsCommand'];
export type Diagnostics = Schemas['Diagnostics'];
type RemoteConfigAnswer =
  paths['/api/operator/config']['get']['responses'][200]['content']['application/json'];
export type KioskRemoteConfig = RemoteConfigAnswer['kiosks'][number];
export type RemoteConfigScope = NonNullable<RemoteConfigAnswer['fleet']>;
export type SettingKey = RemoteConfigAnswer['settingKeys'][number];
export type OpsEvent = Schemas['OpsEvent'];
export type Rollout = Schemas['Rollout'];
export type RolloutKiosk = Schemas['RolloutKiosk'];
export type UpdateHistoryEntry = Schemas['UpdateHistoryEntry'];
export interface RolloutView {
  rollout: Rollout;
  kiosks: RolloutKiosk[];
  counts: Record<string, number>;
}
export type Alert = Schemas['Alert'];

/** GET/POST /api/operator/rental-settings: the deposit, late fee and lost-disk charge. */
export type RentalSettings = Schemas['RentalSettings'];
export type RentalSettingsBody = RequestBody<'/api/operator/rental-settings', 'post'>;

/** GET/POST /api/me/notifications: the renter's e-mail language and the kinds they get. */
export type NotificationSettings =
  paths['/api/me/notifications']['get']['responses'][200]['content']['application/json'];
export type NotificationSettingsBody = RequestBody<'/api/me/notifications', 'post'>;

import { Type } from '@sinclair/typebox';
import type { ApiErrorCode } from '../../error-codes.js';
import { OrderState as OrderStateSchema } from './components.js';

/** The codes a payment may answer (a payment-method id, or a saved card). */
export const PAYMENT_ERRORS = [
  'CARD_DATA_REFUSED',
  'NO_SAVED_CARD',
  'CARD_DECLINED',
  'INSUFFICIENT_FUNDS',
  'PAYMENT_REFUSED',
  'PAYMENT_UNAVAILABLE',
] as const satisfies readonly ApiErrorCode[];

/** The codes of renting or reserving at a kiosk (POST /api/orders, POST /api/reservations). */
export const RENT_ERRORS = [
  'VALIDATION',
  'NOT_ALLOWED',
  'KIOSK_NOT_FOUND',
  'KIOSK_OFFLINE',
  'DISK_TYPE_NOT_OFFERED',
  'NO_DISK_AVAILABLE',
  'IDEMPOTENCY_MISMATCH',
  ...PAYMENT_ERRORS,
] as const satisfies readonly ApiErrorCode[];

/** Request schemas of the rental API (TypeBox, validated by fastify). */
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' });
export const IdParams = Type.Object({ id: Id });

/**
 * A payment-method id made by the provider's card form in the browser: the hub never takes a
 * card number (a body with card details is refused, CARD_DATA_REFUSED; docs/payments.md).
 */
export const PaymentMethod = Type.Object(
  {
    paymentMethod: Type.String({
      minLength: 3,
      maxLength: 255,
      pattern: '^[A-Za-z0-9_]+$',
      description:
        "the provider's payment-method id (`pm_…`), from its own card form: GET /api/payments/config says which (Stripe: Stripe.js Payment Element + createPaymentMethod; sandbox: POST /sandbox-provider/payment-methods). Test ids: pm_card_visa, pm_card_chargeDeclined, pm_card_chargeDeclinedInsufficientFunds",
    }),
  },
  { additionalProperties: false },
);
export const PaymentOrSaved = Type.Union([
  PaymentMethod,
  Type.Object({ useSaved: Type.Literal(true) }, { additionalProperties: false }),
]);

export const RegisterBody = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
    phone: Type.Optional(Type.String({ minLength: 6, maxLength: 20 })),
    // Long enough for 256 code points of any script (the policy counts code points after NFKC).
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    language: Type.Optional(
      Type.Union([Type.Literal('en'), Type.Literal('zh-CN')], {
        description:
          "the language of the account's e-mails, this registration's first (absent: from the Accept-Language header, else en)",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'an e-mail or a phone (one of them), and a password',
    examples: [{ email: 'ada@example.org', password: 'correct horse battery staple', name: 'Ada' }],
  },
);
export const ConfirmRegistrationBody = Type.Object(
  {
    token: Type.String({
      minLength: 20,
      maxLength: 200,
      description: 'the part after # of the link the hub sent',
    }),
  },
  {
    additionalProperties: false,
    examples: [{ token: 'b3JkZXItdG9rZW4tZXhhbXBsZS0wMTIzNDU2Nzg5' }],
  },
);
export const LoginBody = Type.Object(
  {
    login: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  {
    additionalProperties: false,
    examples: [{ login: 'ada@example.org', password: 'correct horse battery staple' }],
  },
);
/** Save the card for later payments once this payment is authorised (default: not saved). */
const SaveCard = Type.Optional(Type.Boolean());
export const DepositBody = Type.Object(
  {
    amountMinor: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    card: PaymentMethod,
    saveCard: SaveCard,
  },
  {
    additionalProperties: false,
    examples: [{ amountMinor: 5000, card: { paymentMethod: 'pm_card_visa' }, saveCard: true }],
  },
);
export const OrderBody = Type.Object(
  {
    kioskId: Id,
    diskTypeId: Id,
    writeProtect: Type.Boolean(),
    days: Type.Integer({ minimum: 1, maximum: 365 }),
    card: PaymentOrSaved,
    saveCard: SaveCard,
  },
  {
    additionalProperties: false,
    examples: [
      {
        kioskId: 'k-central',
        diskTypeId: 't64',
        writeProtect: true,
        days: 3,
        card: { useSaved: true },
      },
    ],
  },
);
export const RefundBody = Type.Object(
  {
    /** Omitted: everything left to refund. */
    amountMinor: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    reason: Type.String({ minLength: 3, maxLength: 500 }),
  },
  {
    additionalProperties: false,
    examples: [{ amountMinor: 200, reason: 'disk arrived with the wrong content' }],
  },
);
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
});
const ExtendDays = Type.Integer({ minimum: 1, maximum: 365 });
export const ExtendBody = Type.Object(
  {
    days: ExtendDays,
    /** The amount of the quote the renter accepted: refused (QUOTE_CHANGED) if the price moved. */
    quotedAmountMinor: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false, examples: [{ days: 2, quotedAmountMinor: 400 }] },
);
export const ExtendQuoteQuery = Type.Object({ days: ExtendDays }, { additionalProperties: false });
/** An optional Idempotency-Key: a retried extension with the same key is the same extension. */
export const OptionalIdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(IdempotencyHeaders.properties['idempotency-key']),
});
export const NearQuery = Type.Object(
  {
    near: Type.Optional(
      Type.String({ pattern: '^-?[0-9]{1,3}(\\.[0-9]+)?,-?[0-9]{1,3}(\\.[0-9]+)?$' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);
export const LimitQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);
export const OpsOrdersQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    state: Type.Optional(OrderStateSchema),
  },
  { additionalProperties: false },
);
/** Live streams take no query: the session comes from the cookie (or a bearer header), never the URL. */
export const EventsQuery = Type.Object({}, { additionalProperties: false });
export const ContentBody = Type.Object(
  {
    id: Id,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    version: Type.String({ minLength: 1, maxLength: 64 }),
    sizeBytes: Type.Integer({ minimum: 0 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export const DiskTypeBody = Type.Object(
  {
    id: Id,
    capacityBytes: Type.Integer({ minimum: 1 }),
    contentId: Id,
    writeProtect: Type.Union([
      Type.Literal('allowed'),
      Type.Literal('forced'),
      Type.Literal('off'),
    ]),
    pricePerDayMinor: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    defaultDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
    maxDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
    kioskIds: Type.Optional(Type.Array(Id, { maxItems: 10_000 })),
  },
  { additionalProperties: false },
);
const Amount = (minimum: number, description: string) =>
  Type.Integer({ minimum, maximum: 100_000_000, description });
/** New rental settings (all three amounts, in minor units of the hub's currency). */
export const RentalSettingsBody = Type.Object(
  {
    depositMinor: Amount(1, 'the deposit a renter must hold before renting (at least 1)'),
    overdueFeePerDayMinor: Amount(0, 'late fee per started day past the due time'),
    lostDiskChargeMinor: Amount(0, 'charge for a lost disk, taken from the deposit'),
  },
  { additionalProperties: false },
);

export const SiteBody = Type.Object(
  {
    kioskId: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    address: Type.String({ minLength: 1, maxLength: 500 }),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lng: Type.Number({ minimum: -180, maximum: 180 }),
  },
  { additionalProperties: false },
);
export const UserBody = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
    phone: Type.Optional(Type.String({ minLength: 6, maxLength: 20 })),
    password: Type.String({ minLength: 1, maxLength: 200 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Type.Union([
      Type.Literal('renter'),
      Type.Literal('technician'),
      Type.Literal('operator'),
      Type.Literal('admin'),
    ]),
  },
  { additionalProperties: false },
);

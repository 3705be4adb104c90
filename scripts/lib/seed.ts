/**
 * Seeding the hub through its real HTTP API (operator routes with the admin token, the
 * renter routes with the renter's session): content, disk types, users, a deposit,
 * kiosks (create -> one-time token -> enrol -> secret) and their sites.
 */
import type { HubApi, Json } from './api-client.js';
import type { ContentSpec } from './content.js';

/** Sandbox card numbers of the hub's payment provider, to type into the renter page's card form. */
export const SANDBOX_CARDS = {
  approves: '4242424242424242',
  declines: '4000000000000002',
  insufficientFunds: '4000000000009995',
  providerTimeout: '4000000000000119',
} as const;

/**
 * The payment-method ids that stand for those cards (as in Stripe's test mode): what an API
 * client sends instead of a card, which the hub refuses (CARD_DATA_REFUSED; docs/payments.md).
 */
export const SANDBOX_PAYMENT_METHODS = {
  approves: 'pm_card_visa',
  declines: 'pm_card_chargeDeclined',
  insufficientFunds: 'pm_card_chargeDeclinedInsufficientFunds',
  providerTimeout: 'pm_card_sandboxTimeout',
} as const;

export const demoCard = (paymentMethod: string = SANDBOX_PAYMENT_METHODS.approves) => ({
  paymentMethod,
});

export interface DiskTypeSpec {
  id: string;
  capacityBytes: number;
  contentId: string;
  writeProtect: 'allowed' | 'forced' | 'off';
  pricePerDayMinor: number;
  maxDays?: number;
}

/**
 * Lists each package in the catalog (title, version, size, description) and creates the
 * disk types. The files themselves go to the hub's content origin (content.ts), which
 * keeps these entries' descriptions.
 */
export async function seedCatalog(
  api: HubApi,
  adminToken: string,
  content: ContentSpec[],
  diskTypes: DiskTypeSpec[],
): Promise<void> {
  for (const c of content) {
    await api.ok(
      'POST',
      '/api/operator/content',
      {
        id: c.id,
        title: c.title,
        version: c.version,
        sizeBytes: Object.values(c.files).reduce((a, b) => a + b, 0),
        ...(c.description ? { description: c.description } : {}),
      },
      { token: adminToken },
    );
  }
  for (const d of diskTypes) {
    await api.ok('POST', '/api/operator/disk-types', d, { token: adminToken });
  }
}

export interface Account {
  email: string;
  password: string;
  role: string;
  userId: string;
  /** A session token (logged in once here). */
  token: string;
}

/** Creates an account with `role` through the operator API, then logs in. */
export async function createAccount(
  api: HubApi,
  adminToken: string,
  a: {
    email: string;
    password: string;
    role: 'renter' | 'technician' | 'operator' | 'admin';
    name?: string;
  },
): Promise<Account> {
  const created: Json = await api.ok('POST', '/api/operator/users', a, { token: adminToken });
  const login: Json = await api.ok('POST', '/api/auth/login', {
    login: a.email,
    password: a.password,
  });
  return {
    email: a.email,
    password: a.password,
    role: a.role,
    userId: created.user.id,
    token: login.token,
  };
}

/**
 * Pays a deposit with a sandbox card, which the renter asks to save (later extensions are
 * charged to it); returns the deposit held.
 */
export async function payDeposit(
  api: HubApi,
  token: string,
  amountMinor: number,
  card = demoCard(),
): Promise<{ heldMinor: number; currency: string }> {
  const r: Json = await api.ok(
    'POST',
    '/api/me/deposit',
    { amountMinor, card, saveCard: true },
    { token },
  );
  return r.deposit;
}

export interface KioskSite {
  name: string;
  address: string;
  lat: number;
  lng: number;
}

/**
 * Creates kiosk `id` (operator API: one-time enrolment token), enrols it as the kiosk
 * would (`POST /api/kiosks/enrol`), and places it at `site`. Returns the kiosk's secret
 * and the hub public key the enrolment answered.
 */
export async function enrolKiosk(
  api: HubApi,
  adminToken: string,
  id: string,
  site: KioskSite,
): Promise<{ kioskId: string; secret: string; hubPublicKey: string }> {
  const created: Json = await api.ok('POST', '/api/operator/kiosks', { id }, { token: adminToken });
  const enrolled: Json = await api.ok('POST', '/api/kiosks/enrol', {
    kioskId: id,
    token: created.enrolmentToken,
  });
  await api.ok(
    'POST',
    '/api/operator/kiosk-sites',
    { kioskId: id, ...site },
    { token: adminToken },
  );
  return { kioskId: id, secret: enrolled.secret, hubPublicKey: enrolled.hubPublicKey };
}

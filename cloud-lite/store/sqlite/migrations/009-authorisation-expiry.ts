import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Authorisation lifetimes (docs/payments.md): when the provider lets an uncaptured
 * authorisation lapse (Stripe: the charge's `capture_before`, about 7 days for online card
 * payments). Reconciliation lists the holds that would outlive it; null when the provider does
 * not say (the sandbox) or for refunds.
 */
export const migration009AuthorisationExpiry: Migration = {
  version: 9,
  name: 'authorisation-expiry',
  sql: `
ALTER TABLE payments ADD COLUMN authorised_until TEXT;
CREATE INDEX payments_authorised_until ON payments(state, authorised_until);
`,
};

import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Refund reasons (docs/payments.md, "Refunds by operators"): the reason an operator gave for a
 * refund, kept on the refund's payment row so the renter's receipt line and receipt e-mail
 * show it (it was in the audit log only). Null for refunds without one (a deposit withdrawal)
 * and for every other payment.
 */
export const migration017RefundReason: Migration = {
  version: 17,
  name: 'refund-reason',
  sql: `
ALTER TABLE payments ADD COLUMN reason TEXT;
`,
};

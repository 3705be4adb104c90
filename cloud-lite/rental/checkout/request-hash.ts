import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../protocol/index.js';

/** Hash of the parts of a request that must match for an idempotent replay (never the card number). */
export function requestHash(body: {
  kioskId: string;
  diskTypeId: string;
  writeProtect: boolean;
  days: number;
  card:
    | { number: string; expMonth: number; expYear: number }
    | { useSaved: true }
    | { paymentMethod: string };
}): string {
  const card =
    'useSaved' in body.card
      ? 'saved'
      : 'paymentMethod' in body.card
        ? `pm:${body.card.paymentMethod}`
        : `${body.card.number.slice(-4)}/${body.card.expMonth}/${body.card.expYear}`;
  return createHash('sha256')
    .update(
      canonicalJson({
        k: body.kioskId,
        t: body.diskTypeId,
        w: body.writeProtect,
        d: body.days,
        c: card,
      }),
    )
    .digest('hex');
}

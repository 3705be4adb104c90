import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../protocol/index.js';

/** Hash of the parts of a request that must match for an idempotent replay . */
export function requestHash(body: {
  kioskId: string;
  diskTypeId: string;
  writeProtect: boolean;
  days: number;
  card: { useSaved: true } | { paymentMethod: string };
}): string {
  const card = 'useSaved' in body.card ? 'saved' : `pm:${body.card.paymentMethod}`;
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

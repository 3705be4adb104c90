import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import { isOptionalKind, type OptionalKind } from './renter-mail-text.js';

/**
 * Signed unsubscribe links: `<origin>/unsubscribe?u=<user id>&k=<kind>&s=<signature>`, where
 * the signature is HMAC-SHA256 over `<user id>\n<kind>` with a key derived from the hub's
 * signing key (so it needs no configuration, and every hub process of a cluster, sharing that
 * key, checks it). A link opts its renter out of that kind of mail only; it does not expire.
 */
export class UnsubscribeLinks {
  private readonly key: Buffer;

  constructor(
    hubKey: KeyObject,
    private readonly origin: () => string,
  ) {
    this.key = createHmac('sha256', hubKey.export({ format: 'der', type: 'pkcs8' }))
      .update('disk-kiosk unsubscribe v1')
      .digest();
  }

  private sign(userId: string, kind: string): string {
    return createHmac('sha256', this.key).update(`${userId}\n${kind}`).digest('base64url');
  }

  /** The link for `userId` to stop mail of `kind`. */
  url(userId: string, kind: OptionalKind): string {
    const q = new URLSearchParams({ u: userId, k: kind, s: this.sign(userId, kind) });
    return `${this.origin()}/unsubscribe?${q}`;
  }

  /** The user id and kind of a link's parameters when its signature holds, else undefined. */
  verify(q: {
    u?: unknown;
    k?: unknown;
    s?: unknown;
  }): { userId: string; kind: OptionalKind } | undefined {
    const { u, k, s } = q;
    if (typeof u !== 'string' || typeof k !== 'string' || typeof s !== 'string') return undefined;
    if (u.length === 0 || u.length > 100 || !isOptionalKind(k)) return undefined;
    const want = Buffer.from(this.sign(u, k));
    const got = Buffer.from(s);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    return { userId: u, kind: k };
  }
}

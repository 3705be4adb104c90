/** A random UUID v4; works in insecure contexts too (crypto.randomUUID needs HTTPS there). */
export function randomUuid(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Idempotency keys for one payment form: retrying the same body (a lost answer, a double
 * tap) reuses the key, so the server answers with the same order instead of charging twice;
 * a changed body (another card after a decline) gets a fresh key.
 */
export class IdempotencyKeys {
  private lastBody: string | undefined;
  private key: string | undefined;

  constructor(private readonly newKey: () => string = randomUuid) {}

  keyFor(body: unknown): string {
    const text = JSON.stringify(body);
    if (this.key === undefined || text !== this.lastBody) {
      this.key = this.newKey();
      this.lastBody = text;
    }
    return this.key;
  }

  /** Forget the key (after a definite refusal the next try should be a new request). */
  reset(): void {
    this.key = undefined;
    this.lastBody = undefined;
  }
}

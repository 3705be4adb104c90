import type { KioskDb } from '../db/open-db.js';
import type { TimeSource } from './clock.js';

export interface NonceStoreDeps {
  db: KioskDb;
  clock: TimeSource;
}

/**
 * Nonces of signed commands seen, kept until the command's expiry, to refuse replays
 * (protocol's verifyCommand checks signature and expiry; replay tracking needs storage).
 */
export class NonceStore {
  constructor(private readonly deps: NonceStoreDeps) {}

  /**
   * Records `nonce` valid until `expiresAt` (ISO). Returns false if it was already seen
   * (a replay: refuse the command). Purges expired nonces first. Synchronous.
   */
  remember(nonce: string, expiresAt: string): boolean {
    const { db } = this.deps;
    return db.transaction(() => {
      this.purge();
      return (
        db
          .prepare('INSERT OR IGNORE INTO nonces (nonce, expires_at) VALUES (?, ?)')
          .run(nonce, expiresAt).changes === 1
      );
    })();
  }

  /** Deletes nonces whose command has expired; returns how many. */
  purge(): number {
    return this.deps.db
      .prepare('DELETE FROM nonces WHERE expires_at < ?')
      .run(this.deps.clock.now().toISOString()).changes;
  }
}

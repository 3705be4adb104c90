import { EventEmitter } from 'node:events';
import { ConflictError, EnrolmentError, NotFoundError } from '../errors.js';
import type { KioskRecord, Store } from '../store/types.js';
import { hashSecret, randomSecret, sameHash } from './secrets.js';

export interface KioskRegistryDeps {
  store: Store;
  enrolmentTokenTtlSeconds: number;
  now?: () => Date;
}

export interface IssuedToken {
  enrolmentToken: string;
  expiresAt: string;
}

const KIOSK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Kiosk identities: creation with a one-time enrolment token, enrolment (token -> secret),
 * secret rotation, revocation, and authentication of a kiosk's id + secret.
 * Emits `'revoked'` (kioskId) so the hub can disconnect the kiosk at once, and
 * `'secretReplaced'` (kioskId) after an enrolment replaced its secret, so the hub closes the
 * connections opened with the old one.
 */
export class KioskRegistry extends EventEmitter<{ revoked: [string]; secretReplaced: [string] }> {
  constructor(private readonly deps: KioskRegistryDeps) {
    super();
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  static isValidId(id: string): boolean {
    return KIOSK_ID.test(id);
  }

  /** Creates a kiosk and its first enrolment token. ConflictError KIOSK_EXISTS when the id is taken. */
  async create(opts: { id: string; name?: string }): Promise<{ kiosk: KioskRecord } & IssuedToken> {
    if (!KioskRegistry.isValidId(opts.id)) {
      throw new ConflictError(
        'INVALID_ID',
        `kiosk id "${opts.id}" is invalid: use 1-64 of A-Z a-z 0-9 . _ -`,
      );
    }
    return this.deps.store.transaction(async (tx) => {
      if (await tx.kiosks.get(opts.id)) {
        throw new ConflictError(
          'KIOSK_EXISTS',
          `kiosk ${opts.id} already exists; choose another id`,
        );
      }
      const at = this.now().toISOString();
      await tx.kiosks.insert({ id: opts.id, name: opts.name ?? opts.id, createdAt: at });
      const token = await this.issueToken(tx, opts.id);
      const kiosk = (await tx.kiosks.get(opts.id))!;
      return { kiosk, ...token };
    });
  }

  private async issueToken(
    tx: Parameters<Parameters<Store['transaction']>[0]>[0],
    kioskId: string,
  ): Promise<IssuedToken> {
    const now = this.now();
    await tx.enrolmentTokens.invalidateForKiosk(kioskId, now.toISOString());
    const enrolmentToken = randomSecret();
    const expiresAt = new Date(
      now.getTime() + this.deps.enrolmentTokenTtlSeconds * 1000,
    ).toISOString();
    await tx.enrolmentTokens.insert({
      tokenHash: hashSecret(enrolmentToken),
      kioskId,
      createdAt: now.toISOString(),
      expiresAt,
    });
    return { enrolmentToken, expiresAt };
  }

  /**
   * Exchanges a one-time enrolment token for a new secret (the token is consumed; the
   * previous secret stops working at once, and `'secretReplaced'` is emitted before this
   * resolves, so connections opened with it are closed before the new secret is handed out).
   * EnrolmentError for an unknown, used, expired or foreign token, or a revoked kiosk; the
   * caller learns nothing more.
   */
  async enrol(kioskId: string, token: string): Promise<{ kioskId: string; secret: string }> {
    const enrolled = await this.deps.store.transaction(async (tx) => {
      const hash = hashSecret(token);
      const rec = await tx.enrolmentTokens.get(hash);
      const now = this.now();
      if (
        !rec ||
        rec.usedAt !== null ||
        rec.kioskId !== kioskId ||
        Date.parse(rec.expiresAt) <= now.getTime()
      ) {
        throw new EnrolmentError();
      }
      const kiosk = await tx.kiosks.get(kioskId);
      if (!kiosk || kiosk.revokedAt !== null) throw new EnrolmentError();
      await tx.enrolmentTokens.markUsed(hash, now.toISOString());
      const secret = randomSecret();
      await tx.kiosks.setSecretHash(kioskId, hashSecret(secret));
      return { kioskId, secret };
    });
    this.emit('secretReplaced', kioskId);
    return enrolled;
  }

  /** Issues a new enrolment token; the current secret stays valid until the token is used. */
  async rotateSecret(kioskId: string): Promise<IssuedToken> {
    return this.deps.store.transaction(async (tx) => {
      const kiosk = await tx.kiosks.get(kioskId);
      if (!kiosk) throw new NotFoundError(`kiosk ${kioskId} does not exist`);
      if (kiosk.revokedAt)
        throw new ConflictError('KIOSK_REVOKED', `kiosk ${kioskId} is revoked; create a new kiosk`);
      return this.issueToken(tx, kioskId);
    });
  }

  /** Invalidates the secret and every unused token, and emits 'revoked' (the hub disconnects it). */
  async revoke(kioskId: string): Promise<KioskRecord> {
    const kiosk = await this.deps.store.transaction(async (tx) => {
      const k = await tx.kiosks.get(kioskId);
      if (!k) throw new NotFoundError(`kiosk ${kioskId} does not exist`);
      const at = this.now().toISOString();
      if (!k.revokedAt) {
        await tx.kiosks.revoke(kioskId, at);
        await tx.enrolmentTokens.invalidateForKiosk(kioskId, at);
      }
      return (await tx.kiosks.get(kioskId))!;
    });
    this.emit('revoked', kioskId);
    return kiosk;
  }

  /** True when the kiosk exists, is not revoked and `secret` matches (constant time). */
  async authenticate(kioskId: string, secret: string): Promise<boolean> {
    const kiosk = await this.deps.store.read((r) => r.kiosks.get(kioskId));
    const given = hashSecret(secret);
    if (!kiosk || kiosk.revokedAt || !kiosk.secretHash) {
      sameHash(given, given); // same work either way
      return false;
    }
    return sameHash(given, kiosk.secretHash);
  }
}

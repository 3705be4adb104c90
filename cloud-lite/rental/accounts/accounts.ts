import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/types.js';
import { type Actor, audit } from '../audit/audit.js';
import { dummyHash, hashPassword, verifyPassword } from '../auth/passwords.js';
import { hashToken, newSessionToken } from '../auth/tokens.js';
import type { RentalConfig } from '../config.js';
import { RentalError } from '../errors.js';
import type { Role, UserRecord } from '../store/types.js';

export interface AccountsDeps {
  store: Store;
  config: RentalConfig;
  now: () => Date;
}

/** What an authenticated request carries. */
export interface Identity {
  userId: string;
  role: Role;
}

export function userView(u: UserRecord) {
  return { id: u.id, email: u.email, phone: u.phone, name: u.name, role: u.role };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9]{6,15}$/;

/**
 * Accounts and sessions: registration, login with throttling per account and per address,
 * logout, bearer-token authentication, and staff account creation (CLI / bootstrap).
 */
export class Accounts {
  private dummy: Promise<string> | undefined;

  constructor(private readonly deps: AccountsDeps) {}

  private now(): Date {
    return this.deps.now();
  }

  /** Creates an account; EMAIL_TAKEN (409), WEAK_PASSWORD (400), VALIDATION (400). */
  async createUser(
    input: { email?: string; phone?: string; password: string; name?: string; role: Role },
    who: Actor,
  ): Promise<UserRecord> {
    const email = input.email?.trim().toLowerCase() || null;
    const phone = input.phone?.replace(/[\s-]/g, '') || null;
    if (!email && !phone)
      throw new RentalError('VALIDATION', 'give an email address or a phone number', 400);
    if (email && !EMAIL.test(email))
      throw new RentalError('VALIDATION', 'the email address is not valid', 400);
    if (phone && !PHONE.test(phone))
      throw new RentalError('VALIDATION', 'the phone number is not valid', 400);
    if (input.password.length < 10)
      throw new RentalError('WEAK_PASSWORD', 'the password needs at least 10 characters', 400);
    const passwordHash = await hashPassword(input.password, this.deps.config.scryptLog2N);
    const at = this.now().toISOString();
    return this.deps.store.transaction(async (tx) => {
      for (const login of [email, phone]) {
        if (login && (await tx.rental.users.findByLogin(login)))
          throw new RentalError(
            'EMAIL_TAKEN',
            'an account with this email or phone already exists; log in instead',
            409,
          );
      }
      const user: UserRecord = {
        id: `usr-${randomUUID()}`,
        email,
        phone,
        name: input.name ?? null,
        role: input.role,
        passwordHash,
        cardToken: null,
        cardLast4: null,
        createdAt: at,
      };
      await tx.rental.users.insert(user);
      await audit(tx, who, at, 'user.created', user.id, { role: user.role });
      return user;
    });
  }

  /** Registers a renter and logs them in. */
  async register(
    input: { email?: string; phone?: string; password: string; name?: string },
    ip: string,
  ): Promise<{ token: string; user: UserRecord }> {
    const user = await this.createUser({ ...input, role: 'renter' }, { actor: 'anonymous', ip });
    const token = await this.openSession(user, ip);
    return { token, user };
  }

  /**
   * Logs in by email or phone. INVALID_CREDENTIALS (401) for a wrong password or unknown login
   * (same answer, same cost); TOO_MANY_ATTEMPTS (429, retryAfterSeconds) when the account or
   * the address failed too often within the window.
   */
  async login(
    loginRaw: string,
    password: string,
    ip: string,
  ): Promise<{ token: string; user: UserRecord }> {
    const cfg = this.deps.config;
    const login = loginRaw.includes('@')
      ? loginRaw.trim().toLowerCase()
      : loginRaw.replace(/[\s-]/g, '');
    const acctKey = `acct:${login}`;
    const ipKey = `ip:${ip}`;
    const now = this.now();
    const since = new Date(now.getTime() - cfg.loginWindowSeconds * 1000).toISOString();
    const { user, acct, byIp } = await this.deps.store.transaction(async (tx) => ({
      user: await tx.rental.users.findByLogin(login),
      acct: await tx.rental.loginFailures.since(acctKey, since),
      byIp: await tx.rental.loginFailures.since(ipKey, since),
    }));
    const blocked = (list: string[], max: number) =>
      list.length >= max
        ? Math.ceil(
            (Date.parse(list[list.length - max]!) + cfg.loginWindowSeconds * 1000 - now.getTime()) /
              1000,
          )
        : 0;
    const retry = Math.max(
      blocked(acct, cfg.loginMaxFailuresPerAccount),
      blocked(byIp, cfg.loginMaxFailuresPerIp),
    );
    if (retry > 0) {
      throw new RentalError(
        'TOO_MANY_ATTEMPTS',
        `too many failed logins; try again in ${retry} s`,
        429,
        {
          retryAfterSeconds: retry,
        },
      );
    }
    this.dummy ??= dummyHash(cfg.scryptLog2N);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await this.dummy));
    if (!user || !ok) {
      await this.deps.store.transaction(async (tx) => {
        const at = this.now().toISOString();
        await tx.rental.loginFailures.add(acctKey, at);
        await tx.rental.loginFailures.add(ipKey, at);
        await audit(tx, { actor: 'anonymous', ip }, at, 'login.failed', user?.id ?? null, {
          login,
        });
      });
      throw new RentalError('INVALID_CREDENTIALS', 'wrong login or password', 401);
    }
    await this.deps.store.transaction((tx) => tx.rental.loginFailures.clear(acctKey));
    const token = await this.openSession(user, ip);
    return { token, user };
  }

  private async openSession(user: UserRecord, ip: string): Promise<string> {
    const token = newSessionToken();
    const now = this.now();
    await this.deps.store.transaction(async (tx) => {
      await tx.rental.sessions.insert({
        tokenHash: hashToken(token),
        userId: user.id,
        createdAt: now.toISOString(),
        expiresAt: new Date(
          now.getTime() + this.deps.config.sessionTtlSeconds * 1000,
        ).toISOString(),
        ip,
        revokedAt: null,
      });
      await audit(
        tx,
        { actor: `user:${user.id}`, ip },
        now.toISOString(),
        'session.opened',
        user.id,
      );
    });
    return token;
  }

  /** Resolves a session token to its identity; undefined when unknown, revoked or expired. */
  async authenticate(token: string): Promise<Identity | undefined> {
    if (token.length < 20 || token.length > 200) return undefined;
    return this.deps.store.transaction(async (tx) => {
      const s = await tx.rental.sessions.get(hashToken(token));
      if (!s || s.revokedAt || s.expiresAt <= this.now().toISOString()) return undefined;
      const u = await tx.rental.users.get(s.userId);
      return u && { userId: u.id, role: u.role };
    });
  }

  /** Revokes a session token (no-op for an unknown one). */
  async logout(token: string, who: Actor): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      const at = this.now().toISOString();
      await tx.rental.sessions.revoke(hashToken(token), at);
      await audit(tx, who, at, 'session.closed', null);
    });
  }

  getUser(id: string): Promise<UserRecord | undefined> {
    return this.deps.store.transaction((tx) => tx.rental.users.get(id));
  }

  /** Creates the configured bootstrap admin when no account has its email yet. */
  async ensureBootstrapAdmin(): Promise<void> {
    const b = this.deps.config.bootstrapAdmin;
    if (!b) return;
    const exists = await this.deps.store.transaction((tx) =>
      tx.rental.users.findByLogin(b.email.toLowerCase()),
    );
    if (!exists)
      await this.createUser(
        { email: b.email, password: b.password, role: 'admin' },
        { actor: 'system:bootstrap' },
      );
  }
}

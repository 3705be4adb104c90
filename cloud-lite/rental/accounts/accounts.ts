import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Actor, audit } from '../../audit.js';
import { Throttle } from '../../store/throttle.js';
import type { Role, Store, Tx, UserRecord } from '../../store/types.js';
import { HashQueue } from '../auth/hash-queue.js';
import { checkNewPassword } from '../auth/password-policy.js';
import { dummyHash, hashPassword, verifyPassword } from '../auth/passwords.js';
import { hashToken, newSessionToken } from '../auth/tokens.js';
import type { RentalConfig } from '../config.js';
import { RentalError } from '../errors.js';
import type { AccountMailer, Recipient } from './account-mail.js';

export interface AccountsDeps {
  store: Store;
  config: RentalConfig;
  now: () => Date;
  /** Delivers registration links and "you already have an account" notes to the owner. */
  mailer: AccountMailer;
  /** The hub's public URL (`https://rent.example`): base of the links in account messages. */
  publicUrl?: string | (() => string | undefined);
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

/** The login as stored: e-mail lower-cased, phone without spaces and dashes. */
function normaliseLogin(login: string): string {
  return login.includes('@') ? login.trim().toLowerCase() : login.replace(/[\s-]/g, '');
}

/** The e-mail and phone of a new account, validated; VALIDATION (400) when neither or a bad one. */
function newLogins(input: { email?: string; phone?: string }): Recipient {
  const email = input.email?.trim().toLowerCase() || null;
  const phone = input.phone?.replace(/[\s-]/g, '') || null;
  if (!email && !phone)
    throw new RentalError('VALIDATION', 'give an email address or a phone number', 400);
  if (email && !EMAIL.test(email))
    throw new RentalError('VALIDATION', 'the email address is not valid', 400);
  if (phone && !PHONE.test(phone))
    throw new RentalError('VALIDATION', 'the phone number is not valid', 400);
  return { email, phone };
}

/** What a new password must not be: the logins and the e-mail's local part. */
function ownWords({ email, phone }: Recipient): string[] {
  return [email, email?.split('@')[0], phone].filter((w): w is string => !!w);
}

const tooMany = (retry: number, what: string) =>
  new RentalError('TOO_MANY_ATTEMPTS', `too many ${what}; try again in ${retry} s`, 429, {
    retryAfterSeconds: retry,
  });

/**
 * Accounts and sessions: registration confirmed by a link to the owner, login with throttles
 * per (account, address), per account and per address counted before the password check,
 * logout, bearer-token authentication, and staff account creation (CLI / bootstrap).
 * Password hashing goes through a bounded queue (`hashes`).
 */
export class Accounts {
  private dummy: Promise<string> | undefined;
  readonly hashes: HashQueue;
  private readonly throttle: Throttle;
  /** `ended` with a user id: a session of that user was revoked (after the commit). */
  private readonly ended = new EventEmitter<{ ended: [string] }>().setMaxListeners(0);

  constructor(private readonly deps: AccountsDeps) {
    const c = deps.config;
    this.hashes = new HashQueue({
      maxConcurrent: c.maxConcurrentHashes,
      maxQueued: c.maxQueuedHashes,
    });
    this.throttle = new Throttle();
  }

  private now(): Date {
    return this.deps.now();
  }

  private hash(password: string): Promise<string> {
    return this.hashes.run(() => hashPassword(password, this.deps.config.scryptLog2N));
  }

  /** Creates a staff-made account at once; EMAIL_TAKEN (409), WEAK_PASSWORD (400), VALIDATION (400). */
  async createUser(
    input: { email?: string; phone?: string; password: string; name?: string; role: Role },
    who: Actor,
  ): Promise<UserRecord> {
    const logins = newLogins(input);
    const password = checkNewPassword(input.password, ownWords(logins));
    const passwordHash = await this.hash(password);
    const at = this.now().toISOString();
    return this.deps.store.transaction(async (tx) => {
      if (await this.loginTaken(tx, logins))
        throw new RentalError(
          'EMAIL_TAKEN',
          'an account with this email or phone already exists; log in instead',
          409,
        );
      return this.insertUser(
        tx,
        { ...logins, name: input.name ?? null, passwordHash },
        input.role,
        who,
        at,
      );
    });
  }

  private async loginTaken(tx: Tx, logins: Recipient): Promise<boolean> {
    return (await this.loginOwner(tx, logins)) !== undefined;
  }

  /** The account that already has this e-mail or phone, if any. */
  private async loginOwner(tx: Tx, { email, phone }: Recipient): Promise<UserRecord | undefined> {
    for (const login of [email, phone]) {
      const u = login ? await tx.users.findByLogin(login) : undefined;
      if (u) return u;
    }
    return undefined;
  }

  private async insertUser(
    tx: Tx,
    u: Recipient & { name: string | null; passwordHash: string; language?: string | null },
    role: Role,
    who: Actor,
    at: string,
  ): Promise<UserRecord> {
    const user: UserRecord = {
      id: `usr-${randomUUID()}`,
      email: u.email,
      phone: u.phone,
      name: u.name,
      role,
      passwordHash: u.passwordHash,
      cardToken: null,
      cardLast4: null,
      createdAt: at,
      ...(u.language ? { language: u.language } : {}),
    };
    await tx.users.insert(user);
    await audit(tx, who, at, 'user.created', user.id, { role: user.role });
    return user;
  }

  private link(path: string): string {
    const base = this.deps.publicUrl;
    return `${((typeof base === 'function' ? base() : base) ?? '').replace(/\/+$/, '')}${path}`;
  }

  /**
   * A renter registers: the same answer whether the e-mail or phone is new or taken (no
   * enumeration) and the same cost (the password is hashed either way). A new login gets a
   * link that creates the account (`confirmRegistration`); a taken one gets a note to its
   * owner. Refusals that do not depend on existing accounts: VALIDATION, WEAK_PASSWORD (400),
   * TOO_MANY_ATTEMPTS (429) after `registerMaxPerAddress` registrations from one address.
   */
  async register(
    input: { email?: string; phone?: string; password: string; name?: string; language?: string },
    ip: string,
  ): Promise<void> {
    const language = input.language === 'zh-CN' ? 'zh-CN' : 'en';
    const cfg = this.deps.config;
    const retry = await this.deps.store.transaction((tx) =>
      this.throttle.take(
        tx,
        [
          {
            key: `register:${ip}`,
            max: cfg.registerMaxPerAddress,
            windowSeconds: cfg.registerWindowSeconds,
          },
        ],
        this.now(),
      ),
    );
    if (retry > 0) throw tooMany(retry, 'registrations from your address');
    const logins = newLogins(input);
    const password = checkNewPassword(input.password, ownWords(logins));
    const passwordHash = await this.hash(password);
    const token = newSessionToken();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + cfg.registrationTtlSeconds * 1000).toISOString();
    const taken = await this.deps.store.transaction(async (tx) => {
      await tx.pendingRegistrations.removeExpired(now.toISOString());
      const owner = await this.loginOwner(tx, logins);
      const taken = owner !== undefined;
      if (!taken)
        await tx.pendingRegistrations.insert({
          tokenHash: hashToken(token),
          ...logins,
          name: input.name ?? null,
          passwordHash,
          createdAt: now.toISOString(),
          expiresAt,
          ip,
          language,
        });
      await audit(
        tx,
        { actor: 'anonymous', ip },
        now.toISOString(),
        'registration.requested',
        null,
        {
          login: logins.email ?? logins.phone,
          taken,
        },
      );
      return owner && { language: owner.language ?? language };
    });
    await this.deps.mailer.send(
      taken
        ? {
            kind: 'already-registered',
            to: logins,
            loginLink: this.link('/login'),
            language: taken.language,
          }
        : {
            kind: 'confirm-registration',
            to: logins,
            link: this.link(`/register/confirm#${token}`),
            expiresAt,
            language,
          },
    );
  }

  /**
   * Finishes a registration with the token of its link: creates the renter and logs them in.
   * REGISTRATION_INVALID (400) for an unknown, used or expired link, or a login taken since.
   */
  async confirmRegistration(
    token: string,
    ip: string,
  ): Promise<{ token: string; user: UserRecord }> {
    const now = this.now();
    const at = now.toISOString();
    const invalid = () =>
      new RentalError(
        'REGISTRATION_INVALID',
        'this link is unknown, used or expired; register again or log in',
        400,
      );
    return this.deps.store.transaction(async (tx) => {
      const p = await tx.pendingRegistrations.get(hashToken(token));
      if (!p || p.expiresAt <= at) throw invalid();
      await tx.pendingRegistrations.remove(p.tokenHash);
      if (await this.loginTaken(tx, p)) throw invalid();
      const user = await this.insertUser(tx, p, 'renter', { actor: 'anonymous', ip }, at);
      return { token: await this.insertSession(tx, user, ip, now), user };
    });
  }

  /**
   * Logs in by email or phone. The attempt is counted (in one transaction with the check of
   * the limits) before the password is checked, so parallel guesses cannot outrun the count;
   * a good password takes its count back. INVALID_CREDENTIALS (401) for a wrong password or an
   * unknown login (same answer, same cost); TOO_MANY_ATTEMPTS (429, retryAfterSeconds) when
   * this address tried this account `loginMaxFailuresPerAccountAddress` times, anyone tried it
   * `loginMaxFailuresPerAccount` times, or this address tried `loginMaxFailuresPerIp` times
   * within the window.
   */
  async login(
    loginRaw: string,
    password: string,
    ip: string,
  ): Promise<{ token: string; user: UserRecord }> {
    const cfg = this.deps.config;
    const login = normaliseLogin(loginRaw);
    const windowSeconds = cfg.loginWindowSeconds;
    const mine = {
      key: `acct-ip:${login}|${ip}`,
      max: cfg.loginMaxFailuresPerAccountAddress,
      windowSeconds,
    };
    const limits = [
      mine,
      { key: `acct:${login}`, max: cfg.loginMaxFailuresPerAccount, windowSeconds },
      { key: `ip:${ip}`, max: cfg.loginMaxFailuresPerIp, windowSeconds },
    ];
    const at = this.now();
    const { user, retry } = await this.deps.store.transaction(async (tx) => ({
      retry: await this.throttle.take(tx, limits, at),
      user: await tx.users.findByLogin(login),
    }));
    if (retry > 0) throw tooMany(retry, 'failed logins');
    this.dummy ??= dummyHash(cfg.scryptLog2N);
    let ok: boolean;
    try {
      const stored = user?.passwordHash ?? (await this.dummy);
      ok = await this.hashes.run(() => verifyPassword(password, stored));
    } catch (err) {
      await this.deps.store.transaction((tx) => this.throttle.release(tx, limits, at));
      throw err;
    }
    if (!user || !ok) {
      await this.deps.store.transaction((tx) =>
        audit(
          tx,
          { actor: 'anonymous', ip },
          this.now().toISOString(),
          'login.failed',
          user?.id ?? null,
          {
            login,
          },
        ),
      );
      throw new RentalError('INVALID_CREDENTIALS', 'wrong login or password', 401);
    }
    const token = await this.deps.store.transaction(async (tx) => {
      await this.throttle.release(tx, limits, at);
      await tx.loginFailures.clear(mine.key);
      return this.insertSession(tx, user, ip, this.now());
    });
    return { token, user };
  }

  private async insertSession(tx: Tx, user: UserRecord, ip: string, now: Date): Promise<string> {
    const token = newSessionToken();
    await tx.sessions.insert({
      tokenHash: hashToken(token),
      userId: user.id,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.deps.config.sessionTtlSeconds * 1000).toISOString(),
      ip,
      revokedAt: null,
    });
    await audit(tx, { actor: `user:${user.id}`, ip }, now.toISOString(), 'session.opened', user.id);
    return token;
  }

  /** Resolves a session token to its identity; undefined when unknown, revoked or expired. */
  async authenticate(token: string): Promise<Identity | undefined> {
    if (token.length < 20 || token.length > 200) return undefined;
    return this.deps.store.transaction(async (tx) => {
      const s = await tx.sessions.get(hashToken(token));
      if (!s || s.revokedAt || s.expiresAt <= this.now().toISOString()) return undefined;
      const u = await tx.users.get(s.userId);
      return u && { userId: u.id, role: u.role };
    });
  }

  /** Revokes a session token (no-op for an unknown one). */
  async logout(token: string, who: Actor): Promise<void> {
    const userId = await this.deps.store.transaction(async (tx) => {
      const at = this.now().toISOString();
      const tokenHash = hashToken(token);
      const s = await tx.sessions.get(tokenHash);
      await tx.sessions.revoke(tokenHash, at);
      await audit(tx, who, at, 'session.closed', null);
      return s?.userId;
    });
    if (userId) this.ended.emit('ended', userId);
  }

  /**
   * Calls `listener` with the user id whenever sessions of a user end in this process (logout,
   * password reset), after the commit; returns the unsubscribe. Live streams check their
   * session again then (http/sse.ts); expiry, and revocations by other hub processes, they
   * find at their next message or keep-alive.
   */
  onSessionsEnded(listener: (userId: string) => void): () => void {
    this.ended.on('ended', listener);
    return () => this.ended.off('ended', listener);
  }

  /**
   * "Forgot password": the same answer whatever the login (no enumeration), and the same time
   * (the mail goes after the answer). A login with an account and an e-mail address gets a
   * single-use link (`<publicUrl>/reset-password#t=<token>`, valid `passwordResetTtlSeconds`;
   * the store keeps the token's SHA-256 only). The token is in the fragment, which browsers
   * never send: it stays out of access logs, proxies and Referer headers. TOO_MANY_ATTEMPTS (429) after
   * `passwordResetMaxPerAddress` requests from one address or `passwordResetMaxPerLogin` for
   * one login within an hour, counted whether the login exists or not.
   */
  async requestPasswordReset(loginRaw: string, ip: string): Promise<void> {
    const cfg = this.deps.config;
    const login = normaliseLogin(loginRaw);
    if (login.length === 0 || login.length > 254)
      throw new RentalError('VALIDATION', 'give the e-mail address or phone of the account', 400);
    const now = this.now();
    const token = newSessionToken();
    const expiresAt = new Date(now.getTime() + cfg.passwordResetTtlSeconds * 1000).toISOString();
    const sent = await this.deps.store.transaction(async (tx) => {
      const retry = await this.throttle.take(
        tx,
        [
          { key: `reset-ip:${ip}`, max: cfg.passwordResetMaxPerAddress, windowSeconds: 3600 },
          { key: `reset:${login}`, max: cfg.passwordResetMaxPerLogin, windowSeconds: 3600 },
        ],
        now,
      );
      if (retry > 0) return { retry, user: undefined };
      const user = await tx.users.findByLogin(login);
      await audit(
        tx,
        { actor: 'anonymous', ip },
        now.toISOString(),
        'password.reset_requested',
        user?.id ?? null,
        { login },
      );
      if (!user) return undefined;
      await tx.passwordResets.insert({
        tokenHash: hashToken(token).toString('hex'),
        userId: user.id,
        createdAt: now.toISOString(),
        expiresAt,
        usedAt: null,
      });
      return { retry: 0, user };
    });
    if (sent && sent.retry > 0) throw tooMany(sent.retry, 'password-reset requests');
    if (!sent?.user) return;
    const { user } = sent;
    void this.deps.mailer
      .send({
        kind: 'password-reset',
        to: { email: user.email, phone: user.phone },
        link: this.link(`/reset-password#t=${token}`),
        expiresAt,
        language: user.language ?? null,
      })
      .catch(() => undefined);
  }

  /**
   * Sets a new password with a reset link's token: once, before it expires. Every session of
   * the account ends and every other reset link stops working. RESET_INVALID (400) for an
   * unknown, used or expired token; WEAK_PASSWORD (400); BUSY (503).
   */
  async resetPassword(token: string, newPassword: string, ip: string): Promise<void> {
    const invalid = () =>
      new RentalError(
        'RESET_INVALID',
        'this password-reset link is unknown, used or expired; ask for a new one',
        400,
      );
    const tokenHash = hashToken(token).toString('hex');
    const at = () => this.now().toISOString();
    const found = await this.deps.store.transaction(async (tx) => {
      const r = await tx.passwordResets.get(tokenHash);
      if (!r || r.usedAt || r.expiresAt <= at()) return undefined;
      return tx.users.get(r.userId);
    });
    if (!found) throw invalid();
    const password = checkNewPassword(newPassword, ownWords(found));
    const passwordHash = await this.hash(password);
    const userId = await this.deps.store.transaction(async (tx) => {
      const r = await tx.passwordResets.get(tokenHash);
      if (!r || r.expiresAt <= at() || !(await tx.passwordResets.use(tokenHash, at())))
        throw invalid();
      await tx.users.update(r.userId, { passwordHash });
      await tx.passwordResets.useAllOf(r.userId, at());
      await tx.sessions.revokeAllOf(r.userId, at());
      await audit(tx, { actor: 'anonymous', ip }, at(), 'password.reset', r.userId);
      return r.userId;
    });
    this.ended.emit('ended', userId);
  }

  getUser(id: string): Promise<UserRecord | undefined> {
    return this.deps.store.transaction((tx) => tx.users.get(id));
  }

  /** Creates the configured bootstrap admin when no account has its email yet. */
  async ensureBootstrapAdmin(): Promise<void> {
    const b = this.deps.config.bootstrapAdmin;
    if (!b) return;
    const exists = await this.deps.store.transaction((tx) =>
      tx.users.findByLogin(b.email.toLowerCase()),
    );
    if (!exists)
      await this.createUser(
        { email: b.email, password: b.password, role: 'admin' },
        { actor: 'system:bootstrap' },
      );
  }
}

/** A registration waiting for the link sent to its e-mail or phone (token stored hashed). */
export interface PendingRegistrationRecord {
  tokenHash: Buffer;
  email: string | null;
  phone: string | null;
  name: string | null;
  passwordHash: string;
  createdAt: string;
  expiresAt: string;
  ip: string | null;
  /** The language chosen at registration (`en`, `zh-CN`); the account keeps it. */
  language?: string | null;
}

export interface PendingRegistrationRepo {
  insert(r: PendingRegistrationRecord): Promise<void>;
  get(tokenHash: Buffer): Promise<PendingRegistrationRecord | undefined>;
  remove(tokenHash: Buffer): Promise<void>;
  /** Removes registrations that expired before `at`. */
  removeExpired(at: string): Promise<void>;
}

export interface SessionRecord {
  tokenHash: Buffer;
  userId: string;
  createdAt: string;
  expiresAt: string;
  ip: string | null;
  revokedAt: string | null;
}

/** Login sessions (tokens stored hashed). */
export interface SessionRepo {
  insert(s: SessionRecord): Promise<void>;
  get(tokenHash: Buffer): Promise<SessionRecord | undefined>;
  revoke(tokenHash: Buffer, at: string): Promise<void>;
  /** Revokes every live session of `userId` (its password was reset). */
  revokeAllOf(userId: string, at: string): Promise<void>;
}

/** Throttle hits (login attempts, registrations) by key: `acct-ip:`, `acct:`, `ip:`, `register:`. */
export interface LoginFailureRepo {
  add(key: string, at: string): Promise<void>;
  /** Hits of `key` at or after `since`, oldest first. */
  since(key: string, since: string): Promise<string[]>;
  clear(key: string): Promise<void>;
  /** Removes one hit of `key` at `at` (an attempt that turned out good). */
  removeOne(key: string, at: string): Promise<void>;
  /** Removes the hits older than `before` of `key`, or of every key. */
  prune(before: string, key?: string): Promise<void>;
}

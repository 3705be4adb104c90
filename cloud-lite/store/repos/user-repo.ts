import type { Table } from './table.js';

export type Role = 'renter' | 'technician' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['renter', 'technician', 'operator', 'admin'];

export interface UserRecord {
  id: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  role: Role;
  passwordHash: string;
  cardToken: string | null;
  cardLast4: string | null;
  createdAt: string;
  /** Language of the account's e-mails (`en`, `zh-CN`); null or absent: English. */
  language?: string | null;
}

/** Accounts: renters and staff. */
export interface UserRepo extends Table<UserRecord> {
  /** The user whose e-mail or phone is `login` (as stored: normalised). */
  findByLogin(login: string): Promise<UserRecord | undefined>;
  count(): Promise<number>;
}

import type Database from 'better-sqlite3';
import type { UserRecord, UserRepo } from '../repos/user-repo.js';
import { table } from './table.js';

export function sqliteUserRepo(db: Database.Database): UserRepo {
  const users = table<UserRecord>(db, { name: 'users', key: 'id' });
  return {
    ...users.keyed,
    async findByLogin(login) {
      return users.one('SELECT * FROM users WHERE email = ? OR phone = ?', login, login);
    },
    async count() {
      return (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
    },
  };
}

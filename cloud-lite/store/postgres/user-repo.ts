import type { UserRecord, UserRepo } from '../repos/user-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgUserRepo(sql: Sql): UserRepo {
  const users = pgTable<UserRecord>(sql, { name: 'users', key: 'id' });
  return {
    ...users.keyed,
    findByLogin: (login) => users.one('SELECT * FROM users WHERE email = $1 OR phone = $1', login),
    async count() {
      return (await sql.one<{ n: number }>('SELECT count(*) AS n FROM users'))?.n ?? 0;
    },
  };
}

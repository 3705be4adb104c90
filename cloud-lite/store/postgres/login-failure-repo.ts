import type { LoginFailureRepo } from '../repos/login-failure-repo.js';
import type { Sql } from './sql.js';

export function pgLoginFailureRepo(sql: Sql): LoginFailureRepo {
  return {
    async add(key, at) {
      await sql.run('INSERT INTO login_failures (key, at) VALUES ($1, $2)', [key, at]);
    },
    async since(key, since) {
      const rows = await sql.rows<{ at: string }>(
        'SELECT at FROM login_failures WHERE key = $1 AND at >= $2 ORDER BY at',
        [key, since],
      );
      return rows.map((r) => r.at);
    },
    async clear(key) {
      await sql.run('DELETE FROM login_failures WHERE key = $1', [key]);
    },
    async removeOne(key, at) {
      await sql.run(
        'DELETE FROM login_failures WHERE row_no = (SELECT row_no FROM login_failures WHERE key = $1 AND at = $2 LIMIT 1)',
        [key, at],
      );
    },
    async prune(before, key) {
      if (key === undefined) await sql.run('DELETE FROM login_failures WHERE at < $1', [before]);
      else await sql.run('DELETE FROM login_failures WHERE key = $1 AND at < $2', [key, before]);
    },
  };
}

import type { AuditRecord, AuditRepo } from '../repos/audit-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgAuditRepo(sql: Sql): AuditRepo {
  const audit = pgTable<AuditRecord, number>(sql, {
    name: 'audit_log',
    key: 'id',
    json: ['details'],
  });
  return {
    insert: audit.insert,
    list: (limit) => audit.all('SELECT * FROM audit_log ORDER BY id DESC LIMIT $1', limit),
  };
}

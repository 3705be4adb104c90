import type Database from 'better-sqlite3';
import type { AuditRecord, AuditRepo } from '../repos/audit-repo.js';
import { table } from './table.js';

export function sqliteAuditRepo(db: Database.Database): AuditRepo {
  const audit = table<AuditRecord, number>(db, {
    name: 'audit_log',
    key: 'id',
    json: ['details'],
  });
  return {
    insert: audit.insert,
    async list(limit) {
      return audit.all('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?', limit);
    },
  };
}

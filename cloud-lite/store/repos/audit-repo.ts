export interface AuditRecord {
  id?: number;
  at: string;
  /** `user:<id>`, `kiosk:<id>`, `system:<job>`, `admin-token`. */
  actor: string;
  action: string;
  subject: string | null;
  kioskId: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}

/** The audit log: who changed what, appended in the transaction of the change. */
export interface AuditRepo {
  insert(a: AuditRecord): Promise<void>;
  list(limit: number): Promise<AuditRecord[]>;
}

import type { Tx } from './store/types.js';

/** Who caused a state change: `user:<id>`, `kiosk:<id>`, `system:<job>`, `admin-token`; and from where. */
export interface Actor {
  actor: string;
  ip?: string | null;
  kioskId?: string | null;
}

export const SYSTEM = (job: string): Actor => ({ actor: `system:${job}` });

/** Appends one audit entry inside the transaction `tx` of the change it describes. */
export function audit(
  tx: Tx,
  who: Actor,
  at: string,
  action: string,
  subject: string | null,
  details: Record<string, unknown> | null = null,
): Promise<void> {
  return tx.audit.insert({
    at,
    actor: who.actor,
    action,
    subject,
    kioskId: who.kioskId ?? null,
    ip: who.ip ?? null,
    details,
  });
}

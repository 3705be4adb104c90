/**
 * Records an action kioskctl performed itself (config set, enrol) as a TechnicianAction:
 * through kioskd when it runs, else straight into the outbox of the database (kioskd is
 * down, so nothing else writes it; SQLite's lock covers a daemon starting meanwhile).
 */
import Database from 'better-sqlite3';
import { databasePath } from '../../config.js';
import { Outbox } from '../../state/outbox.js';
import { technicianName } from '../client.js';
import type { CliContext } from '../context.js';

export async function recordTechnicianAction(
  ctx: CliContext,
  action: string,
  args: Record<string, unknown>,
): Promise<void> {
  try {
    await ctx.call('audit', { action, args });
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== 'EDAEMONDOWN') {
      ctx.err(`kioskctl: warning: action not recorded for the hub: ${(err as Error).message}`);
      return;
    }
  }
  try {
    const db = new Database(databasePath(ctx.config()), { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      new Outbox({ db, clock: { now: () => new Date() } }).append('TechnicianAction', {
        actor: (ctx.io.env.KIOSKCTL_USER ?? technicianName(ctx.io.env)).slice(0, 64),
        action,
        args,
      });
    } finally {
      db.close();
    }
  } catch (err) {
    ctx.err(`kioskctl: warning: action not recorded for the hub: ${(err as Error).message}`);
  }
}

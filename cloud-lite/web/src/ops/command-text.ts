import { t } from '../i18n/i18n.js';
import { formatBytes } from '../lib/format.js';
import type { OpsCommand } from '../lib/types.js';

/**
 * A hub -> kiosk command as a sentence in the page's language ("Disable slot 2 (reason:
 * door sticks)"), never its raw payload: signatures, hashes and ids stay out of sight.
 */
export function commandSentence(c: Pick<OpsCommand, 'action' | 'payload'>): string {
  const p = (c.payload ?? {}) as Record<string, unknown>;
  const slot = p.slot ?? '?';
  const reason = typeof p.reason === 'string' && p.reason ? p.reason : undefined;
  const base = (() => {
    switch (c.action) {
      case 'Dispense':
        return t('cmd.Dispense', { slot, disk: p.diskId ?? '?' });
      case 'PrepareDisk':
        return t('cmd.PrepareDisk', {
          content: p.contentId ?? '?',
          size: formatBytes(Number(p.minCapacityBytes ?? 0)),
        });
      case 'CancelReservation':
        return t('cmd.CancelReservation');
      case 'SetWriteProtect':
        return t(p.on ? 'cmd.SetWriteProtectOn' : 'cmd.SetWriteProtectOff', { slot });
      case 'WipeDisk':
        return t('cmd.WipeDisk', { slot });
      case 'DisableSlot':
        return t('cmd.DisableSlot', { slot });
      case 'EnableSlot':
        return t('cmd.EnableSlot', { slot });
      case 'TriggerMessage':
        return t('cmd.TriggerMessage', {
          what: t(`cmd.message.${String(p.message)}`, { defaultValue: String(p.message) }),
        });
      case 'Reset':
        return t(p.kind === 'Hard' ? 'cmd.ResetHard' : 'cmd.ResetSoft');
      case 'InstallUpdate':
        return t('cmd.InstallUpdate', { version: p.version ?? '?' });
      case 'ArmPickupCode':
        return t('cmd.ArmPickupCode', { slot });
      case 'UploadDiagnostics':
        return t(p.kind === 'logs' ? 'cmd.UploadLogs' : 'cmd.UploadBundle');
      default:
        return t('cmd.other', { action: c.action });
    }
  })();
  return reason ? t('cmd.withReason', { what: base, reason }) : base;
}

/** Where a command stands, in words. */
export function commandStateText(state: string): string {
  return t(`cmd.state.${state}`, { defaultValue: state });
}

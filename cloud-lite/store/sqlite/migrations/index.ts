import type { Migration } from '../../../../common/sqlite-migrate.js';
import { migration001Hub } from './001-hub.js';
import { migration002Rental } from './002-rental.js';
import { migration003MissingDisks } from './003-missing-disks.js';
import { migration004PendingRegistrations } from './004-pending-registrations.js';
import { migration005RentalExtensions } from './005-rental-extensions.js';
import { migration006KioskDatabaseId } from './006-kiosk-database-id.js';
import { migration007Rollouts } from './007-rollouts.js';
import { migration008PickupCodes } from './008-pickup-codes.js';
import { migration009AuthorisationExpiry } from './009-authorisation-expiry.js';
import { migration010AlertsAndNotifications } from './010-alerts-and-notifications.js';
import { migration011HubSessions } from './011-hub-sessions.js';
import { migration012KioskDiagnostics } from './012-kiosk-diagnostics.js';
import { migration013RemoteConfig } from './013-remote-config.js';
import { migration014RenterMail } from './014-renter-mail.js';
import { migration015RentalSettings } from './015-rental-settings.js';
import { migration016KioskFeatures } from './016-kiosk-features.js';
import { migration017RefundReason } from './017-refund-reason.js';
import { migration018ConfigLacking } from './018-config-lacking.js';
import { migration019CommandStateDomain } from './019-command-state-domain.js';

/**
 * One migration per file, numbered from 1 without gaps; `version` becomes
 * `PRAGMA user_version` once applied. To add one: create `NNN-name.ts` exporting a
 * `Migration` with the next version, and append it below. Never edit a shipped one.
 */
export type { Migration };

export const migrations: readonly Migration[] = [
  migration001Hub,
  migration002Rental,
  migration003MissingDisks,
  migration004PendingRegistrations,
  migration005RentalExtensions,
  migration006KioskDatabaseId,
  migration007Rollouts,
  migration008PickupCodes,
  migration009AuthorisationExpiry,
  migration010AlertsAndNotifications,
  migration011HubSessions,
  migration012KioskDiagnostics,
  migration013RemoteConfig,
  migration014RenterMail,
  migration015RentalSettings,
  migration016KioskFeatures,
  migration017RefundReason,
  migration018ConfigLacking,
  migration019CommandStateDomain,
];

import type { PgMigration } from '../migrate.js';
import { pgMigration001Hub } from './001-hub.js';
import { pgMigration002Rental } from './002-rental.js';
import { pgMigration003MissingDisks } from './003-missing-disks.js';
import { pgMigration004PendingRegistrations } from './004-pending-registrations.js';
import { pgMigration005RentalExtensions } from './005-rental-extensions.js';
import { pgMigration006KioskDatabaseId } from './006-kiosk-database-id.js';
import { pgMigration007Rollouts } from './007-rollouts.js';
import { pgMigration008PickupCodes } from './008-pickup-codes.js';
import { pgMigration009AuthorisationExpiry } from './009-authorisation-expiry.js';
import { pgMigration010AlertsAndNotifications } from './010-alerts-and-notifications.js';
import { pgMigration011HubSessions } from './011-hub-sessions.js';
import { pgMigration012KioskDiagnostics } from './012-kiosk-diagnostics.js';
import { pgMigration013RemoteConfig } from './013-remote-config.js';
import { pgMigration014RenterMail } from './014-renter-mail.js';
import { pgMigration015RentalSettings } from './015-rental-settings.js';
import { pgMigration016KioskFeatures } from './016-kiosk-features.js';
import { pgMigration017RefundReason } from './017-refund-reason.js';
import { pgMigration018ConfigLacking } from './018-config-lacking.js';
import { pgMigration019CommandStateDomain } from './019-command-state-domain.js';

/**
 * The PostgreSQL migrations, one per SQLite migration with the same number and name
 * (sqlite/migrations/): a schema change adds both, so the two stores stay at the same
 * version. Never edit a shipped one. test/cloud-lite/store/contract/ checks the pairs.
 */
export const pgMigrations: readonly PgMigration[] = [
  pgMigration001Hub,
  pgMigration002Rental,
  pgMigration003MissingDisks,
  pgMigration004PendingRegistrations,
  pgMigration005RentalExtensions,
  pgMigration006KioskDatabaseId,
  pgMigration007Rollouts,
  pgMigration008PickupCodes,
  pgMigration009AuthorisationExpiry,
  pgMigration010AlertsAndNotifications,
  pgMigration011HubSessions,
  pgMigration012KioskDiagnostics,
  pgMigration013RemoteConfig,
  pgMigration014RenterMail,
  pgMigration015RentalSettings,
  pgMigration016KioskFeatures,
  pgMigration017RefundReason,
  pgMigration018ConfigLacking,
  pgMigration019CommandStateDomain,
];

import type { Logger } from '../../log.js';

/** Where an account message goes: the e-mail address, else the phone number (SMS). */
export interface Recipient {
  email: string | null;
  phone: string | null;
}

/**
 * Messages to the owner of an e-mail address or phone number. Registration answers the same
 * whether the login is new or taken; the difference reaches only the owner, by one of these.
 */
export type AccountMessage =
  | {
      kind: 'confirm-registration';
      to: Recipient;
      /** Opens the page that finishes the registration (the token is in the URL's fragment). */
      link: string;
      expiresAt: string;
    }
  | {
      /** Someone registered with a login that already has an account. */
      kind: 'already-registered';
      to: Recipient;
      loginLink: string;
    };

/** Sends account messages (e-mail or SMS). Delivery failures are the sender's to log. */
export interface AccountMailer {
  send(message: AccountMessage): Promise<void>;
}

/**
 * The stand-in until the hub has a mail/SMS gateway: writes each message to the hub log
 * (info, `component: account-mail`), link included, for an operator to pass on. A real
 * mailer replaces it through `RentalDomainDeps.mailer`.
 */
export function logMailer(logger: Logger): AccountMailer {
  const log = logger.child({ component: 'account-mail' });
  return {
    async send(message) {
      log.info({ message }, `account message ${message.kind} (no mailer configured: logged only)`);
    },
  };
}

import type { Logger } from '../../log.js';
import type { Mailer, MailMessage } from '../../notifications/mailer.js';

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
    }
  | {
      /** "Forgot password": a single-use link to set a new one, in the account's language. */
      kind: 'password-reset';
      to: Recipient;
      link: string;
      expiresAt: string;
      /** The account's language (`users.language`): `en` or `zh-CN`. */
      language: string | null;
    };

/** Sends account messages (e-mail or SMS). Delivery failures are the sender's to log. */
export interface AccountMailer {
  send(message: AccountMessage): Promise<void>;
}

/**
 * Writes each message to the hub log (info, `component: account-mail`), link included, for an
 * operator to pass on: what the hub does without SMTP (and for phone-only recipients: there
 * is no SMS gateway yet).
 */
export function logMailer(logger: Logger): AccountMailer {
  const log = logger.child({ component: 'account-mail' });
  return {
    async send(message) {
      log.info({ message }, `account message ${message.kind} (no mailer configured: logged only)`);
    },
  };
}

/**
 * The e-mail of an account message (plain text). Registration messages are in English (no
 * account, so no language yet); a password reset is in the account's language.
 */
export function accountMail(message: AccountMessage, email: string): MailMessage {
  switch (message.kind) {
    case 'confirm-registration':
      return {
        to: email,
        subject: 'Confirm your disk kiosk account',
        text:
          'Someone (you, we hope) asked for a disk kiosk account with this address.\n\n' +
          `Open this link to finish the registration (valid until ${message.expiresAt}):\n` +
          `${message.link}\n\nIf it was not you, ignore this mail: no account is made.\n`,
      };
    case 'already-registered':
      return {
        to: email,
        subject: 'You already have a disk kiosk account',
        text:
          'Someone (you, we hope) tried to register with this address, which already has an ' +
          `account. Log in here instead:\n${message.loginLink}\n\n` +
          'If it was not you, ignore this mail: nothing changed.\n',
      };
    case 'password-reset':
      return message.language === 'zh-CN'
        ? {
            to: email,
            subject: '重设您的磁盘租借账户密码',
            text:
              '有人（希望是您本人）请求重设此邮箱对应账户的密码。\n\n' +
              `请打开此链接设置新密码（仅可使用一次，有效期至 ${message.expiresAt}）：\n` +
              `${message.link}\n\n如果不是您本人操作，请忽略此邮件：密码不会改变。\n`,
          }
        : {
            to: email,
            subject: 'Reset your disk kiosk password',
            text:
              'Someone (you, we hope) asked to reset the password of the account with this address.\n\n' +
              `Open this link to set a new one (it works once, until ${message.expiresAt}):\n` +
              `${message.link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n`,
          };
  }
}

/**
 * Account messages by e-mail through `mailer` when it has SMTP and the recipient an e-mail
 * address; otherwise logged as logMailer does. A failed send is logged (warn) and not thrown:
 * the request that caused the message answers the same either way.
 */
export function emailAccountMailer(mailer: Mailer, logger: Logger): AccountMailer {
  const fallback = logMailer(logger);
  const log = logger.child({ component: 'account-mail' });
  return {
    async send(message) {
      const email = message.to.email;
      if (!mailer.configured || !email) return fallback.send(message);
      try {
        await mailer.send(accountMail(message, email));
      } catch (err) {
        log.warn({ kind: message.kind, err: (err as Error).message }, 'account mail not sent');
      }
    },
  };
}

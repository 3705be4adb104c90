import type { Logger } from '../../log.js';
import type { Mailer, MailMessage } from '../../notifications/mailer.js';
import {
  formatTime,
  type MailLanguage,
  mailLanguage,
} from '../../notifications/renter-mail-text.js';

/** Where an account message goes: the e-mail address, else the phone number (SMS). */
export interface Recipient {
  email: string | null;
  phone: string | null;
}

/**
 * Messages to the owner of an e-mail address or phone number. Registration answers the same
 * whether the login is new or taken; the difference reaches only the owner, by one of these.
 * Each is written in `language` (`en` or `zh-CN`; anything else: English).
 */
export type AccountMessage =
  | {
      kind: 'confirm-registration';
      to: Recipient;
      /** Opens the page that finishes the registration (the token is in the URL's fragment). */
      link: string;
      expiresAt: string;
      /** The language chosen at registration (or the browser's); the account keeps it. */
      language: string | null;
    }
  | {
      /** Someone registered with a login that already has an account. */
      kind: 'already-registered';
      to: Recipient;
      loginLink: string;
      /** The existing account's language, else the one of the registration. */
      language: string | null;
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

/** The words of the account e-mails, per language (the renter mails' catalogue approach). */
const ACCOUNT_WORDS: Record<
  MailLanguage,
  {
    [K in AccountMessage['kind']]: (
      m: Extract<AccountMessage, { kind: K }>,
      until: string,
    ) => { subject: string; lines: string[] };
  }
> = {
  en: {
    'confirm-registration': (m, until) => ({
      subject: 'Confirm your disk kiosk account',
      lines: [
        'Someone (you, we hope) asked for a disk kiosk account with this address.',
        '',
        `Open this link to finish the registration (valid until ${until}):`,
        m.link,
        '',
        'If it was not you, ignore this mail: no account is made.',
      ],
    }),
    'already-registered': (m) => ({
      subject: 'You already have a disk kiosk account',
      lines: [
        'Someone (you, we hope) tried to register with this address, which already has an account. Log in here instead:',
        m.loginLink,
        '',
        'If it was not you, ignore this mail: nothing changed.',
      ],
    }),
    'password-reset': (m, until) => ({
      subject: 'Reset your disk kiosk password',
      lines: [
        'Someone (you, we hope) asked to reset the password of the account with this address.',
        '',
        `Open this link to set a new one (it works once, until ${until}):`,
        m.link,
        '(Open the whole link, the part after # included.)',
        '',
        'If it was not you, ignore this mail: your password stays as it is.',
      ],
    }),
  },
  'zh-CN': {
    'confirm-registration': (m, until) => ({
      subject: '确认您的磁盘租借账户',
      lines: [
        '有人（希望是您本人）用此邮箱申请了磁盘租借账户。',
        '',
        `请打开此链接完成注册（有效期至 ${until}）：`,
        m.link,
        '',
        '如果不是您本人操作，请忽略此邮件：不会创建任何账户。',
      ],
    }),
    'already-registered': (m) => ({
      subject: '您已有磁盘租借账户',
      lines: [
        '有人（希望是您本人）尝试用此邮箱注册，但此邮箱已有账户。请在此登录：',
        m.loginLink,
        '',
        '如果不是您本人操作，请忽略此邮件：什么都没有改变。',
      ],
    }),
    'password-reset': (m, until) => ({
      subject: '重设您的磁盘租借账户密码',
      lines: [
        '有人（希望是您本人）请求重设此邮箱对应账户的密码。',
        '',
        `请打开此链接设置新密码（仅可使用一次，有效期至 ${until}）：`,
        m.link,
        '（请完整打开链接，包括 # 之后的部分。）',
        '',
        '如果不是您本人操作，请忽略此邮件：密码不会改变。',
      ],
    }),
  },
};

/**
 * The e-mail of an account message (plain text), in the message's language, with its expiry
 * written in `timeZone` (the `notifications.timeZone` setting).
 */
export function accountMail(message: AccountMessage, email: string, timeZone = 'UTC'): MailMessage {
  const lang = mailLanguage(message.language);
  const words = ACCOUNT_WORDS[lang][message.kind] as (
    m: AccountMessage,
    until: string,
  ) => { subject: string; lines: string[] };
  const until = 'expiresAt' in message ? formatTime(message.expiresAt, lang, timeZone) : '';
  const w = words(message, until);
  return { to: email, subject: w.subject, text: `${w.lines.join('\n')}\n` };
}

/**
 * Account messages by e-mail through `mailer` when it has SMTP and the recipient an e-mail
 * address; otherwise logged as logMailer does. A failed send is logged (warn) and not thrown:
 * the request that caused the message answers the same either way.
 */
export function emailAccountMailer(
  mailer: Mailer,
  logger: Logger,
  timeZone = 'UTC',
): AccountMailer {
  const fallback = logMailer(logger);
  const log = logger.child({ component: 'account-mail' });
  return {
    async send(message) {
      const email = message.to.email;
      if (!mailer.configured || !email) return fallback.send(message);
      try {
        await mailer.send(accountMail(message, email, timeZone));
      } catch (err) {
        log.warn({ kind: message.kind, err: (err as Error).message }, 'account mail not sent');
      }
    },
  };
}

import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import type { Transporter } from 'nodemailer';
import { ConfigError, HubError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * SMTP settings of the hub's outgoing mail (`smtp` in the hub configuration). Absent: no mail
 * is sent, messages are written to the log instead. The password comes from `passwordFile`
 * (a file holding it, trailing newline ignored) or the environment (`CLOUD_LITE_SMTP_PASSWORD`),
 * never from the JSON file itself.
 */
export const SmtpConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    /** 587 (STARTTLS) by default; 465 with `secure: true`; 25 between servers. */
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
    /** true: TLS from the first byte (port 465). false: STARTTLS when the server offers it. */
    secure: Type.Boolean({ default: false }),
    /** false: STARTTLS is not required (a local relay on 25); true by default unless `secure`. */
    requireTls: Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.String({ minLength: 1 })),
    passwordFile: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1 })),
    /** The From address, e.g. `"Disk kiosks" <noreply@example.com>`. */
    from: Type.String({ minLength: 3 }),
    /** Gives up on one connection step (connect, greeting, each command) after this long. */
    timeoutMs: Type.Integer({ minimum: 100, default: 30_000 }),
  },
  { additionalProperties: false },
);

export type SmtpConfig = Static<typeof SmtpConfigSchema>;

/** One plain-text e-mail (and optionally its HTML twin). */
export interface MailMessage {
  to: string | string[];
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. `List-Unsubscribe`. */
  headers?: Record<string, string>;
}

/** The hub's outgoing mail. `send` rejects with MailError when the server refuses or is unreachable. */
export interface Mailer {
  /** false: no SMTP configured; `send` only logs the message. */
  readonly configured: boolean;
  send(message: MailMessage): Promise<{ messageId: string | null }>;
  close(): void;
}

/** EMAIL: the SMTP server refused the message or could not be reached; retry later. */
export class MailError extends HubError {
  constructor(message: string, cause?: unknown) {
    super('EMAIL', message, 502);
    this.name = 'MailError';
    this.cause = cause;
  }
}

/**
 * The mailer for `config` (nodemailer over SMTP, one pooled connection; nodemailer is loaded
 * at the first send), or, without `config`, one that writes each message to the log (info,
 * `component: mail`) and sends nothing.
 */
export function createMailer(config: SmtpConfig | undefined, logger: Logger): Mailer {
  const log = logger.child({ component: 'mail' });
  if (!config) {
    return {
      configured: false,
      async send(message) {
        log.info({ mail: message }, `mail "${message.subject}" (no SMTP configured: logged only)`);
        return { messageId: null };
      },
      close() {},
    };
  }
  const password = smtpPassword(config);
  // nodemailer (and its TLS/DNS helpers) is loaded when the first mail is sent, not at start:
  // a hub that sends no mail never pays for it.
  let transport: Promise<Transporter> | undefined;
  const open = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: config.host,
        port: config.port,
        secure: config.secure,
        requireTLS: config.requireTls ?? !config.secure,
        auth: config.user ? { user: config.user, pass: password ?? '' } : undefined,
        connectionTimeout: config.timeoutMs,
        greetingTimeout: config.timeoutMs,
        socketTimeout: config.timeoutMs,
        pool: true,
        maxConnections: 1,
      }),
    ));
  return {
    configured: true,
    async send(message) {
      try {
        const info = await (await open()).sendMail({ from: config.from, ...message });
        log.info(
          { to: message.to, subject: message.subject, messageId: info.messageId },
          'mail sent',
        );
        return { messageId: info.messageId ?? null };
      } catch (err) {
        const reason = (err as Error).message;
        log.warn({ to: message.to, subject: message.subject, err: reason }, 'mail not sent');
        throw new MailError(
          `the SMTP server ${config.host}:${config.port} did not take the mail "${message.subject}": ${reason}`,
          err,
        );
      }
    },
    close() {
      void transport?.then((t) => t.close()).catch(() => undefined);
    },
  };
}

function smtpPassword(config: SmtpConfig): string | undefined {
  if (config.password !== undefined) return config.password;
  if (config.passwordFile === undefined) return undefined;
  try {
    return readFileSync(config.passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(
      `cannot read smtp.passwordFile ${config.passwordFile}: ${(err as Error).message}`,
    );
  }
}

/**
 * A local SMTP server for tests (smtp-server on 127.0.0.1, port 0) that keeps every message it
 * receives, parsed (mailparser), and can require a login. `waitFor` resolves when a message
 * matching a predicate has arrived (no timers: it resolves on arrival).
 */
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** RCPT TO addresses of the envelope. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  headers: ParsedMail['headers'];
  /** The login the client authenticated with, if any. */
  user: string | null;
}

export interface SmtpSink {
  port: number;
  received: ReceivedMail[];
  waitFor(pred: (m: ReceivedMail) => boolean): Promise<ReceivedMail>;
  /** Makes the server refuse every message with a 451 until called with false. */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startSmtpSink(
  opts: { auth?: { user: string; password: string } } = {},
): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const waiters: { pred: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }[] = [];
  let refusing = false;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.password)
        return cb(null, { user: auth.username });
      return cb(new Error('invalid login'));
    },
    onData(stream, session, cb) {
      if (refusing) {
        stream.resume();
        stream.on('end', () => cb(Object.assign(new Error('try later'), { responseCode: 451 })));
        return;
      }
      simpleParser(stream).then(
        (parsed) => {
          const mail: ReceivedMail = {
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            headers: parsed.headers,
            user: (session.user as string | undefined) ?? null,
          };
          received.push(mail);
          for (const w of [...waiters]) {
            if (w.pred(mail)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(mail);
            }
          }
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
  return {
    port,
    received,
    waitFor(pred) {
      const have = received.find(pred);
      if (have) return Promise.resolve(have);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    refuse(on) {
      refusing = on;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

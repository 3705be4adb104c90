/**
 * A local HTTP server for tests (127.0.0.1, port 0) that keeps every POST it receives with its
 * raw body and headers, and answers each with the next status of `statuses` (then 200).
 * `waitFor` resolves when a matching request has arrived (no timers).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
  body: any;
  status: number;
}

export interface WebhookSink {
  url: string;
  received: ReceivedHook[];
  /** Answers the next requests with these statuses (a failing receiver), then 200. */
  failNext(...statuses: number[]): void;
  waitFor(pred: (h: ReceivedHook) => boolean): Promise<ReceivedHook>;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const received: ReceivedHook[] = [];
  const waiters: { pred: (h: ReceivedHook) => boolean; resolve: (h: ReceivedHook) => void }[] = [];
  const statuses: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: unknown = null;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {}
      const status = statuses.shift() ?? 200;
      const hook = { path: req.url ?? '', headers: req.headers, raw, body, status };
      received.push(hook);
      res.writeHead(status).end();
      if (status >= 200 && status < 300)
        for (const w of [...waiters])
          if (w.pred(hook)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(hook);
          }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/alerts`,
    received,
    failNext: (...s) => void statuses.push(...s),
    waitFor(pred) {
      const have = received.find((h) => h.status < 300 && pred(h));
      if (have) return Promise.resolve(have);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

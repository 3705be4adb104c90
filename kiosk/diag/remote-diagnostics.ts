/**
 * UploadDiagnostics (hub -> kiosk, signed): the kiosk answers Accepted, builds the bundle or
 * the log excerpt, scrubs its secrets from it, and uploads it to the hub with
 * `POST <content origin>/api/kiosk/diagnostics/<requestId>` (Basic kioskId:secret,
 * `x-content-sha256`). A failed upload (no answer, 429, 5xx) is retried with a doubling delay;
 * a refusal (4xx) is final. When it gives up, a DiagnosticsFailed event tells the hub why.
 * Not resumed across a kioskd restart: the hub's command then expires and the operator asks again.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RequestOf } from '../../protocol/index.js';
import type { KioskConfig } from '../config.js';
import type { KioskDb } from '../db/open-db.js';
import { accepted, type CommandDeps, type CommandHandler } from '../handlers/context.js';
import { contentOrigin } from '../handlers/preparation.js';
import { verifySigned } from '../handlers/verify-signed.js';
import { recentLogLines, scrubSecrets, writeDiagBundle } from './bundle.js';

export interface RemoteDiagnosticsDeps {
  commandDeps: CommandDeps;
  config: KioskConfig;
  /** The hub secret (Basic credentials, and scrubbed from what is sent). */
  secret: string;
  db: KioskDb;
  /** kioskd's own maintenance methods (status, slots, disks). */
  call: (method: 'status' | 'slots' | 'disks') => Promise<unknown>;
  /** HTTP client (trusting hub.caFile when set); default global fetch. */
  fetch?: typeof fetch;
  /** Upload attempts before giving up (default 5) and the first retry delay (default 2 s). */
  attempts?: number;
  retryBaseMs?: number;
}

class UploadError extends Error {
  constructor(
    readonly code: 'ETOOBIG' | 'EUPLOAD' | 'EDIAG',
    message: string,
  ) {
    super(message);
  }
}

export class RemoteDiagnostics {
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: RemoteDiagnosticsDeps) {}

  readonly handle: CommandHandler<'UploadDiagnostics'> = (p, ctx) => {
    verifySigned(this.deps.commandDeps, 'UploadDiagnostics', p, ctx);
    const job = this.run(p).finally(() => this.running.delete(job));
    this.running.add(job);
    return accepted();
  };

  /** Cancels uploads in progress (kioskd stopping). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.running]);
  }

  private async run(p: RequestOf<'UploadDiagnostics'>): Promise<void> {
    const log = this.deps.commandDeps.log.child({
      commandId: p.commandId,
      requestId: p.requestId,
    });
    try {
      const body = await this.build(p);
      if (body.length > p.maxBytes)
        throw new UploadError(
          'ETOOBIG',
          `diagnostics are ${body.length} bytes, the hub takes at most ${p.maxBytes}; ask for fewer log lines`,
        );
      await this.upload(p, body);
      log.info({ kind: p.kind, bytes: body.length }, 'diagnostics uploaded');
    } catch (err) {
      if (this.abort.signal.aborted) return;
      const e = err instanceof UploadError ? err : new UploadError('EDIAG', (err as Error).message);
      log.warn({ code: e.code, err: e.message }, 'diagnostics not uploaded');
      this.deps.commandDeps.outbox.append('DiagnosticsFailed', {
        commandId: p.commandId,
        requestId: p.requestId,
        code: e.code,
        reason: e.message.slice(0, 1024),
      });
    }
  }

  private async build(p: RequestOf<'UploadDiagnostics'>): Promise<Buffer> {
    const { config, secret } = this.deps;
    if (p.kind === 'logs') {
      const text = recentLogLines(config.dataDir, p.lines ?? 200, p.level ?? 'info');
      return Buffer.from(scrubSecrets(text, [secret]));
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kioskd-diag-'));
    try {
      const out = path.join(dir, 'diag.tar.gz');
      await writeDiagBundle(out, {
        config,
        db: () => ({ db: this.deps.db, close: false }),
        call: this.deps.call,
        secrets: [secret],
        builtBy: 'kioskd',
      });
      return readFileSync(out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async upload(p: RequestOf<'UploadDiagnostics'>, body: Buffer): Promise<void> {
    const { config, secret } = this.deps;
    const url = `${contentOrigin(config)}/api/kiosk/diagnostics/${encodeURIComponent(p.requestId)}`;
    const headers = {
      authorization: `Basic ${Buffer.from(`${config.kioskId}:${secret}`).toString('base64')}`,
      'content-type': p.kind === 'bundle' ? 'application/gzip' : 'text/plain; charset=utf-8',
      'x-content-sha256': createHash('sha256').update(body).digest('hex'),
    };
    const attempts = this.deps.attempts ?? 5;
    const f = this.deps.fetch ?? fetch;
    let last = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await this.sleep((this.deps.retryBaseMs ?? 2000) * 2 ** (i - 1));
      try {
        const res = await f(url, {
          method: 'POST',
          headers,
          body,
          signal: this.abort.signal,
        });
        const text = await res.text().catch(() => '');
        if (res.ok || res.status === 409) return; // 409: this upload arrived already
        last = `hub answered ${res.status}: ${text.slice(0, 300)}`;
        if (res.status !== 429 && res.status < 500) throw new UploadError('EUPLOAD', last);
      } catch (err) {
        if (err instanceof UploadError || this.abort.signal.aborted) throw err;
        last = `upload failed: ${(err as Error).message}`;
      }
    }
    throw new UploadError('EUPLOAD', `${last} (after ${attempts} attempts)`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

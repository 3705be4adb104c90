/**
 * Remote diagnostics (docs/remote-operations.md): an operator asks a kiosk for its diagnostics
 * bundle or its last log lines; the hub records the request and sends UploadDiagnostics (signed)
 * in the same transaction; the kiosk uploads the bytes over HTTP with its own credentials
 * (`receiveUpload`: size-capped, SHA-256 checked, once), which settles the command; the operator
 * downloads them. A DiagnosticsFailed event, or the command refused, failed or expired, marks the
 * request failed with the reason. Every request and every download is audited.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Actor, audit } from '../audit.js';
import { ConflictError, HubError, NotFoundError } from '../errors.js';
import type { KioskCommands } from '../hub/kiosk-commands.js';
import type { Logger } from '../log.js';
import type { DiagnosticsKind, DiagnosticsRecord, Store } from '../store/types.js';

export interface DiagnosticsDeps {
  store: Store;
  kiosks: KioskCommands;
  logger: Logger;
  /** Largest upload accepted (bytes). */
  maxBytes: number;
  /** How long the kiosk has to upload before the command expires (seconds). */
  deadlineSeconds: number;
  now?: () => Date;
}

export interface DiagnosticsAsk {
  kind: DiagnosticsKind;
  lines?: number;
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
}

export class KioskDiagnostics {
  constructor(private readonly deps: DiagnosticsDeps) {}

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Listens for the outcomes that end a request without an upload. */
  attach(): void {
    this.deps.kiosks.onEvent('DiagnosticsFailed', async (ev, tx) => {
      const d = await tx.diagnostics.get(ev.data.requestId);
      if (!d || d.kioskId !== ev.kioskId) return;
      await tx.diagnostics.fail(
        d.id,
        this.now().toISOString(),
        `${ev.data.code}: ${ev.data.reason}`,
      );
    });
    this.deps.kiosks.onCommandEnded((c) => {
      if (c.action !== 'UploadDiagnostics') return;
      const requestId = String((c.payload as { requestId?: unknown }).requestId ?? '');
      const why =
        c.state === 'expired'
          ? 'the kiosk did not upload before the deadline (offline, or kioskd restarted)'
          : `the kiosk answered ${c.state}: ${String((c.result as { reason?: unknown; description?: unknown } | null)?.reason ?? (c.result as { description?: unknown } | null)?.description ?? '')}`;
      void this.deps.store
        .transaction((tx) => tx.diagnostics.fail(requestId, this.now().toISOString(), why))
        .catch((err: Error) =>
          this.deps.logger.error({ err: err.message, requestId }, 'diagnostics: marking failed'),
        );
    });
  }

  /** Records a request and sends the kiosk UploadDiagnostics (delivered when it is connected). */
  async request(kioskId: string, ask: DiagnosticsAsk, who: Actor): Promise<DiagnosticsRecord> {
    return this.deps.store.transaction(async (tx) => {
      const k = await tx.kiosks.get(kioskId);
      if (!k || k.revokedAt) throw new NotFoundError(`kiosk ${kioskId} does not exist`);
      const now = this.now();
      const rec: DiagnosticsRecord = {
        id: `diag-${randomUUID()}`,
        kioskId,
        kind: ask.kind,
        lines: ask.kind === 'logs' ? (ask.lines ?? 200) : null,
        level: ask.kind === 'logs' ? (ask.level ?? 'info') : null,
        state: 'requested',
        commandId: null,
        requestedBy: who.actor,
        requestedAt: now.toISOString(),
        finishedAt: null,
        sizeBytes: null,
        sha256: null,
        failure: null,
      };
      await tx.diagnostics.insert(rec);
      const cmd = await this.deps.kiosks.send(
        tx,
        kioskId,
        'UploadDiagnostics',
        {
          requestId: rec.id,
          kind: rec.kind,
          ...(rec.kind === 'logs'
            ? { lines: rec.lines!, level: rec.level as NonNullable<DiagnosticsAsk['level']> }
            : {}),
          maxBytes: this.deps.maxBytes,
        },
        new Date(now.getTime() + this.deps.deadlineSeconds * 1000),
      );
      await tx.diagnostics.setCommand(rec.id, cmd.id);
      await audit(tx, who, rec.requestedAt, 'diagnostics.request', kioskId, {
        requestId: rec.id,
        kind: rec.kind,
        ...(rec.kind === 'logs' ? { lines: rec.lines, level: rec.level } : {}),
      });
      return { ...rec, commandId: cmd.id };
    });
  }

  /**
   * Kiosk `kioskId` uploads request `id`'s bytes. NOT_FOUND for another kiosk's request,
   * DIAGNOSTICS_CLOSED when it was uploaded or failed already, BODY_TOO_LARGE above the cap,
   * DIGEST_MISMATCH when the bytes do not hash to `sha256`.
   */
  async receiveUpload(
    kioskId: string,
    id: string,
    body: Buffer,
    sha256: string | undefined,
  ): Promise<DiagnosticsRecord> {
    if (body.length > this.deps.maxBytes)
      throw new HubError(
        'BODY_TOO_LARGE',
        `diagnostics uploads are capped at ${this.deps.maxBytes} bytes`,
        413,
      );
    const actual = createHash('sha256').update(body).digest('hex');
    if (!sha256 || sha256.toLowerCase() !== actual)
      throw new HubError(
        'DIGEST_MISMATCH',
        `x-content-sha256 ${sha256 ?? '(missing)'} does not match the body (${actual}); send it again`,
        400,
      );
    return this.deps.store.transaction(async (tx) => {
      const d = await tx.diagnostics.get(id);
      if (!d || d.kioskId !== kioskId)
        throw new NotFoundError(`no diagnostics request ${id} for this kiosk`);
      const at = this.now().toISOString();
      if (!(await tx.diagnostics.putUpload(id, { at, data: body, sha256: actual })))
        throw new ConflictError('DIAGNOSTICS_CLOSED', `diagnostics ${id} are ${d.state} already`);
      if (d.commandId)
        await this.deps.kiosks.settle(tx, d.commandId, 'completed', {
          kioskId,
          result: { requestId: id, bytes: body.length, sha256: actual },
        });
      await audit(tx, { actor: `kiosk:${kioskId}`, kioskId }, at, 'diagnostics.upload', kioskId, {
        requestId: id,
        bytes: body.length,
        sha256: actual,
      });
      return { ...d, state: 'uploaded', finishedAt: at, sizeBytes: body.length, sha256: actual };
    });
  }

  async get(id: string): Promise<DiagnosticsRecord> {
    const d = await this.deps.store.transaction((tx) => tx.diagnostics.get(id));
    if (!d) throw new NotFoundError(`no diagnostics ${id}`);
    return d;
  }

  list(kioskId: string, limit = 50): Promise<DiagnosticsRecord[]> {
    return this.deps.store.transaction((tx) => tx.diagnostics.listForKiosk(kioskId, limit));
  }

  /** The uploaded bytes, audited. DIAGNOSTICS_NOT_READY before the upload. */
  async download(id: string, who: Actor): Promise<{ record: DiagnosticsRecord; data: Buffer }> {
    return this.deps.store.transaction(async (tx) => {
      const d = await tx.diagnostics.get(id);
      if (!d) throw new NotFoundError(`no diagnostics ${id}`);
      const data = d.state === 'uploaded' ? await tx.diagnostics.data(id) : undefined;
      if (!data)
        throw new ConflictError(
          'DIAGNOSTICS_NOT_READY',
          `diagnostics ${id} are ${d.state}, not uploaded`,
        );
      await audit(tx, who, this.now().toISOString(), 'diagnostics.download', d.kioskId, {
        requestId: id,
        bytes: data.length,
        sha256: d.sha256,
      });
      return { record: d, data };
    });
  }
}

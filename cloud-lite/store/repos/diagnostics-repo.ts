export type DiagnosticsKind = 'bundle' | 'logs';
export type DiagnosticsState = 'requested' | 'uploaded' | 'failed';

/** One operator's request for a kiosk's diagnostics, and what came of it (the bytes apart). */
export interface DiagnosticsRecord {
  id: string;
  kioskId: string;
  kind: DiagnosticsKind;
  /** `logs`: lines asked for and the lowest level; null for a bundle. */
  lines: number | null;
  level: string | null;
  state: DiagnosticsState;
  /** The UploadDiagnostics command that asked the kiosk. */
  commandId: string | null;
  /** Audit actor of who asked (`user:<id>`, `admin-token`). */
  requestedBy: string;
  requestedAt: string;
  finishedAt: string | null;
  sizeBytes: number | null;
  /** Lower-case hex SHA-256 of the uploaded bytes. */
  sha256: string | null;
  /** Why it failed (the kiosk's code and reason, or the command's end). */
  failure: string | null;
}

/** Kiosk diagnostics requests and their uploaded bytes (kept in the store, so any hub process serves them). */
export interface DiagnosticsRepo {
  insert(rec: DiagnosticsRecord): Promise<void>;
  get(id: string): Promise<DiagnosticsRecord | undefined>;
  /** The newest first. */
  listForKiosk(kioskId: string, limit: number): Promise<DiagnosticsRecord[]>;
  setCommand(id: string, commandId: string): Promise<void>;
  /** Stores the upload and marks it uploaded, only from `requested`; false when it was not. */
  putUpload(id: string, u: { at: string; data: Buffer; sha256: string }): Promise<boolean>;
  /** Marks it failed, only from `requested`; false when it was not. */
  fail(id: string, at: string, failure: string): Promise<boolean>;
  /** The uploaded bytes, undefined before the upload. */
  data(id: string): Promise<Buffer | undefined>;
}

/** Error codes of the content cache. */
import { CodedError } from '../../common/coded-error.js';

export type ContentErrorCode =
  | 'EMANIFEST' // the manifest is malformed, hostile or its sizes do not add up
  | 'ESIGNATURE' // the manifest's signature does not verify with the hub key
  | 'EHASH' // a file's bytes do not match its SHA-256 (download or import)
  | 'EDOWNLOAD' // the content origin failed (HTTP status, connection) after every retry
  | 'ENOTCACHED' // the content is not (completely) in the cache
  | 'ENOSPACE' // the cache cannot fit the content, even after evicting everything unpinned
  | 'EABORTED'; // cancelled through the AbortSignal

export class ContentError extends CodedError<ContentErrorCode> {
  /** ManifestError too is named ContentError (what logs and callers have always seen). */
  override readonly name = 'ContentError';
}

/** A manifest was refused; `entry` names the offending file path or field. */
export class ManifestError extends ContentError {
  constructor(
    readonly entry: string,
    problem: string,
  ) {
    super('EMANIFEST', `manifest rejected: ${entry}: ${problem}; ask the hub to fix the package`);
  }
}

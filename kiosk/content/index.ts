/** The kiosk's content cache. */
export { BlobStore, hashFile } from './blob-store.js';
export {
  ContentCache,
  type ContentCacheDeps,
  type ContentCacheOptions,
  type EnsureOptions,
  type FetchProgress,
} from './content-cache.js';
export { ContentError, type ContentErrorCode, ManifestError } from './errors.js';
export {
  buildManifest,
  type ContentManifest,
  type ManifestFile,
  type SignedManifest,
  signManifest,
  validateManifest,
  verifySignedManifest,
} from './manifest.js';
export { checkPath, IDENTITY_DIR } from './paths.js';

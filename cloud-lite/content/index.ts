/** The hub's content origin: stored packages, import, catalog entry, CLI (its HTTP routes: cloud-lite/http/routes/content-routes.ts). */
export { registerImportedContent } from './catalog-entry.js';
export { ContentStoreError, HubContentStore, SHA256_HEX } from './content-store.js';
export {
  type ImportRequest,
  type ImportResult,
  importContentTree,
  storeBlob,
} from './import-tree.js';
export { parseRange, type RangeResult } from './range.js';

/** The cloning pipeline and the disk services kioskd composes. */
export {
  type CheckOutcome,
  createDiskCheckService,
  type DiskCheckDeps,
  DiskCheckService,
  type HealthCheck,
  smartctlHealth,
} from './disk-check.js';
export type { SlotDiskLocator } from './disk-records.js';
export { type DiskIdentity, IDENTITY_FILE, readIdentity } from './identity.js';
export {
  chooseClusterBytes,
  classFor,
  ImageStore,
  type ImageStoreOptions,
  type ReadyImage,
} from './image-store.js';
export { labelFor } from './label.js';
export {
  type CloneFinished,
  type CloneJob,
  ClonePipeline,
  type ClonePipelineDeps,
  type ClonePipelineOptions,
  type CloneResult,
} from './pipeline.js';
export {
  createPrepareHandler,
  PrepareHandler,
  type PrepareHandlerDeps,
} from './prepare-handler.js';
export {
  createPrestageService,
  type PrestageDeps,
  type PrestageEntry,
  PrestageService,
} from './prestage.js';
export { RSYNC_FLAGS } from './rsync-copy.js';
export * from './types.js';
export { type VerifyResult, verifyTree } from './verify.js';

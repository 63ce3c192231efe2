// @aerodb/core: the Phase-1 engine — schemas, the version store, indexes, the planner,
// configuration, boot and recovery.

export { AeroError, type ErrorCode, isAeroError, type Severity } from "@aerodb/base";
export { canonicalJson } from "./canonical-json.js";
export {
  type AeroConfig,
  type AeroConfigInput,
  CONFIG_CEILINGS,
  type PersistedConfig,
  persistedFields,
  resolveConfig,
} from "./config/config.js";
export {
  Database,
  type DatabaseStats,
  type DeleteRequest,
  type DeleteResult,
  type LifecycleState,
  type OpenOptions,
  open,
  type QueryRequest,
  type QueryResult,
  type WriteRequest,
  type WriteResult,
} from "./engine/database.js";
export { type InitOptions, initDataDir } from "./engine/init-data-dir.js";
export { type Layout, layoutOf } from "./engine/layout.js";
export {
  acquireLock,
  type HeldLock,
  type LockOwner,
  type ProcessProbe,
  realProcessProbe,
} from "./engine/lock.js";
export type {
  ArchiveControl,
  BackupArchivePhase,
  BackupResult,
  CheckpointResult,
  MaintenanceContext,
  MaintenanceProvider,
} from "./engine/maintenance.js";
export type { RecoveryReport } from "./engine/recovery.js";
export {
  checkNoInterruptedRestore,
  RESTORE_OLD_SUFFIX,
  RESTORE_TMP_SUFFIX,
} from "./engine/restore-guard.js";
export { schemaFileBytes } from "./engine/schema-files.js";
export { openSealedJson, sealJson } from "./engine/sealed-json.js";
export { readManifest, readState, type StateFile, writeState } from "./engine/state-file.js";
export {
  handleRequest,
  parseRequestLine,
  type Response,
  serializeResponse,
} from "./envelope/handle-request.js";
export type { QueryPlan } from "./query/types.js";
export { parseSchemaDefinition } from "./schema/definition.js";
export type { DocId, FieldNode, FieldType, ItemNode, ScalarValue, SchemaDefinition } from "./schema/types.js";
export * from "./snapshot-format/index.js";

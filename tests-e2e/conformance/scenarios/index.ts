/** Every Phase-1 conformance scenario (core.md §13), in spec order. */
import { backupRestoreScenarios } from "./backup-restore.js";
import type { Scenario } from "./context.js";
import { persistenceScenarios } from "./persistence.js";
import { processScenarios } from "./process.js";
import { queryScenarios } from "./query.js";
import { schemaScenarios } from "./schema.js";
import { storageScenarios } from "./storage.js";
import { walScenarios } from "./wal.js";
import { writeScenarios } from "./writes.js";

export type { Scenario } from "./context.js";
export { ScenarioContext } from "./context.js";

export const scenarios: readonly Scenario[] = [
  ...walScenarios,
  ...storageScenarios,
  ...schemaScenarios,
  ...writeScenarios,
  ...queryScenarios,
  ...persistenceScenarios,
  ...backupRestoreScenarios,
  ...processScenarios,
];

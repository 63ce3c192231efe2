// @aerodb/cli: the composition root and the `aerodb` binary (bin.js). The programmatic
// pieces are exported for embedding and tests: runCli runs one command line against
// injectable standard streams.
export { COMMON_OPTIONS, type OptionSpec, type ParsedArgs, parseCommandArgs } from "./args.js";
export { runCli } from "./cli.js";
export { type BackupValues, runBackup } from "./commands/backup.js";
export { runCheckpointCommand } from "./commands/checkpoint.js";
export { runInit } from "./commands/init.js";
export { type RestoreValues, runRestore } from "./commands/restore.js";
export { runSchemaAdd, type SchemaAddValues } from "./commands/schema-add.js";
export { maxRequestLineBytes, runStart } from "./commands/start.js";
export { runStats } from "./commands/stats.js";
export {
  type BackupVerifyReport,
  runVerify,
  type VerifyProblem,
  type VerifyReport,
  type VerifyValues,
  verifyDataDir,
} from "./commands/verify.js";
export { type ConfigSources, DEFAULT_CONFIG_FILE, loadConfig, readConfigInput } from "./config-loading.js";
export { type InputItem, LineQueue, type LineQueueOptions, LineSplitter } from "./line-reader.js";
export { type CliIo, EXIT_ERROR, EXIT_OK, EXIT_USAGE } from "./output.js";
export { PROGRESS_MIN_BYTES, stderrProgress } from "./progress-bar.js";
export { commandFileSystem } from "./runtime.js";

// @aerodb/base: the seams every AeroDB package shares.
export { AeroError, type ErrorDetails, isAeroError, isFatal } from "./errors/aero-error.js";
export {
  ERROR_REGISTRY,
  type ErrorCode,
  type ErrorSpec,
  isErrorCode,
  type Severity,
} from "./errors/registry.js";
export { DelegatingFileSystem, delegatingHandle } from "./fs/delegating-fs.js";
export {
  ensureDir,
  readFileIfExists,
  removeTree,
  writeFileAtomic,
  writeFileExclusive,
  writeFully,
  writeFullySync,
  writeNewFileSynced,
} from "./fs/durable-files.js";
export { compareCodeUnits, NodeFileSystem } from "./fs/node-fs.js";
export {
  CRASH_BOUNDARY_OPS,
  type CrashFate,
  type FaultKind,
  type FaultRule,
  isSimulatedCrash,
  SimFileSystem,
  type SimFileSystemOptions,
  type SimOp,
  SimulatedCrash,
} from "./fs/sim-fs.js";
export type { FileHandle, FileStat, FileSystem, FsError, OpenMode, OpenOptions } from "./fs/types.js";
export { isFsError } from "./fs/types.js";
export {
  guardProgress,
  NO_PROGRESS,
  type ProgressSink,
  type ProgressUnit,
} from "./progress/progress-sink.js";
export { SeededRandom } from "./random/seeded-random.js";
export { CrashPointFileSystem, crashPoint, crashPointArmed } from "./testing/crash-points.js";
export { dumpTree } from "./testing/dump-tree.js";
export { progressRecorder, type RecordedPhase, THROWING_PROGRESS } from "./testing/progress-recorder.js";
export { runsMultiplier, seededProperty, seedList, withSeed } from "./testing/seeds.js";

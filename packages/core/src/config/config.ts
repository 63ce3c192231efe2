import * as nodePath from "node:path";
import { AeroError } from "@aerodb/base";
import { z } from "zod";

/**
 * Configuration (core.md §8, ARCHITECTURE §8): validated with zod, defaulted, frozen
 * before any data is touched. Unknown keys are refused; nothing can turn off fsync,
 * checksums or validation. `data_dir` and `wal_sync_mode` define the data and are
 * persisted in metadata/state.json on first start.
 */
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Hard ceilings above which a value is refused as unsafe (it would unbound work or memory). */
export const CONFIG_CEILINGS = {
  wal_segment_bytes: GiB,
  max_document_bytes: 16 * MiB,
  max_query_limit: 100_000,
  max_scan_candidates: 10_000_000,
} as const;

const positiveInt = z.number().int().min(1);

const coreSection = z.strictObject({
  data_dir: z.string().min(1),
  wal_sync_mode: z.string().default("fsync"),
  wal_segment_bytes: z
    .number()
    .int()
    .min(64 * KiB)
    .default(64 * MiB),
  max_document_bytes: positiveInt.default(MiB),
  max_query_limit: positiveInt.default(1000),
  max_scan_candidates: positiveInt.default(100_000),
});

const perfSection = z.strictObject({
  group_commit: z.boolean().default(false),
  wal_batching: z.boolean().default(false),
  read_cache: z.boolean().default(false),
  index_acceleration: z.boolean().default(false),
  checkpoint_pipelining: z.boolean().default(false),
  replica_fast_read: z.boolean().default(false),
  memory_layout: z.boolean().default(false),
});

const configSchema = z.strictObject({
  core: coreSection,
  // Sections of later phases: present now so that a config file is stable across
  // releases; each accepts only the keys its phase has defined (none yet).
  replication: z.strictObject({}).default({}),
  perf: perfSection.default(perfSection.parse({})),
  observe: z.strictObject({}).default({}),
});

export type AeroConfig = Readonly<{
  core: Readonly<z.infer<typeof coreSection>>;
  replication: Readonly<Record<string, never>>;
  perf: Readonly<z.infer<typeof perfSection>>;
  observe: Readonly<Record<string, never>>;
}>;

export type AeroConfigInput = z.input<typeof configSchema>;

/** The fields stored in metadata/state.json; a later start with other values is refused. */
export interface PersistedConfig {
  readonly data_dir: string;
  readonly wal_sync_mode: string;
}

/**
 * Validates, defaults, resolves `data_dir` against `cwd` and deep-freezes. Throws
 * AERO_CONFIG_INVALID (shape, types, ranges, unknown keys) or AERO_CONFIG_UNSAFE.
 */
export function resolveConfig(input: unknown, cwd: string = process.cwd()): AeroConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map(String).join(".") : "";
    const keys = issue && issue.code === "unrecognized_keys" ? issue.keys : undefined;
    throw new AeroError("AERO_CONFIG_INVALID", `The configuration is invalid at '${path || "(root)"}'.`, {
      path,
      reason: issue?.code ?? "invalid",
      ...(keys ? { keys: [...keys].sort() } : {}),
    });
  }
  const config = parsed.data;
  if (config.core.wal_sync_mode !== "fsync") {
    throw new AeroError(
      "AERO_CONFIG_UNSAFE",
      'core.wal_sync_mode must be "fsync": durability cannot be relaxed.',
      {
        path: "core.wal_sync_mode",
        value: config.core.wal_sync_mode,
      },
    );
  }
  for (const [key, ceiling] of Object.entries(CONFIG_CEILINGS)) {
    const value = config.core[key as keyof typeof CONFIG_CEILINGS];
    if (value > ceiling) {
      throw new AeroError("AERO_CONFIG_UNSAFE", `core.${key} exceeds its safe ceiling.`, {
        path: `core.${key}`,
        value,
        ceiling,
      });
    }
  }
  config.core.data_dir = nodePath.resolve(cwd, config.core.data_dir);
  return deepFreeze(config) as AeroConfig;
}

export function persistedFields(config: AeroConfig): PersistedConfig {
  return { data_dir: config.core.data_dir, wal_sync_mode: config.core.wal_sync_mode };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

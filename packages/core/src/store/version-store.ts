import { AeroError, compareCodeUnits } from "@aerodb/base";
import type { FrameLocation, FrameReader } from "@aerodb/wal";
import type { IndexedValues } from "../index/indexed-values.js";
import { compareIds } from "../index/scalar-order.js";
import type { DocId } from "../schema/types.js";
import { SNAPSHOT_PAYLOAD_PREFIX_BYTES } from "../snapshot-format/format.js";
import { bodyRange, decodeVersion, type VersionRecord } from "./version-codec.js";

/**
 * One installed version: where its bytes live, never the bytes themselves. The version is its
 * own frame location (one object per version instead of two: a store holds one per document).
 */
export class StoredVersion implements FrameLocation {
  readonly segment: string;
  readonly file?: string;
  readonly offset: number;
  readonly size: number;

  constructor(
    readonly commitId: number,
    readonly schemaVersion: string,
    readonly tombstone: boolean,
    location: FrameLocation,
    /**
     * The live version's index values (taken from its body when it was installed), so that
     * replacing it needs no re-read; null for tombstones and superseded versions. Memory only.
     */
    public indexValues: IndexedValues | null,
  ) {
    this.segment = location.segment;
    if (location.file !== undefined) this.file = location.file;
    this.offset = location.offset;
    this.size = location.size;
  }

  /** Where the version's frame is (the version itself). */
  get location(): FrameLocation {
    return this;
  }
}

/** One key's chain, as the snapshot order visits it. */
export interface KeyChain {
  readonly schemaId: string;
  readonly id: DocId;
  readonly chain: readonly StoredVersion[];
}

/**
 * The version store (core §2) in its log-structured form: every version's bytes live in
 * exactly one WAL frame (written once, on the commit path) or, after a checkpoint, in the
 * checkpoint snapshot's versions file (a `file` location, docs/formats/snapshot.md); the
 * store holds each key's chain of versions in commit order with their frame locations.
 * Reads go to the frame and verify its CRC every time, so only verified bytes are returned
 * (CORE-D-1).
 */
export class VersionStore {
  /**
   * schema_id -> _id -> the key's version, or its chain in commit order once it has several
   * (most keys have one: no array for them). Keyed by the _id value itself: 1 and "1" differ.
   */
  private readonly chains = new Map<string, Map<DocId, StoredVersion | StoredVersion[]>>();
  private versions = 0;
  private live = 0;

  constructor(private readonly reader: FrameReader) {}

  /** Appends a version to its key's chain; returns the version it supersedes, if any. */
  install(schemaId: string, id: DocId, version: StoredVersion): StoredVersion | undefined {
    let bySchema = this.chains.get(schemaId);
    if (!bySchema) {
      bySchema = new Map();
      this.chains.set(schemaId, bySchema);
    }
    const entry = bySchema.get(id);
    const previous = entry === undefined ? undefined : Array.isArray(entry) ? entry[entry.length - 1] : entry;
    if (previous && previous.commitId >= version.commitId) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A version was installed out of commit order.", {
        previous_commit_id: previous.commitId,
        commit_id: version.commitId,
      });
    }
    if (entry === undefined) bySchema.set(id, version);
    else if (Array.isArray(entry)) entry.push(version);
    else bySchema.set(id, [entry, version]);
    this.versions++;
    const wasLive = previous !== undefined && !previous.tombstone;
    if (wasLive && version.tombstone) this.live--;
    if (!wasLive && !version.tombstone) this.live++;
    return previous;
  }

  /** The newest version of a key (the visible one at V in Phase 1), tombstones included. */
  latest(schemaId: string, id: DocId): StoredVersion | undefined {
    const entry = this.chains.get(schemaId)?.get(id);
    return Array.isArray(entry) ? entry[entry.length - 1] : entry;
  }

  /** The version visible at read view `readView`: greatest commit id <= readView. */
  visibleAt(schemaId: string, id: DocId, readView: number): StoredVersion | undefined {
    const entry = this.chains.get(schemaId)?.get(id);
    if (entry === undefined) return undefined;
    const chain = Array.isArray(entry) ? entry : [entry];
    for (let i = chain.length - 1; i >= 0; i--) {
      const v = chain[i] as StoredVersion;
      if (v.commitId <= readView) return v;
    }
    return undefined;
  }

  /** Reads and verifies a version's record from its frame. */
  read(version: StoredVersion): VersionRecord {
    return decodeVersion(versionPayload(version.location, this.reader.readSync(version.location).payload));
  }

  /** Reads a live version's document (parsed from verified bytes). */
  readDocument(version: StoredVersion): Record<string, unknown> {
    const payload = versionPayload(version.location, this.reader.readSharedSync(version.location).payload);
    const { start, end } = bodyRange(payload);
    // readSharedSync hands out Buffer views: decode the body in place, without a copy.
    const text = Buffer.isBuffer(payload)
      ? payload.toString("utf8", start, end)
      : Buffer.from(payload.buffer, payload.byteOffset + start, end - start).toString("utf8");
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new AeroError("AERO_DATA_CORRUPTION", "A stored document is not valid JSON.", {
        segment: version.location.segment,
        offset: version.location.offset,
        reason: "body",
      });
    }
  }

  /** Every key's newest version, in no particular order (recovery's index rebuild). */
  *latestVersions(): Generator<{ schemaId: string; id: DocId; version: StoredVersion }> {
    for (const [schemaId, bySchema] of this.chains) {
      for (const [id, entry] of bySchema) {
        yield {
          schemaId,
          id,
          version: Array.isArray(entry) ? (entry[entry.length - 1] as StoredVersion) : entry,
        };
      }
    }
  }

  /**
   * Every key with its chain in snapshot order: schema_id by UTF-16 code unit, then _id in
   * index order (integers before strings). Chains are in commit order.
   */
  *keysInOrder(): Generator<KeyChain> {
    for (const schemaId of [...this.chains.keys()].sort(compareCodeUnits)) {
      const bySchema = this.chains.get(schemaId) as Map<DocId, StoredVersion | StoredVersion[]>;
      for (const id of [...bySchema.keys()].sort(compareIds)) {
        const entry = bySchema.get(id) as StoredVersion | StoredVersion[];
        yield { schemaId, id, chain: Array.isArray(entry) ? entry : [entry] };
      }
    }
  }

  /**
   * The layout a snapshot at `commitBoundary` gives the store's versions: how many frames
   * and how many bytes its versions file holds (each version's frame is its WAL frame plus
   * the u64 commit-id prefix, or its current snapshot frame).
   */
  snapshotLayout(commitBoundary: number): { count: number; bytes: number } {
    let count = 0;
    let bytes = 0;
    for (const { chain } of this.keysInOrder()) {
      for (const v of chain) {
        if (v.commitId > commitBoundary) break;
        count++;
        bytes += snapshotFrameSize(v.location);
      }
    }
    return { count, bytes };
  }

  /**
   * Points every version <= commitBoundary at its frame in the snapshot versions file
   * `file` (relative to the data directory), in one synchronous pass: the frames follow
   * each other in snapshot order, so each offset is the sum of the sizes before it.
   */
  relocateToSnapshot(commitBoundary: number, file: string): { count: number; bytes: number } {
    let offset = 0;
    let count = 0;
    for (const { schemaId, id, chain } of this.keysInOrder()) {
      const moved = chain.map((v) => {
        if (v.commitId > commitBoundary) return v;
        const size = snapshotFrameSize(v.location);
        const at = offset;
        offset += size;
        count++;
        return new StoredVersion(
          v.commitId,
          v.schemaVersion,
          v.tombstone,
          { segment: file, file, offset: at, size },
          v.indexValues,
        );
      });
      const bySchema = this.chains.get(schemaId) as Map<DocId, StoredVersion | StoredVersion[]>;
      bySchema.set(id, moved.length === 1 ? (moved[0] as StoredVersion) : moved);
    }
    return { count, bytes: offset };
  }

  get versionCount(): number {
    return this.versions;
  }

  get liveCount(): number {
    return this.live;
  }
}

/** The VERSION payload inside a frame's payload: snapshot frames carry a commit-id prefix. */
export function versionPayload(location: FrameLocation, framePayload: Uint8Array): Uint8Array {
  return location.file === undefined ? framePayload : framePayload.subarray(SNAPSHOT_PAYLOAD_PREFIX_BYTES);
}

function snapshotFrameSize(location: FrameLocation): number {
  return location.file === undefined ? location.size + SNAPSHOT_PAYLOAD_PREFIX_BYTES : location.size;
}

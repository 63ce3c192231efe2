import { AeroError, compareCodeUnits } from "@aerodb/base";
import type { FrameLocation, FrameReader } from "@aerodb/wal";
import type { IndexedValues } from "../index/indexed-values.js";
import { compareIds } from "../index/scalar-order.js";
import type { DocId } from "../schema/types.js";
import { SNAPSHOT_PAYLOAD_PREFIX_BYTES } from "../snapshot-format/format.js";
import { bodyRange, decodeVersion, type VersionRecord } from "./version-codec.js";

/** One installed version: where its bytes live, never the bytes themselves. */
export interface StoredVersion {
  readonly commitId: number;
  readonly schemaVersion: string;
  readonly tombstone: boolean;
  readonly location: FrameLocation;
  /**
   * The live version's index values (taken from its body when it was installed), so that
   * replacing it needs no re-read; null for tombstones and superseded versions. Memory only.
   */
  indexValues: IndexedValues | null;
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
  /** schema_id -> _id -> chain. Keyed by the _id value itself: 1 and "1" are different keys. */
  private readonly chains = new Map<string, Map<DocId, StoredVersion[]>>();
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
    let chain = bySchema.get(id);
    if (!chain) {
      chain = [];
      bySchema.set(id, chain);
    }
    const previous = chain[chain.length - 1];
    if (previous && previous.commitId >= version.commitId) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A version was installed out of commit order.", {
        previous_commit_id: previous.commitId,
        commit_id: version.commitId,
      });
    }
    chain.push(version);
    this.versions++;
    const wasLive = previous !== undefined && !previous.tombstone;
    if (wasLive && version.tombstone) this.live--;
    if (!wasLive && !version.tombstone) this.live++;
    return previous;
  }

  /** The newest version of a key (the visible one at V in Phase 1), tombstones included. */
  latest(schemaId: string, id: DocId): StoredVersion | undefined {
    const chain = this.chains.get(schemaId)?.get(id);
    return chain?.[chain.length - 1];
  }

  /** The version visible at read view `readView`: greatest commit id <= readView. */
  visibleAt(schemaId: string, id: DocId, readView: number): StoredVersion | undefined {
    const chain = this.chains.get(schemaId)?.get(id);
    if (!chain) return undefined;
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
      for (const [id, chain] of bySchema) {
        yield { schemaId, id, version: chain[chain.length - 1] as StoredVersion };
      }
    }
  }

  /**
   * Every key with its chain in snapshot order: schema_id by UTF-16 code unit, then _id in
   * index order (integers before strings). Chains are in commit order.
   */
  *keysInOrder(): Generator<KeyChain> {
    for (const schemaId of [...this.chains.keys()].sort(compareCodeUnits)) {
      const bySchema = this.chains.get(schemaId) as Map<DocId, StoredVersion[]>;
      for (const id of [...bySchema.keys()].sort(compareIds)) {
        yield { schemaId, id, chain: bySchema.get(id) as StoredVersion[] };
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
    for (const { chain } of this.keysInOrder()) {
      const mutable = chain as StoredVersion[];
      for (let i = 0; i < mutable.length; i++) {
        const v = mutable[i] as StoredVersion;
        if (v.commitId > commitBoundary) break;
        const size = snapshotFrameSize(v.location);
        mutable[i] = {
          commitId: v.commitId,
          schemaVersion: v.schemaVersion,
          tombstone: v.tombstone,
          location: { segment: file, file, offset, size },
          indexValues: v.indexValues,
        };
        offset += size;
        count++;
      }
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

import { AeroError } from "@aerodb/base";
import type { FrameLocation, FrameReader } from "@aerodb/wal";
import type { DocId } from "../schema/types.js";
import { bodyRange, decodeVersion, type VersionRecord } from "./version-codec.js";

/** One installed version: where its bytes live, never the bytes themselves. */
export interface StoredVersion {
  readonly commitId: number;
  readonly schemaVersion: string;
  readonly tombstone: boolean;
  readonly location: FrameLocation;
}

/**
 * The version store (core §2) in its log-structured form: every version's bytes live in
 * exactly one WAL frame (written once, on the commit path); the store holds each key's
 * chain of versions in commit order with their frame locations. Reads go to the frame and
 * verify its CRC every time, so only verified bytes are returned (CORE-D-1).
 */
export class VersionStore {
  /** schema_id -> _id -> chain. Keyed by the _id value itself: 1 and "1" are different keys. */
  private readonly chains = new Map<string, Map<DocId, StoredVersion[]>>();
  private versions = 0;
  private live = 0;

  constructor(private readonly reader: FrameReader) {}

  install(schemaId: string, id: DocId, version: StoredVersion): void {
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
    return decodeVersion(this.reader.readSync(version.location).payload);
  }

  /** Reads a live version's document (parsed from verified bytes). */
  readDocument(version: StoredVersion): Record<string, unknown> {
    const payload = this.reader.readSharedSync(version.location).payload;
    const { start, end } = bodyRange(payload);
    const bytes = Buffer.from(payload.buffer, payload.byteOffset + start, end - start);
    try {
      return JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw new AeroError("AERO_DATA_CORRUPTION", "A stored document is not valid JSON.", {
        segment: version.location.segment,
        offset: version.location.offset,
        reason: "body",
      });
    }
  }

  get versionCount(): number {
    return this.versions;
  }

  get liveCount(): number {
    return this.live;
  }
}

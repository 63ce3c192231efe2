import * as posixPath from "node:path/posix";
import { AeroError, type FileHandle, type FileSystem } from "@aerodb/base";
import { crc32 } from "../format/crc.js";
import { type DecodedFrame, decodeFrame, isFrame } from "../format/frame.js";
import type { FrameLocation } from "./scan-types.js";

/**
 * Random access to frames by location, verified on every read (CORE-D-1). Reads are
 * synchronous: a point read that hits the page cache must not pay a thread-pool hop.
 * Segment handles are opened ahead of time (at recovery and when the writer rolls).
 */
export class FrameReader {
  private readonly handles = new Map<string, FileHandle>();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {}

  async openSegment(name: string): Promise<void> {
    if (this.handles.has(name)) return;
    this.handles.set(name, await this.fs.open(posixPath.join(this.dir, name), "r"));
  }

  async closeSegment(name: string): Promise<void> {
    const handle = this.handles.get(name);
    this.handles.delete(name);
    await handle?.close();
  }

  async closeAll(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  }

  private scratch = new Uint8Array(4096);

  /** Reads and verifies one frame; damage is AERO_DATA_CORRUPTION naming the location. */
  readSync(location: FrameLocation): DecodedFrame {
    return this.readInto(location, new Uint8Array(location.size));
  }

  /**
   * Like readSync, but into a buffer the reader reuses: the returned frame's payload is valid
   * only until the next read. For hot read paths that decode the payload at once.
   */
  readSharedSync(location: FrameLocation): DecodedFrame {
    if (this.scratch.length < location.size) {
      this.scratch = new Uint8Array(Math.max(location.size, this.scratch.length * 2));
    }
    return this.readInto(location, this.scratch);
  }

  private readInto(location: FrameLocation, target: Uint8Array): DecodedFrame {
    const handle = this.handles.get(location.segment);
    if (!handle) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A read addressed a segment that is not open.", {
        segment: location.segment,
      });
    }
    const buf = target.length === location.size ? target : target.subarray(0, location.size);
    let got: number;
    try {
      got = handle.readSync(buf, 0, location.size, location.offset);
    } catch (err) {
      const errno = (err as { code?: unknown })?.code;
      throw new AeroError(
        "AERO_STORAGE_READ_FAILED",
        "Reading a stored record failed.",
        {
          segment: location.segment,
          offset: location.offset,
          errno: typeof errno === "string" ? errno : "unknown",
        },
        { cause: err },
      );
    }
    const frame = got === location.size ? decodeFrame(buf, 0) : "short";
    if (!isFrame(frame) || frame.size !== location.size) {
      const found = got >= 4 ? new DataView(buf.buffer).getUint32(Math.max(0, got - 4), true) : null;
      throw new AeroError("AERO_DATA_CORRUPTION", "A stored record failed its checksum.", {
        segment: location.segment,
        offset: location.offset,
        reason: isFrame(frame) ? "length" : frame,
        expected_crc: got >= 4 ? crc32(buf, 0, got - 4) : null,
        found_crc: found,
      });
    }
    return frame;
  }
}

import * as posixPath from "node:path/posix";
import { AeroError, type FileHandle, type FileSystem } from "@aerodb/base";
import { crc32 } from "../format/crc.js";
import { type DecodedFrame, decodeFrame, isFrame } from "../format/frame.js";
import type { FrameLocation } from "./scan-types.js";

/**
 * Random access to frames by location, verified on every read (CORE-D-1). Reads are
 * synchronous: a point read that hits the page cache must not pay a thread-pool hop.
 * Segment handles are opened ahead of time (at recovery and when the writer rolls).
 *
 * A location with `file` set names a frame outside wal/ (a checkpoint snapshot's versions
 * file, written in the WAL frame format): its path is relative to the data directory
 * (`root`, by default the WAL directory's parent) and its handle is opened with openFile.
 */
export class FrameReader {
  private readonly handles = new Map<string, FileHandle>();
  private readonly files = new Map<string, FileHandle>();
  private readonly root: string;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    root?: string,
  ) {
    this.root = root ?? posixPath.dirname(dir);
  }

  async openSegment(name: string): Promise<void> {
    if (this.handles.has(name)) return;
    this.handles.set(name, await this.fs.open(posixPath.join(this.dir, name), "r"));
  }

  async closeSegment(name: string): Promise<void> {
    const handle = this.handles.get(name);
    this.handles.delete(name);
    await handle?.close();
  }

  /** Opens a file outside wal/ for `file` locations; `file` is relative to the data directory. */
  async openFile(file: string): Promise<void> {
    if (this.files.has(file)) return;
    this.files.set(file, await this.fs.open(posixPath.join(this.root, file), "r"));
  }

  async closeFile(file: string): Promise<void> {
    const handle = this.files.get(file);
    this.files.delete(file);
    await handle?.close();
  }

  /** The files outside wal/ that are open, sorted. */
  openFiles(): string[] {
    return [...this.files.keys()].sort();
  }

  async closeAll(): Promise<void> {
    const handles = [...this.handles.values(), ...this.files.values()];
    this.handles.clear();
    this.files.clear();
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  }

  /** A Buffer, so that payloads read into it are Buffers too: callers decode text in place. */
  private scratch: Uint8Array = Buffer.alloc(4096);

  /** Reads and verifies one frame; damage is AERO_DATA_CORRUPTION naming the location. */
  readSync(location: FrameLocation): DecodedFrame {
    return this.readInto(location, new Uint8Array(location.size));
  }

  /**
   * Like readSync, but into a buffer the reader reuses: the returned frame's payload is valid
   * only until the next read, and it is a Buffer. For hot read paths that decode it at once.
   */
  readSharedSync(location: FrameLocation): DecodedFrame {
    if (this.scratch.length < location.size) {
      this.scratch = Buffer.alloc(Math.max(location.size, this.scratch.length * 2));
    }
    return this.readInto(location, this.scratch);
  }

  private readInto(location: FrameLocation, target: Uint8Array): DecodedFrame {
    const handle =
      location.file === undefined ? this.handles.get(location.segment) : this.files.get(location.file);
    if (!handle) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A read addressed a segment that is not open.", {
        ...where(location),
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
          ...where(location),
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
        ...where(location),
        offset: location.offset,
        reason: isFrame(frame) ? "length" : frame,
        expected_crc: got >= 4 ? crc32(buf, 0, got - 4) : null,
        found_crc: found,
      });
    }
    return frame;
  }
}

/** How errors name a location: the segment, or the file for a frame outside wal/. */
function where(location: FrameLocation): { segment: string } | { file: string } {
  return location.file === undefined ? { segment: location.segment } : { file: location.file };
}

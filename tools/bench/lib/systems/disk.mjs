// The disk's limits, measured with the same process kind as the databases (Node, fs module):
//   1  append 128 B + fdatasyncSync per record (and, beside it, overwrite in place of a
//      preallocated, zero-filled, fsynced file + fdatasyncSync; and the async overwrite ceiling:
//      the I/O of AeroDB's baseline commit, 3 writeSync of its WAL frames' sizes in place + an
//      awaited fs.fdatasync callback, so the event loop is not blocked while the disk flushes)
//   2  a minimal group commit over one file: 64 writers, one write + one fdatasync per group; the
//      next group starts one microtask after the previous one completes (arrival-based, no timer)
//   3  sequential write bandwidth: 1 MiB writes + one fdatasync at the end, expressed as documents/s
//      (bytes/s divided by the mean document size)
//   4  the floor of a point read from the file: the documents as checksummed frames in one file,
//      per read a readSync of the frame, zlib.crc32 of it, toString and JSON.parse (no lookup)
//   6  the naive parse floor of the restart target: readFileSync of the documents as JSON lines,
//      JSON.parse of each, a Map by _id and a sorted (age, _id) array (run-one.mjs times it); and
//      beside it the verify floor: the same documents as AeroDB's WAL frames, readFileSync and
//      the CRC-32 of every frame checked, nothing else
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { crc32 } from "@aerodb/wal";
import { docOf, idOf, median } from "../common.mjs";

export function versions() {
  return {
    package: "node:fs",
    engine: `Node ${process.version} fs (writeSync/fdatasyncSync/fdatasync; readSync + zlib.crc32 + JSON.parse for 4; readFileSync + JSON.parse, and readFileSync + zlib.crc32, for 6)`,
  };
}

export const MEAN_DOC_BYTES = (() => {
  let n = 0;
  for (let i = 0; i < 1000; i++) n += Buffer.byteLength(JSON.stringify(docOf(i * 197)));
  return n / 1000;
})();

const now = () => process.hrtime.bigint();
const secs = (t0) => Number(now() - t0) / 1e9;

export function appendSync(dir, ops, recordBytes) {
  const fd = fs.openSync(path.join(dir, "append.log"), "a");
  const rec = Buffer.alloc(recordBytes, 0x61);
  const t0 = now();
  for (let i = 0; i < ops; i++) {
    fs.writeSync(fd, rec);
    fs.fdatasyncSync(fd);
  }
  const s = secs(t0);
  fs.closeSync(fd);
  return { seconds: s, ops, fsyncs: ops };
}

export function overwriteSync(dir, ops, recordBytes) {
  const file = path.join(dir, "prealloc.log");
  const fd = fs.openSync(file, "w+");
  const zeros = Buffer.alloc(1024 * 1024);
  const total = ops * recordBytes;
  for (let off = 0; off < total; off += zeros.length) {
    fs.writeSync(fd, zeros, 0, Math.min(zeros.length, total - off), off);
  }
  fs.fsyncSync(fd);
  const rec = Buffer.alloc(recordBytes, 0x62);
  const t0 = now();
  for (let i = 0; i < ops; i++) {
    fs.writeSync(fd, rec, 0, recordBytes, i * recordBytes);
    fs.fdatasyncSync(fd);
  }
  const s = secs(t0);
  fs.closeSync(fd);
  return { seconds: s, ops, fsyncs: ops };
}

// AeroDB's measured WAL bytes per commit of one insert (workload 1): 275 bytes in 3 write calls,
// BEGIN + one VERSION frame + COMMIT; see docs/benchmarks.md, "AeroDB's write path".
export const AERODB_BEGIN_FRAME_BYTES = 25;
export const AERODB_VERSION_FRAME_BYTES = 229;
export const AERODB_COMMIT_FRAME_BYTES = 21;
export const AERODB_COMMIT_FRAMES = [
  AERODB_BEGIN_FRAME_BYTES,
  AERODB_VERSION_FRAME_BYTES,
  AERODB_COMMIT_FRAME_BYTES,
];
export const AERODB_COMMIT_BYTES = AERODB_COMMIT_FRAMES.reduce((a, b) => a + b, 0); // 275

/**
 * The async overwrite ceiling: what AeroDB's baseline commit must do on the disk, without the
 * database work and without blocking the event loop. Per commit, 3 writeSync calls of the sizes
 * of AeroDB's WAL frames in place on a preallocated, zero-filled, fsynced file, then
 * fs.fdatasync (thread pool) awaited through its callback; commits one after the other.
 */
export async function overwriteAsync(dir, ops) {
  const file = path.join(dir, "prealloc-async.log");
  const fd = fs.openSync(file, "w+");
  const zeros = Buffer.alloc(1024 * 1024);
  const total = ops * AERODB_COMMIT_BYTES;
  for (let off = 0; off < total; off += zeros.length) {
    fs.writeSync(fd, zeros, 0, Math.min(zeros.length, total - off), off);
  }
  fs.fsyncSync(fd);
  const frames = AERODB_COMMIT_FRAMES.map((n) => Buffer.alloc(n, 0x65));
  const fdatasync = () =>
    new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  let pos = 0;
  const t0 = now();
  for (let i = 0; i < ops; i++) {
    for (const frame of frames) {
      fs.writeSync(fd, frame, 0, frame.length, pos);
      pos += frame.length;
    }
    await fdatasync();
  }
  const s = secs(t0);
  fs.closeSync(fd);
  return { seconds: s, ops, fsyncs: ops, bytes_per_op: AERODB_COMMIT_BYTES, writes_per_op: frames.length };
}

export async function groupCommit(dir, writers, perWriter, recordBytes) {
  const fd = fs.openSync(path.join(dir, "group.log"), "a");
  let pending = [];
  let flushing = false;
  let scheduled = false;
  let fsyncs = 0;
  const schedule = () => {
    if (!flushing && !scheduled && pending.length > 0) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
  function flush() {
    scheduled = false;
    if (flushing || pending.length === 0) return;
    flushing = true;
    const group = pending;
    pending = [];
    const data = group.length === 1 ? group[0].rec : Buffer.concat(group.map((g) => g.rec));
    try {
      fs.writeSync(fd, data);
    } catch (err) {
      for (const g of group) g.reject(err);
      flushing = false;
      return;
    }
    fs.fdatasync(fd, (err) => {
      fsyncs++;
      flushing = false;
      for (const g of group) err ? g.reject(err) : g.resolve();
      // The writers woken above append during the next microtasks; start the next group after them.
      schedule();
    });
  }
  const append = (rec) =>
    new Promise((resolve, reject) => {
      pending.push({ rec, resolve, reject });
      schedule();
    });
  const rec = Buffer.alloc(recordBytes, 0x63);
  const writer = async () => {
    for (let k = 0; k < perWriter; k++) await append(rec);
  };
  const t0 = now();
  await Promise.all(Array.from({ length: writers }, writer));
  const s = secs(t0);
  fs.closeSync(fd);
  const ops = writers * perWriter;
  return { seconds: s, ops, fsyncs };
}

export function sequentialBandwidth(dir, bytes) {
  const fd = fs.openSync(path.join(dir, "seq.bin"), "w");
  const chunk = Buffer.alloc(1024 * 1024, 0x64);
  const t0 = now();
  for (let off = 0; off < bytes; off += chunk.length)
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - off));
  fs.fdatasyncSync(fd);
  const s = secs(t0);
  fs.closeSync(fd);
  return { seconds: s, bytes };
}

/**
 * Workload 4's floor: what a point read costs that fetches the document's bytes from its file
 * and verifies them, with nothing of a database around it. The documents as frames
 * (u32 length | JSON | u32 CRC-32 of the JSON) in one file, written untimed; their offsets in
 * an array by document number, so that no lookup structure is timed. Per read: readSync of the
 * frame at its offset, zlib.crc32 of the JSON bytes against the frame's, toString, JSON.parse.
 * Warmed like the databases (every frame read once in order), then `reads` reads of the
 * documents `pick()` names.
 */
export function readFloor(dir, docs, reads, pick) {
  const file = path.join(dir, "frames.bin");
  const fd = fs.openSync(file, "w+");
  const offsets = new Float64Array(docs);
  const sizes = new Uint32Array(docs);
  let pos = 0;
  for (let i = 0; i < docs; i++) {
    const json = Buffer.from(JSON.stringify(docOf(i)));
    const frame = Buffer.alloc(json.length + 8);
    frame.writeUInt32LE(json.length, 0);
    json.copy(frame, 4);
    frame.writeUInt32LE(zlib.crc32(json), json.length + 4);
    fs.writeSync(fd, frame, 0, frame.length, pos);
    offsets[i] = pos;
    sizes[i] = frame.length;
    pos += frame.length;
  }
  fs.fsyncSync(fd);
  const buf = Buffer.alloc(64 * 1024);
  const read = (i) => {
    const size = sizes[i];
    if (fs.readSync(fd, buf, 0, size, offsets[i]) !== size) throw new Error(`short read of frame ${i}`);
    const length = buf.readUInt32LE(0);
    if (zlib.crc32(buf.subarray(4, 4 + length)) !== buf.readUInt32LE(4 + length)) {
      throw new Error(`frame ${i} failed its checksum`);
    }
    return JSON.parse(buf.toString("utf8", 4, 4 + length));
  };
  for (let i = 0; i < docs; i++) if (read(i)._id !== idOf(i)) throw new Error(`warm-up: frame ${i} is wrong`);
  let missing = 0;
  const t0 = now();
  for (let k = 0; k < reads; k++) {
    const i = pick();
    if (read(i)._id !== idOf(i)) missing++;
  }
  const s = secs(t0);
  fs.closeSync(fd);
  if (missing > 0) throw new Error(`${missing} reads returned the wrong document`);
  return { seconds: s, ops: reads, file_mib: pos / 2 ** 20 };
}

/**
 * Beside workload 6's floor: the least a restart can cost that verifies AeroDB's log, whatever
 * it then builds. AeroDB's recovery must check the CRC-32 of every WAL frame before it trusts a
 * byte (docs/formats/wal.md §8), and its log holds three frames per insert: BEGIN, VERSION,
 * COMMIT. The same documents in that shape (the frame layout and the VERSION payload of
 * docs/formats/wal.md and version-record.md: codec, flags, schema id, schema version, _id, body),
 * written untimed; then, timed: readFileSync of the file and, frame by frame, its length and
 * kind checked and the CRC-32 of its bytes compared with the stored one, computed by the function
 * AeroDB's reader calls (@aerodb/wal's crc32: a table lookup below 64 bytes, where it beats the
 * native call's fixed cost, zlib.crc32 above), so that the floor is not raised by a slower
 * checksum than AeroDB's. No id is decoded, no map or index is built. One untimed warm-up, then
 * `repeats` timed; the median is the figure.
 */
export function verifyFloor(dir, docs, repeats) {
  const file = path.join(dir, "wal-shaped.log");
  const fd = fs.openSync(file, "w");
  const frame = (kind, lsn, payload) => {
    const out = Buffer.alloc(payload.length + 17);
    out.writeUInt32LE(payload.length, 0);
    out.writeUInt8(kind, 4);
    out.writeBigUInt64LE(BigInt(lsn), 5);
    payload.copy(out, 13);
    out.writeUInt32LE(zlib.crc32(out.subarray(0, 13 + payload.length)), 13 + payload.length);
    return out;
  };
  const versionPayload = (doc) => {
    const body = Buffer.from(JSON.stringify(doc));
    const id = Buffer.from(doc._id);
    const out = Buffer.alloc(2 + 2 + 5 + 2 + 2 + 4 + id.length + 4 + body.length);
    let at = out.writeUInt8(1, 0); // codec 1
    at = out.writeUInt8(0, at); // flags: live, string _id
    at = out.writeUInt16LE(5, at);
    at += out.write("users", at);
    at = out.writeUInt16LE(2, at);
    at += out.write("v1", at);
    at = out.writeUInt32LE(id.length, at);
    at += id.copy(out, at);
    at = out.writeUInt32LE(body.length, at);
    body.copy(out, at);
    return out;
  };
  let lsn = 1;
  for (let start = 0; start < docs; start += 1000) {
    const chunk = [];
    for (let i = start; i < Math.min(docs, start + 1000); i++) {
      const commit = Buffer.alloc(8);
      commit.writeBigUInt64LE(BigInt(i + 1));
      const begin = Buffer.alloc(12);
      begin.writeBigUInt64LE(BigInt(i + 1));
      begin.writeUInt32LE(1, 8);
      chunk.push(frame(1, lsn++, begin), frame(2, lsn++, versionPayload(docOf(i))), frame(4, lsn++, commit));
    }
    fs.writeSync(fd, Buffer.concat(chunk));
  }
  fs.closeSync(fd);
  const verifyAll = () => {
    globalThis.gc?.();
    const t0 = now();
    const buf = fs.readFileSync(file);
    let frames = 0;
    let at = 0;
    while (at < buf.length) {
      if (buf.length - at < 17) throw new Error(`short frame at ${at}`);
      const length = buf.readUInt32LE(at);
      const kind = buf[at + 4];
      const end = at + 13 + length;
      if (kind < 1 || kind > 5 || end + 4 > buf.length) throw new Error(`bad frame at ${at}`);
      if (crc32(buf, at, end) !== buf.readUInt32LE(end)) throw new Error(`CRC of frame at ${at}`);
      frames++;
      at = end + 4;
    }
    const ms = Number(now() - t0) / 1e6;
    if (frames !== 3 * docs) throw new Error(`verified ${frames} frames, expected ${3 * docs}`);
    return ms;
  };
  verifyAll(); // warm-up, not recorded
  const warm = [];
  for (let k = 0; k < repeats; k++) warm.push(verifyAll());
  return { ms: median(warm), warm_ms: warm, file_mib: fs.statSync(file).size / 2 ** 20 };
}

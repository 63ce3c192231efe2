/**
 * The ustar header of AeroDB archives (POSIX.1-1988 "ustar", as in IEEE Std 1003.1 pax
 * `ustar Interchange Format`), written by hand and read strictly.
 *
 * AeroDB writes one canonical form per (path, type, size), and the reader accepts exactly
 * that form, so two backups of the same state are the same bytes and any other header —
 * another tool's, a hostile one's, a damaged one's — is refused with a specific reason:
 *
 *   offset size field      AeroDB's value
 *   0      100  name       the path (or its last part when a prefix is needed), NUL-padded
 *   100    8    mode       "0000644\0" (file) / "0000755\0" (directory)
 *   108    8    uid        "0000000\0"
 *   116    8    gid        "0000000\0"
 *   124    12   size       11 octal digits + NUL (0 for a directory)
 *   136    12   mtime      "00000000000\0"
 *   148    8    chksum     6 octal digits + NUL + space: the byte sum with this field as spaces
 *   156    1    typeflag   "0" (file) / "5" (directory)
 *   157    100  linkname   all NUL
 *   257    6    magic      "ustar\0"
 *   263    2    version    "00"
 *   265    32   uname      all NUL (empty)
 *   297    32   gname      all NUL (empty)
 *   329    8    devmajor   "0000000\0"
 *   337    8    devminor   "0000000\0"
 *   345    155  prefix     the leading directories when the path is over 100 bytes, else NUL
 *   500    12   (padding)  all NUL
 *
 * Paths are relative, `/`-separated, made of segments of [A-Za-z0-9._-] that are not `.`
 * or `..`; a directory's name ends with `/`.
 */

export const BLOCK = 512;
/** The largest size the 11 octal digits of the size field hold (8 GiB - 1). */
export const MAX_ENTRY_SIZE = 0o77777777777;
const NAME_LEN = 100;
const PREFIX_LEN = 155;

export type TarEntryType = "file" | "dir";

export interface TarEntry {
  /** Relative path without a trailing slash, e.g. `snapshot/versions` or `snapshot/schemas`. */
  readonly path: string;
  readonly type: TarEntryType;
  /** Content bytes (0 for a directory). */
  readonly size: number;
}

/** Why a header was refused (the `reason` of AERO_RESTORE_INVALID_BACKUP). */
export type HeaderDefect =
  | "bad_header_checksum"
  | "unsupported_format"
  | "symlink"
  | "hard_link"
  | "device"
  | "fifo"
  | "unsupported_entry"
  | "absolute_path"
  | "parent_segment"
  | "bad_path"
  | "bad_size"
  | "non_canonical_header";

export class HeaderError extends Error {
  constructor(
    readonly reason: HeaderDefect,
    message: string,
    readonly path: string | null = null,
  ) {
    super(message);
    this.name = "HeaderError";
  }
}

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Null when `path` is a valid archive path, else the defect. */
export function pathDefect(path: string): HeaderDefect | null {
  if (path.length === 0) return "bad_path";
  if (path.startsWith("/")) return "absolute_path";
  const segments = path.split("/");
  if (segments.includes("..")) return "parent_segment";
  for (const segment of segments) {
    if (segment === "." || !SEGMENT.test(segment)) return "bad_path";
  }
  return null;
}

/** The 512 bytes AeroDB writes for an entry; throws for a path or size it cannot write. */
export function encodeHeader(entry: TarEntry): Uint8Array {
  const defect = pathDefect(entry.path);
  if (defect !== null) throw new Error(`cannot archive path '${entry.path}': ${defect}`);
  if (entry.type === "dir" && entry.size !== 0) throw new Error("a directory entry has no content");
  if (!Number.isSafeInteger(entry.size) || entry.size < 0 || entry.size > MAX_ENTRY_SIZE) {
    throw new Error(`cannot archive ${entry.size} bytes in one ustar entry`);
  }
  const stored = entry.type === "dir" ? `${entry.path}/` : entry.path;
  const { name, prefix } = splitPath(stored);
  const h = new Uint8Array(BLOCK);
  putText(h, 0, name);
  putText(h, 100, entry.type === "dir" ? "0000755\0" : "0000644\0");
  putText(h, 108, "0000000\0");
  putText(h, 116, "0000000\0");
  putText(h, 124, `${entry.size.toString(8).padStart(11, "0")}\0`);
  putText(h, 136, "00000000000\0");
  h[156] = entry.type === "dir" ? 0x35 : 0x30;
  putText(h, 257, "ustar\0");
  putText(h, 263, "00");
  putText(h, 329, "0000000\0");
  putText(h, 337, "0000000\0");
  putText(h, 345, prefix);
  putText(h, 148, `${checksumOf(h).toString(8).padStart(6, "0")}\0 `);
  return h;
}

/** Splits a stored name (ASCII) into the ustar name and prefix fields. */
function splitPath(stored: string): { name: string; prefix: string } {
  if (stored.length <= NAME_LEN) return { name: stored, prefix: "" };
  // The prefix ends at a '/', which is not stored; a directory's trailing '/' stays in name.
  const body = stored.endsWith("/") ? stored.slice(0, -1) : stored;
  for (let cut = body.lastIndexOf("/"); cut > 0; cut = body.lastIndexOf("/", cut - 1)) {
    const prefix = stored.slice(0, cut);
    const name = stored.slice(cut + 1);
    if (prefix.length <= PREFIX_LEN && name.length <= NAME_LEN && name.length > 0) return { name, prefix };
  }
  throw new Error(`the path '${stored}' does not fit a ustar header`);
}

function putText(h: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) h[at + i] = text.charCodeAt(i);
}

/** The header checksum: the unsigned byte sum with the chksum field read as eight spaces. */
export function checksumOf(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  return sum;
}

export function isZeroBlock(h: Uint8Array): boolean {
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) return false;
  return true;
}

/** A NUL-terminated (or full-width) text field, as raw latin1. */
function field(h: Uint8Array, at: number, len: number): string {
  let end = at;
  while (end < at + len && h[end] !== 0) end++;
  let out = "";
  for (let i = at; i < end; i++) out += String.fromCharCode(h[i] as number);
  return out;
}

/** An octal numeric field: digits, then NUL/space padding; null when it is not that. */
function octal(h: Uint8Array, at: number, len: number): number | null {
  if (((h[at] as number) & 0x80) !== 0) return null; // base-256 (GNU): not ustar
  const text = field(h, at, len).replace(/[ ]+$/, "").replace(/^[ ]+/, "");
  if (!/^[0-7]{1,12}$/.test(text)) return null;
  return Number.parseInt(text, 8);
}

/**
 * Decodes a non-zero header block strictly. Checks, first failure wins: the checksum, the
 * ustar magic, the entry type (links, devices, FIFOs, pax and GNU extensions are refused),
 * the path, the size, and finally that the block is byte for byte the header AeroDB writes
 * for that entry (fixed mode, owner, time, empty names).
 */
export function decodeHeader(h: Uint8Array): TarEntry {
  const stored = octal(h, 148, 8);
  if (stored === null || stored !== checksumOf(h)) {
    throw new HeaderError("bad_header_checksum", "A tar header fails its checksum.");
  }
  if (field(h, 257, 6) !== "ustar" || h[262] !== 0 || h[263] !== 0x30 || h[264] !== 0x30) {
    throw new HeaderError("unsupported_format", "A tar header is not in the ustar format.");
  }
  const rawName = field(h, 0, NAME_LEN);
  const rawPrefix = field(h, 345, PREFIX_LEN);
  const stored_ = rawPrefix === "" ? rawName : `${rawPrefix}/${rawName}`;
  const flag = String.fromCharCode(h[156] as number);
  let type: TarEntryType;
  switch (flag) {
    case "0":
    case "\0":
      type = "file";
      break;
    case "5":
      type = "dir";
      break;
    case "1":
      throw new HeaderError("hard_link", "The archive holds a hard link.", printable(stored_));
    case "2":
      throw new HeaderError("symlink", "The archive holds a symbolic link.", printable(stored_));
    case "3":
    case "4":
      throw new HeaderError("device", "The archive holds a device node.", printable(stored_));
    case "6":
      throw new HeaderError("fifo", "The archive holds a FIFO.", printable(stored_));
    default:
      throw new HeaderError(
        "unsupported_entry",
        `The archive holds an entry of unsupported type '${printable(flag)}' (pax, GNU or other extensions are not accepted).`,
        printable(stored_),
      );
  }
  let path = stored_;
  if (type === "dir") {
    if (!path.endsWith("/")) throw new HeaderError("bad_path", "A directory entry's name must end with '/'.");
    path = path.slice(0, -1);
  }
  const defect = pathDefect(path);
  if (defect !== null) {
    throw new HeaderError(defect, `The archive holds an entry with an unsafe path.`, printable(stored_));
  }
  const size = octal(h, 124, 12);
  if (size === null || (type === "dir" && size !== 0)) {
    throw new HeaderError("bad_size", "A tar header has an invalid size.", path);
  }
  const entry: TarEntry = { path, type, size };
  const canonical = encodeHeader(entry);
  for (let i = 0; i < BLOCK; i++) {
    if (canonical[i] !== h[i]) {
      throw new HeaderError(
        "non_canonical_header",
        "A tar header differs from the one AeroDB writes for that entry (mode, owner, time or names).",
        path,
      );
    }
  }
  return entry;
}

function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 120 ? `${clean.slice(0, 120)}…` : clean;
}

/** Bytes of zero padding after `size` content bytes. */
export function paddingOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Archive bytes an entry takes: its header and its padded content. */
export function entryBytes(size: number): number {
  return BLOCK + size + paddingOf(size);
}

/** The two zero blocks that end an archive. */
export const END_BYTES = 2 * BLOCK;

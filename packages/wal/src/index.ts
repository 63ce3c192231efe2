// @aerodb/wal: the framed, checksummed, segmented write-ahead log: fsync discipline, reader, torn-tail rule, truncation.
// Nothing is public yet: this package exports nothing until its phase lands.
export {};

// @aerodb/mvcc: commit ids, version chains, read views, transactions, garbage collection, the MVCC cut.
// Nothing is public yet: this package exports nothing until its phase lands.
export {};

// @aerodb/replication: primary/replica WAL shipping, snapshot bootstrap, the read gate, replica recovery.
// Nothing is public yet: this package exports nothing until its phase lands.
export {};

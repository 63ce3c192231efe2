// @aerodb/snapshot: snapshots, checkpoints, backup, restore and offline verify.
// Nothing is public yet: this package exports nothing until its phase lands.
export {};

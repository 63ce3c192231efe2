// @aerodb/core: schemas, the version store, indexes, planner/explain/executor, configuration, boot and recovery.
// Nothing is public yet: this package exports nothing until its phase lands.
export {};

// @aerodb/perf: the opt-in optimizations, each with its proof in docs/perf/.
// Nothing is public yet: this package exports nothing until its phase lands.
export {};

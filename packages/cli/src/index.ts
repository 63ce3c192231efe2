// aerodb: the `aerodb` binary: configuration, wiring, CLI, server.
// Nothing is public yet: this package exports nothing until its phase lands.
export {};

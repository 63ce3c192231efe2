// @aerodb/observe: metrics, structured logs, explanations, the read-only /v1 API and the admin UI.
// Nothing is public yet: this package exports nothing until its phase lands.
export {};

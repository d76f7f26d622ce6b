// The ports the client, the load generator and the server agree on, in one place that none of them owns.
// The daytime default follows the classic example (9999), not RFC 867's 13, so nothing needs root.
export const DEFAULT_PORT = 9999;
// RFC 868's well-known port: what a time client asks when told nothing else.
export const DEFAULT_TIME_PORT = 37;

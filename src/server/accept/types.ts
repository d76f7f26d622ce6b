import type net from 'node:net';

// The ways a listener's connections can be taken, fastest first; `auto` picks the first that loads.
export const ACCEPT_PATHS = ['uring', 'libc', 'handle', 'socket'] as const;
// `proxy` is not chosen but implied by --proxy-protocol: it reads the PROXY header before the reply.
export type AcceptPathName = (typeof ACCEPT_PATHS)[number] | 'proxy';
export const ACCEPT_CHOICES = ['auto', ...ACCEPT_PATHS] as const;
export type AcceptChoice = (typeof ACCEPT_CHOICES)[number];

// What every accept path tells the service about each connection: the counting, the limit, the log
// line and the write timeout live in the service, once, whatever the path.
export interface ConnectionHooks {
  // The reply to send (cached for the current second).
  reply(): Buffer;
  // Counts an accepted connection; false means close it unanswered (--max-connections).
  admit(): boolean;
  served(): void;
  // A failed write or connection, by code (EPIPE, ECONNRESET...).
  error(code: string): void;
  // A failed accept() (EMFILE, ENFILE...): the listener stays open.
  acceptError(code: string): void;
  // Present only when the per-connection log line is on; `via` is the balancer that relayed it.
  peer?: (address: string, port: number, via?: { address: string; port: number }) => void;
  // A write that did not complete at once. The service may time it out by calling `close`; the
  // returned function releases it once the write has completed.
  pending(close: () => void): () => void;
  // An admitted connection is closed.
  closed(): void;
}

// One listener taken over by one path.
export interface Acceptor {
  readonly path: AcceptPathName;
  // The listening descriptor (for /proc and the drain's socket filter); undefined where not exposed.
  readonly fd: number | undefined;
  // Stops taking connections and closes the listener. Whatever is still queued then is reset by the
  // kernel: the service drains the queue before it calls this.
  close(): Promise<void>;
  // Closes connections the path holds on its own (the proxy path's, waiting for their header).
  destroyAll?(): void;
  // With `auto`: the faster path that could not run here, and why (uring-choice.ts).
  readonly fallback?: AcceptFallback;
}

export interface AcceptFallback {
  path: AcceptPathName;
  // Short (a metric label): disabled, refused, not-implemented, too-old...
  code: string;
  reason: string;
}

export interface AcceptPath {
  readonly name: AcceptPathName;
  // Takes over a listening net.Server; undefined (nothing changed) where this path cannot.
  take(server: net.Server, hooks: ConnectionHooks): Acceptor | undefined;
}

// The listening descriptor libuv holds for a net.Server (not a public API).
export function listenerFd(server: net.Server): number | undefined {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

export const closeServer = (server: net.Server) =>
  new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

import type net from 'node:net';
import type { TrustList } from '../../net/cidr.ts';
import type { PathFallback } from '../../observability/listener-info.ts';

// The ways a listener's connections can be taken, fastest first; `auto` picks the first that loads.
// uring: the kernel serves the whole connection in a chain (Linux 6.8); uring-accept: io_uring accepts
// and JavaScript queues each reply (Linux 5.19).
export const ACCEPT_PATHS = ['uring', 'uring-accept', 'libc', 'handle', 'socket'] as const;
export const ACCEPT_CHOICES = ['auto', ...ACCEPT_PATHS] as const;
export type AcceptChoice = (typeof ACCEPT_CHOICES)[number];
// Behind a balancer the header is read first, which the handle path cannot do.
export const PROXY_CHOICES = ['auto', 'uring', 'libc', 'socket'] as const;
export type ProxyChoice = (typeof PROXY_CHOICES)[number];
// What the ready line, the stats and the metrics call the path that runs.
export type AcceptPathName = (typeof ACCEPT_PATHS)[number] | 'proxy-uring' | 'proxy-libc' | 'proxy-socket';

// Why a connection was closed without a reply under --proxy-protocol.
export const PROXY_REFUSALS = [
  'untrusted',
  'missing',
  'malformed',
  'timeout',
  'evicted',
  'crowded',
  'shutdown',
] as const;
export type ProxyRefusal = (typeof PROXY_REFUSALS)[number];

// --proxy-protocol: how long a header may take, how many connections may wait for one, and who may
// send one at all.
export interface ProxyRequirement {
  timeoutMs: number;
  maxWaiting: number;
  trust: TrustList;
}

// The one accept decision, made once from the options: a path by name or the fastest that runs, or, behind
// a balancer, the same with the PROXY header read first.
export type AcceptPlan =
  | { path: AcceptChoice }
  | { path: 'proxy'; over: ProxyChoice; proxy: ProxyRequirement };

// What every accept path tells the service about each connection: the counting, the limit, the log
// line and the write timeout live in the service, once, whatever the path.
export interface ConnectionHooks {
  // The reply to send (cached for the current second).
  reply(): Buffer;
  // Counts an accepted connection; false means close it unanswered (--max-connections).
  admit(): boolean;
  // True while --max-connections are open: the next admit() would refuse.
  full(): boolean;
  // --max-connections, for a path that must plan for it (the chains arm no more slots than it leaves).
  readonly maxConnections?: number;
  // A connection already let go (its reply on its way, closed() said) must wait for its write after
  // all: it is open again within --max-connections, or counted as rejected (false: close it).
  keep(): boolean;
  served(): void;
  // A failed write or connection, by code (EPIPE, ECONNRESET...).
  error(code: string): void;
  // A failed accept() (EMFILE, ENFILE...): the listener stays open. `message` where the code alone does
  // not say what happened.
  acceptError(code: string, message?: string): void;
  // Present only when the per-connection log line is on; `via` is the balancer that relayed it.
  peer?: (address: string, port: number, via?: { address: string; port: number }) => void;
  // A write that did not complete at once. The service may time it out by calling `close`; the
  // returned function releases it once the write has completed.
  pending(close: () => void): () => void;
  // An admitted connection is closed.
  closed(): void;
  // --proxy-protocol: a complete header, by kind ("v2/PROXY", "v1/LOCAL"...).
  header(kind: string): void;
  // --proxy-protocol: a connection closed without a reply, and from where (untrusted, malformed...).
  refused(reason: ProxyRefusal, from?: () => string): void;
}

// One listener taken over by one path.
export interface Acceptor {
  readonly path: AcceptPathName;
  // The listening descriptor (for TCP_INFO and the drain's socket filter); undefined where not exposed.
  readonly fd: number | undefined;
  // Stops taking connections and closes the listener. Whatever is still queued then is reset by the
  // kernel: the service drains the queue before it calls this.
  close(): Promise<void>;
  // Closes connections the path holds on its own (the PROXY paths', waiting for their header).
  destroyAll?(): void;
  // With `auto`: the faster path that could not run here, and why (uring-choice.ts).
  readonly fallback?: AcceptFallback;
}

// A path that could not run here, and why (code: a metric label; reason: a sentence).
export interface AcceptFallback extends PathFallback {
  path: AcceptPathName;
}

export interface AcceptPath {
  readonly name: AcceptPathName;
  // Takes over a listening net.Server, or says why this path cannot here (nothing changed).
  take(server: net.Server, hooks: ConnectionHooks): Acceptor | AcceptFallback;
}

export const isAcceptor = (taken: Acceptor | AcceptFallback): taken is Acceptor => !('reason' in taken);

// What a path that cannot take a listener answers.
export const cannotTake = (path: AcceptPathName, reason: string, code = 'unavailable'): AcceptFallback => ({
  path,
  code,
  reason,
});

// The listening descriptor libuv holds for a net.Server (not a public API).
export function listenerFd(server: net.Server): number | undefined {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

export const closeServer = (server: net.Server) =>
  new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

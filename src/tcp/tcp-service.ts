import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromSystemError } from '../errors.ts';
import { refuseNewConnections } from '../kernel/socket-filter.ts';
import { describeBacklog, readSomaxconn } from '../kernel/somaxconn.ts';
import { type ListenerQueue, listenerQueue, loadTcpInfo, type TcpInfoReader } from '../kernel/tcp-info.ts';
import { formatHostPort } from '../net/address.ts';
import { unmapIPv4 } from '../net/ip.ts';
import type { ListenerInfo } from '../observability/listener-info.ts';
import type { ServerLogger } from '../observability/logger.ts';
import { countError, countServed, type ServerStats } from '../observability/stats.ts';
import type { ReplyClock, ServiceName } from '../protocol/replies.ts';
import { acceptPaths, takeListener } from './accept/choose.ts';
import {
  type Acceptor,
  type AcceptPlan,
  type ConnectionHooks,
  closeServer,
  type ProxyRefusal,
} from './accept/types.ts';
import { WriteDeadlines } from './write-deadlines.ts';

export interface TcpServiceOptions {
  service: ServiceName;
  clock: ReplyClock;
  stats: ServerStats;
  host: string | undefined;
  port: number;
  backlog: number;
  // An inherited listening descriptor (socket activation, or the primary's with --workers) instead of
  // host and port.
  fd?: number;
  // True when the descriptor's backlog was set by someone else (a systemd socket unit) and is kept.
  inheritBacklog?: boolean;
  // A descriptor bound by daytime itself (the primary, or this process before --user's switch): whether
  // it was bound on every interface. Undefined for one inherited from systemd.
  allInterfaces?: boolean;
  reusePort: boolean;
  maxConnections: number | undefined;
  writeTimeoutMs: number;
  // How accepted connections are taken (accept/choose.ts), PROXY header or not.
  accept: AcceptPlan;
  logger: ServerLogger | undefined;
  logConnections: boolean;
}

const ERROR_LOG_INTERVAL_MS = 1000;

const REFUSAL_TEXT: Record<ProxyRefusal, string> = {
  untrusted: 'not in --proxy-from, so it may not send a PROXY header (closed unread)',
  missing: 'no PROXY header',
  malformed: 'a malformed PROXY header',
  timeout: 'no whole PROXY header within --proxy-timeout',
  evicted: 'its PROXY header was still incomplete when room was needed',
  crowded: 'too many connections were waiting for their PROXY header',
  shutdown: 'its PROXY header was still incomplete when the drain ended',
};

// One TCP listener for one service: Node binds and listens, an accept path (accept/) takes the
// connections; counting, limits, the write timeout and the drain are here, the same for every path.
export class TcpService {
  readonly #options: TcpServiceOptions;
  readonly #server: net.Server;
  readonly #servedKey: string;
  // Writes that did not complete at once, with their deadlines (--write-timeout).
  readonly #writes: WriteDeadlines;
  #acceptor: Acceptor | undefined;
  // getsockopt(TCP_INFO) where it loads (Linux): the queue in one system call, for the drain and metrics.
  #tcpInfo: TcpInfoReader | undefined;
  #open = 0;
  #lastErrorLog = 0;
  #lastRefusalLog = 0;
  #refusedSince = 0;

  constructor(options: TcpServiceOptions) {
    this.#options = options;
    this.#servedKey = `${options.service}/tcp`;
    this.#writes = new WriteDeadlines(options.writeTimeoutMs, () => countError(options.stats, 'ETIMEDOUT'));
    // pauseOnConnect: the net.Socket path reads nothing (no read, no epoll registration per connection).
    this.#server = net.createServer({ pauseOnConnect: true });
    // Once listening, an 'error' is an accept() failure (EMFILE, ENFILE...). It must not end the server.
    this.#server.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#server.listening) this.#onAcceptError(error.code ?? 'UNKNOWN', error.message);
    });
  }

  // `sibling`: the port another listener of this service got, for a service asked to take port 0.
  async listen(sibling?: number): Promise<ListenerInfo> {
    const { host, fd, reusePort } = this.#options;
    const port = this.#options.port === 0 && sibling !== undefined ? sibling : this.#options.port;
    // Before any socket: a path asked for by name that cannot load here is an error, not a fallback.
    const paths = await acceptPaths(this.#options.accept);
    this.#tcpInfo = await loadTcpInfo();
    let backlog = this.#options.backlog;
    if (fd !== undefined && this.#options.inheritBacklog) {
      // Node calls listen() again on an inherited descriptor, with 511 unless told otherwise, which
      // would silently replace the socket unit's Backlog=. Ask the kernel what the unit set.
      const kept = this.#tcpInfo && listenerQueue(this.#tcpInfo, fd)?.backlog;
      backlog = kept || (readSomaxconn() ?? 511);
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const where =
          fd !== undefined ? `fd ${fd}` : host === undefined ? `port ${port}` : formatHostPort(host, port);
        const hint =
          error.code === 'EACCES' && port < 1024 ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : '';
        reject(fromSystemError(error, `cannot listen on ${where}`, hint));
      };
      this.#server.once('error', onError);
      const done = () => {
        this.#server.off('error', onError);
        resolve();
      };
      // The backlog goes positionally: with { fd }, Node ignores options.backlog.
      if (fd !== undefined) this.#server.listen({ fd }, backlog, done);
      else this.#server.listen({ host, port, backlog, reusePort: reusePort || undefined }, done);
    });
    const address = this.#server.address() as net.AddressInfo;
    try {
      this.#acceptor = takeListener(this.#server, this.#hooks(), paths);
    } catch (error) {
      await closeServer(this.#server);
      throw error;
    }
    return {
      service: this.#options.service,
      transport: 'tcp',
      address: address.address,
      port: address.port,
      family: address.family,
      allInterfaces: fd === undefined ? host === undefined : this.#options.allInterfaces === true,
      inherited: fd !== undefined && this.#options.allInterfaces === undefined,
      backlog: describeBacklog(backlog),
      acceptPath: this.#acceptor.path,
      acceptFallback: this.#acceptor.fallback,
    };
  }

  #hooks(): ConnectionHooks {
    const { stats, clock, service, maxConnections } = this.#options;
    const servedKey = this.#servedKey;
    return {
      reply: () => clock.reply(service),
      admit: () => {
        stats.connections++;
        return this.#reopen();
      },
      full: () => maxConnections !== undefined && this.#open >= maxConnections,
      maxConnections,
      keep: () => this.#reopen(),
      served: () => countServed(stats, servedKey),
      error: (code) => countError(stats, code),
      acceptError: (code, message) => this.#onAcceptError(code, message ?? `accept ${code}`),
      peer: this.#options.logConnections
        ? (address, port, via) => this.#logPeer(address, port, via)
        : undefined,
      header: (kind) => {
        stats.proxyHeaders[kind] = (stats.proxyHeaders[kind] ?? 0) + 1;
      },
      refused: (reason, from) => this.#onRefused(reason, from),
      pending: (close) => this.#writes.add(close),
      closed: () => {
        this.#open--;
      },
    };
  }

  // One more open connection within --max-connections, or one more rejected.
  #reopen(): boolean {
    const max = this.#options.maxConnections;
    if (max !== undefined && this.#open >= max) {
      this.#options.stats.rejected++;
      return false;
    }
    this.#open++;
    return true;
  }

  get service(): ServiceName {
    return this.#options.service;
  }

  // Connections open right now (accepted, reply not yet fully written).
  get open(): number {
    return this.#open;
  }

  // This listener's kernel accept queue and backlog in force; undefined where TCP_INFO cannot be had.
  queue(): ListenerQueue | undefined {
    const fd = this.#acceptor?.fd;
    return fd === undefined || !this.#tcpInfo ? undefined : listenerQueue(this.#tcpInfo, fd);
  }

  // Graceful stop. Closing a listener resets every connection still in its accept queue, so first keep
  // accepting until the kernel's queue is empty, then close, then give open connections until the
  // deadline to finish before destroying them.
  async drain(deadline: number): Promise<void> {
    const acceptor = this.#acceptor;
    if (!acceptor) return;
    this.#acceptor = undefined;
    // New SYNs are dropped from here on, so the queue can only shrink: without this, under steady load
    // the queue is rarely empty, and whatever completed between the last look and close() is reset.
    if (acceptor.fd !== undefined) await refuseNewConnections(acceptor.fd);
    let lastCount = -1;
    const read = this.#tcpInfo;
    while (Date.now() < deadline) {
      const queued =
        acceptor.fd === undefined || !read ? undefined : listenerQueue(read, acceptor.fd)?.queued;
      const accepted = this.#options.stats.connections;
      // Without TCP_INFO, an interval with no new accept stands in for an empty queue.
      if (queued === 0 || (queued === undefined && accepted === lastCount)) break;
      lastCount = accepted;
      await sleep(queued === undefined ? 100 : 10);
    }
    const destroyAll = () => {
      acceptor.destroyAll?.();
      this.destroyAll();
    };
    const timer = setTimeout(destroyAll, Math.max(0, deadline - Date.now()));
    await acceptor.close();
    while (this.#open > 0 && Date.now() < deadline) await sleep(10);
    clearTimeout(timer);
    if (this.#open > 0) destroyAll();
  }

  // Closes every connection whose reply is still being written.
  destroyAll(): void {
    this.#writes.closeAll();
  }

  #logPeer(address: string, port: number, via?: { address: string; port: number }): void {
    const peer = formatHostPort(unmapIPv4(address), port);
    const service = this.#options.service;
    if (!via) {
      this.#options.logger?.info({ peer, service }, `Got a connection from ${peer}`);
      return;
    }
    const balancer = formatHostPort(unmapIPv4(via.address), via.port);
    this.#options.logger?.info(
      { peer, via: balancer, service },
      `Got a connection from ${peer} via ${balancer}`,
    );
  }

  // Counted every time; said at most once a second, with the last peer and how many since.
  #onRefused(reason: ProxyRefusal, from?: () => string): void {
    const { stats, logger } = this.#options;
    stats.proxyRefused[reason] = (stats.proxyRefused[reason] ?? 0) + 1;
    this.#refusedSince++;
    const now = Date.now();
    if (now - this.#lastRefusalLog < ERROR_LOG_INTERVAL_MS || !logger) return;
    const peer = from?.();
    const count = this.#refusedSince;
    this.#lastRefusalLog = now;
    this.#refusedSince = 0;
    logger.warn(
      { peer, reason, refused: stats.proxyRefused },
      `refused a connection${peer ? ` from ${peer}` : ''}: ${REFUSAL_TEXT[reason]}` +
        (count > 1 ? ` (${count} refused since the last line)` : ''),
    );
  }

  #onAcceptError(code: string, message: string): void {
    countError(this.#options.stats, code);
    const now = Date.now();
    if (now - this.#lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.#lastErrorLog = now;
    this.#options.logger?.error({ code, errors: this.#options.stats.errors }, `accept failed: ${message}`);
  }
}

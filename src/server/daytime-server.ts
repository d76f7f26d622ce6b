import type net from 'node:net';
import { checkDescriptors, countOpenDescriptors, reserveDescriptors } from '../kernel/descriptors.ts';
import { readProcNet, socketInode } from '../kernel/proc-net.ts';
import { loadSocketCalls } from '../kernel/socket-calls.ts';
import type { ListenerInfo, ListenerSample } from '../observability/listener-info.ts';
import { logListening } from '../observability/listener-log.ts';
import type { ServerLogger } from '../observability/logger.ts';
import { copyStats, emptyStats, type ServerStats } from '../observability/stats.ts';
import { ReplyClock, type ServiceName } from '../protocol/replies.ts';
import { TcpService } from '../tcp/tcp-service.ts';
import { ReplyLimiter } from '../udp/rate-limit.ts';
import { UdpService } from '../udp/udp-service.ts';
import { type DaytimeServerConfig, type DaytimeServerInput, normalizeServerOptions } from './options.ts';

// How the server reports: not options of the service itself, so not normalized with them.
export interface ServerRuntime {
  // pino or anything with the same methods; without one the server logs nothing.
  logger?: ServerLogger;
  // One info line per connection with the peer address (the classic "Got a connection from").
  logConnections?: boolean;
  // False: no "listening" and "closed" lines (a worker, whose primary says them once for all).
  logLifecycle?: boolean;
}

export interface DaytimeServerOptions extends DaytimeServerInput, ServerRuntime {}

export type { ListenerInfo, ListenerSample, ServerLogger };

// RFC 867 daytime and, if asked, RFC 868 time, over TCP and, if asked, UDP.
export class DaytimeServer {
  readonly config: DaytimeServerConfig;
  readonly #stats = emptyStats();
  readonly #logger: ServerLogger | undefined;
  // Start-up and closing lines go here: the logger, or nothing for a worker.
  readonly #lifecycleLogger: ServerLogger | undefined;
  readonly #tcp: TcpService[] = [];
  readonly #udp: UdpService[] = [];
  #listeners: ListenerInfo[] = [];
  #descriptorCheck: NodeJS.Timeout | undefined;

  // `config` comes from normalizeServerOptions (createDaytimeServer does that for you).
  constructor(config: DaytimeServerConfig, options: ServerRuntime = {}) {
    this.config = config;
    this.#logger = options.logger;
    this.#lifecycleLogger = options.logLifecycle === false ? undefined : options.logger;
    const clock = new ReplyClock(this.config.format);
    const limiter = new ReplyLimiter({ perSource: this.config.udpRate, global: this.config.udpGlobalRate });
    const common = { clock, stats: this.#stats, reusePort: this.config.reusePort };
    // One listener per address asked for; none asked for: one on every interface.
    const hosts = this.config.hosts.length > 0 ? this.config.hosts : [undefined];
    const tcp = (
      service: ServiceName,
      port: number,
      fd: number | undefined,
      inheritBacklog: boolean,
      host?: string,
      allInterfaces?: boolean,
    ) =>
      this.#tcp.push(
        new TcpService({
          ...common,
          host,
          service,
          port,
          fd,
          inheritBacklog: fd !== undefined && inheritBacklog,
          allInterfaces,
          backlog: this.config.backlog,
          maxConnections: this.config.maxConnections,
          writeTimeoutMs: this.config.writeTimeoutMs,
          accept: this.config.accept,
          logger: options.logger,
          logConnections: Boolean(options.logger) && options.logConnections !== false,
        }),
      );
    const udp = (
      service: ServiceName,
      port: number,
      fd?: number,
      fdFamily?: 4 | 6,
      host?: string,
      allInterfaces?: boolean,
    ) =>
      this.#udp.push(
        new UdpService({
          ...common,
          host,
          service,
          port,
          fd,
          fdFamily,
          allInterfaces,
          limiter,
          io: this.config.udpIo,
          logger: options.logger,
        }),
      );

    if (this.config.listenFds) {
      // Socket activation: the unit decides the sockets; each is TCP or UDP, as the kernel says.
      for (const { fd, name } of this.config.listenFds) {
        const service: ServiceName = name === 'time' ? 'time' : 'daytime';
        const udpFamily = udpSocketFamily(fd);
        if (udpFamily) udp(service, 0, fd, udpFamily);
        else tcp(service, 0, fd, true);
      }
      return;
    }
    const { port, timePort } = this.config;
    const portOf = (service: ServiceName) => (service === 'time' ? (timePort ?? 0) : port);
    if (this.config.tcpFds) {
      // Bound already (with the backlog asked for): by the primary, or before --user's switch.
      for (const { service, fd, allInterfaces } of this.config.tcpFds)
        tcp(service, portOf(service), fd, false, undefined, allInterfaces);
    } else {
      for (const host of hosts) {
        tcp('daytime', port, undefined, false, host);
        if (timePort !== undefined) tcp('time', timePort, undefined, false, host);
      }
    }
    if (this.config.udpFds) {
      for (const { service, fd, family, allInterfaces } of this.config.udpFds)
        udp(service, portOf(service), fd, family, undefined, allInterfaces);
    } else if (this.config.udp) {
      for (const host of hosts) {
        udp('daytime', port, undefined, undefined, host);
        if (timePort !== undefined) udp('time', timePort, undefined, undefined, host);
      }
    }
  }

  // Binds every listener; the first is daytime over TCP unless descriptors were inherited.
  async listen(): Promise<ListenerInfo[]> {
    try {
      const tcpPorts = new Map<ServiceName, number>();
      for (const service of this.#tcp) {
        // Port 0 is one free port for every address: the first listener of a service picks it.
        const info = await service.listen(tcpPorts.get(service.service));
        if (!tcpPorts.has(info.service)) tcpPorts.set(info.service, info.port);
        this.#listeners.push(info);
        logListening(this.#lifecycleLogger, info);
      }
      for (const service of this.#udp) {
        const info = await service.listen(tcpPorts.get(service.service));
        this.#listeners.push(info);
        logListening(this.#lifecycleLogger, info);
      }
    } catch (error) {
      await this.close(0);
      throw error;
    }
    await this.#reserveDescriptors();
    this.#watchDescriptors();
    if (this.config.accept.path === 'proxy' && this.#udp.length > 0) {
      this.#lifecycleLogger?.warn(
        '--proxy-protocol applies to TCP only: UDP datagrams carry no PROXY header and are answered as they come',
      );
    }
    for (const { acceptPath, acceptFallback: f, udpPath } of this.#listeners) {
      if (acceptPath) this.#stats.acceptPaths[acceptPath] = (this.#stats.acceptPaths[acceptPath] ?? 0) + 1;
      const key = f && `${acceptPath}/${f.path}/${f.code}`;
      if (key) this.#stats.acceptFallbacks[key] = (this.#stats.acceptFallbacks[key] ?? 0) + 1;
      if (udpPath) this.#stats.udpPaths[udpPath] = (this.#stats.udpPaths[udpPath] ?? 0) + 1;
    }
    return this.#listeners;
  }

  listeners(): ListenerInfo[] {
    return this.#listeners;
  }

  // Serves every client already connected or waiting in a kernel accept queue, then stops. Connections
  // still open at the deadline are destroyed.
  async close(drainTimeoutMs = this.config.drainTimeoutMs): Promise<void> {
    clearInterval(this.#descriptorCheck);
    const deadline = Date.now() + drainTimeoutMs;
    await Promise.all([
      ...this.#tcp.map((s) => s.drain(deadline)),
      ...this.#udp.map((s) => s.drain(deadline)),
    ]);
    if (this.#listeners.length > 0) this.#lifecycleLogger?.info({ stats: this.stats() }, 'server closed');
    this.#listeners = [];
  }

  // Connections waiting in each TCP listener's kernel accept queue (undefined without TCP_INFO).
  queued(): (number | undefined)[] {
    return this.#tcp.map((s) => s.queue()?.queued);
  }

  // Each TCP listener's queue and backlog, as the kernel has them now (none without TCP_INFO).
  listenerSamples(): ListenerSample[] {
    const samples: ListenerSample[] = [];
    for (const [i, service] of this.#tcp.entries()) {
      const queue = service.queue();
      const info = this.#listeners.filter((l) => l.transport === 'tcp')[i];
      if (queue && info)
        samples.push({ service: service.service, address: info.address, port: info.port, ...queue });
    }
    return samples;
  }

  address(): net.AddressInfo | null {
    const first = this.#listeners[0];
    return first ? { address: first.address, family: first.family, port: first.port } : null;
  }

  stats(): ServerStats {
    return copyStats(this.#stats);
  }

  // Room in the descriptor table, before any burst, for every connection the TCP accept queues can hold:
  // the uring path takes a whole queue in one io_uring_enter, and growing the table on the way stops
  // the event loop for a grace period per doubling (kernel/descriptors.ts).
  async #reserveDescriptors(): Promise<void> {
    const queued = this.#listeners.reduce((n, l) => n + (l.backlog?.acceptQueueCapacity ?? 0), 0);
    const open = countOpenDescriptors();
    if (queued === 0 || open === undefined) return;
    const calls = await loadSocketCalls().catch(() => undefined);
    if (calls) reserveDescriptors(calls, open + queued);
  }

  // libuv handles EMFILE on accept by itself (it frees a reserved descriptor, accepts the connection and
  // closes it unanswered), so the server is never told. Once a second it looks at its own descriptor
  // table instead and says so while it is full: at most one line a second.
  #watchDescriptors(): void {
    if (!this.#logger || checkDescriptors() === undefined) return;
    this.#descriptorCheck = setInterval(() => {
      // Not a listing of /proc/self/fd while there is room: milliseconds with thousands open.
      const use = checkDescriptors();
      if (use?.exhausted) {
        const detail = use.open === undefined ? 'EMFILE' : `${use.open} open, limit ${use.limit}`;
        this.#logger?.error(
          { openDescriptors: use.open, limit: use.limit },
          `descriptors exhausted (${detail}): new connections are closed unanswered until some are freed`,
        );
      }
    }, 1000).unref();
  }
}

// systemd passes TCP and UDP descriptors alike; /proc/net/udp{,6} says which are UDP and of which family
// (socket activation exists only on Linux, so /proc is there). Undefined: not UDP.
function udpSocketFamily(fd: number): 4 | 6 | undefined {
  const inode = socketInode(fd);
  return inode === undefined ? undefined : readProcNet('udp')?.find((row) => row.inode === inode)?.family;
}

// Checks the options (InvalidOptionError before any socket) and makes the server; listen() binds it.
export function createDaytimeServer(options: DaytimeServerOptions = {}): DaytimeServer {
  return new DaytimeServer(normalizeServerOptions(options), options);
}

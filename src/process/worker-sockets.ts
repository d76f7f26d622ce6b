import { DaytimeError, systemCode } from '../errors.ts';
import { SHUT_RD, type SocketCalls } from '../kernel/socket-calls.ts';
import { describeBacklog } from '../kernel/somaxconn.ts';
import { listenerQueue, type TcpInfoReader } from '../kernel/tcp-info.ts';
import { errnoName } from '../kernel/uring-support.ts';
import { formatHostPort } from '../net/address.ts';
import type { ListenerInfo, ListenerSample } from '../observability/listener-info.ts';
import type { ServiceName } from '../protocol/replies.ts';
import type { DaytimeServerConfig, TcpFd, UdpFd } from '../server/options.ts';
import { bindHeld, bindHeldUdp } from './held-socket.ts';

interface Held {
  service: ServiceName;
  worker: number;
  fd: number;
  // A TCP socket let go of (shutdown): it keeps its port, and listens again when asked.
  released: boolean;
  // Where it listens (every worker's socket for one service, transport and host is alike).
  info: ListenerInfo;
  // UDP only: the address family, which the worker's handle must match.
  family?: 4 | 6;
}

// Every socket of the server, bound before anything is served: with --workers, each worker's TCP
// listener and UDP socket (SO_REUSEPORT: one socket and one queue per worker), which the primary keeps a
// duplicate of; with --user, the one process's own, bound before it drops privileges. A worker inherits
// its sockets; when it dies, the primary's copy keeps the socket open, so the connections in its queue
// are not reset but wait for the replacement, which inherits the same socket. The primary also reads
// every queue from its copies (TCP_INFO), including a stopped worker's. Nothing is bound again later:
// once the server runs as --user, a port below 1024 could not be.
export class WorkerSockets {
  readonly #calls: SocketCalls;
  readonly #config: DaytimeServerConfig;
  readonly #held: Held[];
  // What the first worker's listeners are, for the start-up lines (every worker's are alike).
  readonly listeners: ListenerInfo[];

  private constructor(
    calls: SocketCalls,
    config: DaytimeServerConfig,
    held: Held[],
    listeners: ListenerInfo[],
  ) {
    this.#calls = calls;
    this.#config = config;
    this.#held = held;
    this.listeners = listeners;
  }

  // Port 0 is resolved by the first bind; the others take the number it got. UDP takes the TCP port.
  static async bind(
    calls: SocketCalls,
    config: DaytimeServerConfig,
    workers: number,
  ): Promise<WorkerSockets> {
    const held: Held[] = [];
    const listeners: ListenerInfo[] = [];
    const sockets = new WorkerSockets(calls, config, held, listeners);
    // One worker (--user alone): a socket like any server's, which no other process may join.
    const reusePort = workers > 1;
    try {
      const services: [ServiceName, number][] = [['daytime', config.port]];
      if (config.timePort !== undefined) services.push(['time', config.timePort]);
      const hosts = config.hosts.length > 0 ? config.hosts : [undefined];
      for (const [service, wanted] of services) {
        let port = wanted;
        for (const host of hosts) {
          for (const transport of config.udp ? (['tcp', 'udp'] as const) : (['tcp'] as const)) {
            let info: ListenerInfo | undefined;
            for (let worker = 1; worker <= workers; worker++) {
              const bound =
                transport === 'tcp'
                  ? await bindHeld(calls, { host, port, backlog: config.backlog, reusePort })
                  : await bindHeldUdp(calls, host, port, reusePort);
              port = bound.address.port;
              info ??= {
                service,
                transport,
                address: bound.address.address,
                port,
                family: bound.address.family,
                allInterfaces: host === undefined,
                inherited: false,
                backlog: transport === 'tcp' ? describeBacklog(config.backlog) : undefined,
              };
              const family = transport === 'udp' ? (bound.address.family === 'IPv6' ? 6 : 4) : undefined;
              held.push({ service, worker, fd: bound.fd, released: false, info, family });
            }
            if (info) listeners.push(info);
          }
        }
      }
    } catch (error) {
      sockets.close();
      throw error;
    }
    return sockets;
  }

  port(service: ServiceName): number | undefined {
    return this.listeners.find((l) => l.service === service)?.port;
  }

  // The descriptors of one worker's sockets, in the primary; the worker gets them in this order from
  // descriptor `first` on. A TCP socket let go of since listens again first.
  forWorker(worker: number): {
    fds: number[];
    tcpFds: (first: number) => TcpFd[];
    udpFds: (first: number) => UdpFd[];
  } {
    const mine = this.#held.filter((h) => h.worker === worker);
    for (const held of mine) {
      if (!held.released) continue;
      if (this.#calls.listen(held.fd, this.#config.backlog) !== 0) {
        const errno = this.#calls.errno();
        const at = formatHostPort(held.info.address, held.info.port);
        throw new DaytimeError(
          systemCode(errnoName(errno)),
          `cannot listen on ${at} again: ${this.#calls.strerror(errno)}`,
        );
      }
      held.released = false;
    }
    const described = (first: number, transport: 'tcp' | 'udp') =>
      mine.flatMap((h, i) =>
        h.info.transport === transport
          ? [{ service: h.service, fd: first + i, allInterfaces: h.info.allInterfaces, family: h.family }]
          : [],
      );
    return {
      fds: mine.map((h) => h.fd),
      tcpFds: (first) => described(first, 'tcp'),
      udpFds: (first) => described(first, 'udp').map((d) => ({ ...d, family: d.family ?? 6 })),
    };
  }

  // Every socket, handed over to this very process's server (--user without --workers): no longer held
  // here, so close() leaves them to the server.
  handOver(): { tcpFds: TcpFd[]; udpFds: UdpFd[] } {
    const all = this.#held.splice(0);
    const fds = (transport: 'tcp' | 'udp') =>
      all
        .filter((h) => h.info.transport === transport)
        .map((h) => ({
          service: h.service,
          fd: h.fd,
          allInterfaces: h.info.allInterfaces,
          family: h.family ?? 6,
        }));
    return { tcpFds: fds('tcp'), udpFds: fds('udp') };
  }

  // Every worker's queue, from the primary's copies: one system call each, a stopped worker's included.
  samples(read: TcpInfoReader): (ListenerSample & { worker: number })[] {
    const result: (ListenerSample & { worker: number })[] = [];
    for (const { service, worker, fd, released, info } of this.#held) {
      const queue = released || info.transport !== 'tcp' ? undefined : listenerQueue(read, fd);
      if (queue) result.push({ service, worker, address: info.address, port: info.port, ...queue });
    }
    return result;
  }

  // A worker that cannot be started: its TCP sockets stop listening and leave the SO_REUSEPORT group, so
  // that new connections go to the workers that run instead of waiting for one that does not come. What
  // was queued on them moves to the other workers' sockets where net.ipv4.tcp_migrate_req is 1, and is
  // reset where it is 0. Each keeps its port, to listen again for the next attempt. A UDP socket cannot
  // leave its group and keep its port: it stays, and what arrives on it waits in its buffer.
  release(worker: number): void {
    for (const held of this.#held) {
      if (held.worker !== worker || held.released || held.info.transport !== 'tcp') continue;
      this.#calls.shutdown(held.fd, SHUT_RD);
      held.released = true;
    }
  }

  close(): void {
    for (const { fd } of this.#held.splice(0)) this.#calls.close(fd);
  }
}

import net from 'node:net';
import { fromSystemError } from '../errors.ts';
import type { SocketCalls } from '../kernel/socket-calls.ts';
import { describeBacklog } from '../kernel/somaxconn.ts';
import { listenerQueue, type TcpInfoReader } from '../kernel/tcp-info.ts';
import { formatHostPort } from '../net/address.ts';
import type { ListenerInfo, ListenerSample } from '../observability/listener-info.ts';
import type { ServiceName } from '../protocol/replies.ts';
import type { DaytimeServerConfig, TcpFd } from '../server/options.ts';
import { closeServer, listenerFd } from '../tcp/accept/types.ts';

interface Held {
  service: ServiceName;
  host: string | undefined;
  worker: number;
  // -1 once released.
  fd: number;
  // Where it listens (every worker's socket for one service and host is alike).
  info: ListenerInfo;
}

// With --workers the primary binds every worker's TCP listener (SO_REUSEPORT, one socket and one accept
// queue per worker) and keeps a duplicate of each. A worker inherits its sockets; when it dies, the
// primary's copy keeps the socket open, so the connections in its queue are not reset but wait for the
// replacement, which inherits the same socket. The primary also reads every queue from its copies
// (TCP_INFO), including a stopped worker's.
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

  // Port 0 is resolved by the first bind; the others take the number it got.
  static async bind(
    calls: SocketCalls,
    config: DaytimeServerConfig,
    workers: number,
  ): Promise<WorkerSockets> {
    const held: Held[] = [];
    const listeners: ListenerInfo[] = [];
    const sockets = new WorkerSockets(calls, config, held, listeners);
    try {
      const services: [ServiceName, number][] = [['daytime', config.port]];
      if (config.timePort !== undefined) services.push(['time', config.timePort]);
      const hosts = config.hosts.length > 0 ? config.hosts : [undefined];
      for (const [service, wanted] of services) {
        let port = wanted;
        for (const host of hosts) {
          let info: ListenerInfo | undefined;
          for (let worker = 1; worker <= workers; worker++) {
            const { fd, address } = await bindHeld(calls, host, port, config.backlog);
            port = address.port;
            info ??= {
              service,
              transport: 'tcp',
              address: address.address,
              port: address.port,
              family: address.family,
              allInterfaces: host === undefined,
              inherited: false,
              backlog: describeBacklog(config.backlog),
            };
            held.push({ service, host, worker, fd, info });
          }
          if (info) listeners.push(info);
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
  // descriptor `first` on. Sockets released since are bound again first.
  async forWorker(worker: number): Promise<{ fds: number[]; tcpFds: (first: number) => TcpFd[] }> {
    const mine = this.#held.filter((h) => h.worker === worker);
    for (const held of mine) {
      if (held.fd >= 0) continue;
      held.fd = (await bindHeld(this.#calls, held.host, held.info.port, this.#config.backlog)).fd;
    }
    return {
      fds: mine.map((h) => h.fd),
      tcpFds: (first) => mine.map((h, i) => ({ service: h.service, fd: first + i })),
    };
  }

  // Every worker's queue, from the primary's copies: one system call each, a stopped worker's included.
  samples(read: TcpInfoReader): (ListenerSample & { worker: number })[] {
    const result: (ListenerSample & { worker: number })[] = [];
    for (const { service, worker, fd, info } of this.#held) {
      const queue = fd < 0 ? undefined : listenerQueue(read, fd);
      if (queue) result.push({ service, worker, address: info.address, port: info.port, ...queue });
    }
    return result;
  }

  // A worker that cannot be started: its sockets leave the SO_REUSEPORT group, so that new connections
  // go to the workers that run instead of waiting for one that does not come. What was queued on them
  // moves to the other workers' sockets where net.ipv4.tcp_migrate_req is 1, and is reset where it is 0.
  release(worker: number): void {
    for (const held of this.#held) {
      if (held.worker !== worker || held.fd < 0) continue;
      this.#calls.close(held.fd);
      held.fd = -1;
    }
  }

  close(): void {
    for (const { fd } of this.#held.splice(0)) if (fd >= 0) this.#calls.close(fd);
  }
}

// Node binds and listens (its address handling, dual stack and errors); the primary keeps a duplicate of
// the descriptor and closes Node's handle. That happens in the 'listening' callback, before the event
// loop polls, so the primary never accepts a connection.
async function bindHeld(calls: SocketCalls, host: string | undefined, port: number, backlog: number) {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = host === undefined ? `port ${port}` : formatHostPort(host, port);
      const hint =
        error.code === 'EACCES' && port < 1024 ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : '';
      reject(fromSystemError(error, `cannot listen on ${where}`, hint));
    });
    server.listen({ host, port, backlog, reusePort: true }, resolve);
  });
  const address = server.address() as net.AddressInfo;
  const nodeFd = listenerFd(server);
  const fd = nodeFd === undefined ? -1 : calls.dup(nodeFd);
  await closeServer(server);
  if (fd < 0) throw fromSystemError(undefined, 'cannot keep a copy of the listening socket for the workers');
  return { fd, address };
}

import net from 'node:net';
import { readDescriptorUse } from '../../kernel/descriptors.ts';
import type { SocketCalls } from '../../kernel/socket-calls.ts';
import { type ProxyHeader, parseProxyHeader, V2_MAX_LENGTH } from '../../protocol/proxy.ts';
import { acceptWhileRoom } from './proxy-accept.ts';
import { type Acceptor, type AcceptPath, type ConnectionHooks, closeServer, listenerFd } from './types.ts';

// Why a connection was closed without a reply.
export const PROXY_REFUSALS = ['missing', 'malformed', 'timeout', 'evicted', 'crowded'] as const;
export type ProxyRefusal = (typeof PROXY_REFUSALS)[number];

export interface ProxyHooks extends ConnectionHooks {
  // A complete header, by kind: "v2/PROXY", "v1/LOCAL"...
  header(kind: string): void;
  refused(reason: ProxyRefusal): void;
}

export interface ProxyPathOptions {
  // How long a connection may take to send its header.
  timeoutMs: number;
  // Connections waiting for their header at once, so that clients that connect and send nothing
  // cannot take every descriptor.
  maxWaiting: number;
}

interface Waiting {
  accepted: number;
  deadline: number;
  received: Buffer;
}

// A balancer sends its header with the connection, so a connection that has waited this long without
// one is the first to go when too many wait; a younger one may simply not have been read yet.
export const GRACE_MS = 50;

// Behind a balancer that speaks the PROXY protocol (HAProxy's send-proxy, send-proxy-v2): the header
// comes before anything else and names the client, and the spec forbids answering before it is
// complete. So this path reads, which the others never do: a net.Socket per connection, reading
// until the header is whole, then the reply and close. It costs more per connection than the paths
// that never read (bench/README.md has the figure).
//
// When `maxWaiting` connections wait for a header, the one that has waited longest is closed to make
// room, once it is past GRACE_MS. Until then, on Linux (koffi), the path stops accepting and the new
// connections wait in the kernel's queue, costing no descriptor; elsewhere (Node's own accept) the
// newcomer is closed instead ("crowded").
export function proxyPath(options: ProxyPathOptions, calls?: SocketCalls): AcceptPath {
  return {
    name: 'proxy',
    take(server, hooks) {
      const table = new HeaderTable(options, hooks as ProxyHooks);
      const loop =
        calls &&
        acceptWhileRoom(calls, server, {
          wait: () => table.wait(),
          socket: (client) => table.take(new net.Socket({ fd: client, readable: true, writable: true })),
          error: (code) => hooks.acceptError(code),
        });
      if (loop) return table.acceptor(loop.fd, async () => loop.close());
      server.on('connection', (socket: net.Socket) => {
        if (table.wait() > 0) table.crowded(socket);
        else table.take(socket);
      });
      return table.acceptor(listenerFd(server), () => closeServer(server));
    },
  };
}

class HeaderTable {
  readonly #options: ProxyPathOptions;
  readonly #hooks: ProxyHooks;
  // Insertion order: the first entry has waited longest.
  readonly #waiting = new Map<net.Socket, Waiting>();
  readonly #sweep: NodeJS.Timeout;

  constructor(options: ProxyPathOptions, hooks: ProxyHooks) {
    this.#options = options;
    this.#hooks = hooks;
    this.#sweep = setInterval(
      () => {
        const now = Date.now();
        for (const [socket, entry] of this.#waiting)
          if (now >= entry.deadline) this.#refuse(socket, 'timeout');
      },
      Math.max(10, Math.min(250, options.timeoutMs / 4)),
    );
    this.#sweep.unref();
  }

  // 0: a connection can be taken now (evicting the longest waiting if need be); otherwise the ms until
  // the longest waiting one is past its grace.
  wait(): number {
    if (this.#waiting.size < this.#options.maxWaiting) return 0;
    const [oldest] = this.#waiting.values();
    return oldest ? Math.max(0, GRACE_MS - (Date.now() - oldest.accepted)) : 0;
  }

  crowded(socket: net.Socket): void {
    this.#hooks.refused('crowded');
    socket.destroy();
  }

  take(socket: net.Socket): void {
    const hooks = this.#hooks;
    if (!hooks.admit()) {
      socket.destroy();
      return;
    }
    if (this.#waiting.size >= this.#options.maxWaiting) {
      const [oldest] = this.#waiting.keys();
      if (oldest) this.#refuse(oldest, 'evicted');
    }
    const now = Date.now();
    const entry: Waiting = {
      accepted: now,
      deadline: now + this.#options.timeoutMs,
      received: Buffer.alloc(0),
    };
    this.#waiting.set(socket, entry);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#waiting.delete(socket);
      hooks.error(error.code ?? 'UNKNOWN');
    });
    socket.on('close', hooks.closed);
    socket.on('end', () => {
      if (this.#waiting.has(socket))
        this.#refuse(socket, entry.received.length === 0 ? 'missing' : 'malformed');
    });
    socket.on('data', (chunk: Buffer) => {
      if (!this.#waiting.has(socket)) return;
      entry.received = Buffer.concat([entry.received, chunk]).subarray(0, V2_MAX_LENGTH);
      const parsed = parseProxyHeader(entry.received);
      if (parsed.status === 'incomplete') return;
      if (parsed.status === 'invalid') {
        this.#refuse(socket, parsed.reason.startsWith('no PROXY') ? 'missing' : 'malformed');
        return;
      }
      this.#waiting.delete(socket);
      socket.pause();
      reply(socket, parsed.header, hooks);
    });
    socket.resume();
  }

  acceptor(fd: number | undefined, close: () => Promise<void>): Acceptor {
    return {
      path: 'proxy',
      fd,
      close: async () => {
        await close();
        clearInterval(this.#sweep);
      },
      destroyAll: () => {
        for (const socket of this.#waiting.keys()) socket.destroy();
        this.#waiting.clear();
      },
    };
  }

  #refuse(socket: net.Socket, reason: ProxyRefusal): void {
    this.#waiting.delete(socket);
    this.#hooks.refused(reason);
    socket.destroy();
  }
}

function reply(socket: net.Socket, header: ProxyHeader, hooks: ProxyHooks): void {
  hooks.header(`v${header.version}/${header.command}`);
  if (hooks.peer) {
    const direct = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const client = header.command === 'PROXY' && header.source ? header.source : direct;
    hooks.peer(client.address, client.port, client === direct ? undefined : direct);
  }
  let release: (() => void) | undefined;
  socket.write(hooks.reply(), (error) => {
    release?.();
    if (error) return;
    hooks.served();
    process.nextTick(() => socket.destroy());
  });
  if (socket.writableLength > 0) release = hooks.pending(() => socket.destroy());
}

// Connections that may wait for their PROXY header at once: half the descriptor limit, so a flood of
// clients that connect and say nothing leaves the other half for the server's own work and for the
// connections that do send a header.
export function maxWaitingForHeaders(): number {
  const limit = readDescriptorUse()?.limit;
  return limit === undefined || !Number.isFinite(limit) ? 1024 : Math.max(16, Math.floor(limit / 2));
}

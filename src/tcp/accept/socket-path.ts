import type net from 'node:net';
import { type Acceptor, type AcceptPath, type ConnectionHooks, closeServer, listenerFd } from './types.ts';

const destroySocket = (socket: net.Socket) => socket.destroy();

// Node's own path: a net.Socket (a full Duplex stream) for each connection. The slowest, and the one
// that needs nothing beyond Node's public API, so it is always there. Kept to what dtref does: nothing
// is read (pauseOnConnect), the reply is written and the socket closed as soon as it is in the kernel.
export const socketPath: AcceptPath = {
  name: 'socket',
  take: (server, hooks) => SocketAcceptor.take(server, hooks),
};

class SocketAcceptor implements Acceptor {
  readonly path = 'socket';
  readonly fd: number | undefined;
  readonly #server: net.Server;
  readonly #hooks: ConnectionHooks;

  static take(server: net.Server, hooks: ConnectionHooks): SocketAcceptor {
    const acceptor = new SocketAcceptor(server, hooks);
    server.on('connection', acceptor.#connection);
    return acceptor;
  }

  private constructor(server: net.Server, hooks: ConnectionHooks) {
    this.fd = listenerFd(server);
    this.#server = server;
    this.#hooks = hooks;
  }

  // One connection: counted, logged, the reply written, the socket destroyed once the kernel has it.
  readonly #connection = (socket: net.Socket): void => {
    const hooks = this.#hooks;
    if (!hooks.admit()) {
      socket.destroy();
      return;
    }
    socket.on('error', (error: NodeJS.ErrnoException) => hooks.error(error.code ?? 'UNKNOWN'));
    socket.on('close', hooks.closed);
    if (hooks.peer && socket.remoteAddress !== undefined)
      hooks.peer(socket.remoteAddress, socket.remotePort ?? 0);
    let release: (() => void) | undefined;
    socket.write(hooks.reply(), (error) => {
      release?.();
      if (error) return; // counted by the 'error' handler; the stream destroys itself
      hooks.served();
      // Deferred: destroying inside the write callback makes the stream build an ERR_STREAM_DESTROYED
      // (stack trace included) for every connection, about 2 % of the server's CPU in a profile.
      process.nextTick(destroySocket, socket);
    });
    // 26 bytes into a fresh connection's empty send buffer are written at once; should a write ever
    // stay pending, the service's write timeout may close it.
    if (socket.writableLength > 0) release = hooks.pending(() => socket.destroy());
  };

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}

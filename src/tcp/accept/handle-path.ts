import type net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { nodeBinding } from '../../net/node-binding.ts';
import {
  type AcceptFallback,
  type Acceptor,
  type AcceptPath,
  type ConnectionHooks,
  cannotTake,
  closeServer,
  listenerFd,
} from './types.ts';

// Node's own per-connection path builds a net.Socket (a full Duplex stream) for every accepted
// connection; for a reply of 26 bytes that object is about a fifth of the server's CPU per connection
// (bench/README.md). This path takes the accepted TCP handle as libuv hands it over, writes the cached
// reply and closes it. libuv still accepts one connection per loop turn and Node still builds a TCPWrap
// and calls into JavaScript for each (the libc path avoids both). It relies on two internals:
// - the listening handle's `onconnection(status, clientHandle)` callback
//   (nodejs/node v24.x lib/net.js, setupListenHandle: `this._handle.onconnection = onconnection`);
// - `WriteWrap` from process.binding('stream_wrap'), the request object StreamBase writes take, and
//   `streamBaseState[kLastWriteWasAsync]`, where a write that could not complete at once says so
//   (lib/internal/stream_base_commons.js reads it the same way; process.binding is deprecated, DEP0111,
//   and still allow-lists stream_wrap in Node 24).

interface WriteReq {
  handle: TcpHandle;
  oncomplete: (status: number) => void;
}
interface TcpHandle {
  writeBuffer(req: WriteReq, buffer: Buffer): number;
  getpeername(out: { address?: string; port?: number }): number;
  close(callback?: () => void): void;
}
type WriteWrapClass = new () => WriteReq;
type OnConnection = (status: number, handle: TcpHandle | undefined) => void;
interface StreamWrap {
  WriteWrap: WriteWrapClass;
  // streamBaseState[kLastWriteWasAsync] is 1 when the last write is still in libuv's queue.
  lastWriteWasAsync: () => boolean;
}

function streamWrap(): StreamWrap | undefined {
  const binding = nodeBinding('stream_wrap');
  const { WriteWrap, streamBaseState: state, kLastWriteWasAsync: index } = binding ?? {};
  if (typeof WriteWrap !== 'function' || !(state instanceof Int32Array) || typeof index !== 'number')
    return undefined;
  return { WriteWrap: WriteWrap as WriteWrapClass, lastWriteWasAsync: () => state[index] !== 0 };
}

export const handlePath: AcceptPath = {
  name: 'handle',
  take: (server, hooks) => HandleAcceptor.take(server, hooks),
};

class HandleAcceptor implements Acceptor {
  readonly path = 'handle';
  readonly fd: number | undefined;
  readonly #server: net.Server;
  readonly #hooks: ConnectionHooks;
  readonly #stream: StreamWrap;

  static take(server: net.Server, hooks: ConnectionHooks): HandleAcceptor | AcceptFallback {
    const listener = (server as unknown as { _handle?: { onconnection?: OnConnection } })._handle;
    const stream = streamWrap();
    if (!listener || typeof listener.onconnection !== 'function' || !stream)
      return cannotTake(
        'handle',
        "this Node does not expose the listening handle's onconnection or WriteWrap",
      );
    const acceptor = new HandleAcceptor(server, hooks, stream);
    listener.onconnection = acceptor.#connection;
    return acceptor;
  }

  private constructor(server: net.Server, hooks: ConnectionHooks, stream: StreamWrap) {
    this.fd = listenerFd(server);
    this.#server = server;
    this.#hooks = hooks;
    this.#stream = stream;
  }

  // One connection as libuv accepted it: counted, logged, the reply written on its handle, closed.
  readonly #connection: OnConnection = (status, handle) => {
    const hooks = this.#hooks;
    if (status < 0 || !handle) {
      hooks.acceptError(getSystemErrorName(status));
      return;
    }
    if (!hooks.admit()) {
      handle.close();
      return;
    }
    if (hooks.peer) {
      const out: { address?: string; port?: number } = {};
      if (handle.getpeername(out) === 0) hooks.peer(out.address ?? '', out.port ?? 0);
    }
    const req = new this.#stream.WriteWrap();
    const result = handle.writeBuffer(req, hooks.reply());
    if (result < 0) {
      hooks.error(getSystemErrorName(result));
      this.#close(handle);
    } else if (!this.#stream.lastWriteWasAsync()) {
      // Written to the kernel at once (the usual case): close now; the FIN follows the data.
      hooks.served();
      this.#close(handle);
    } else {
      this.#wait(handle, req);
    }
  };

  // A write libuv completes on a later turn of the loop: the callback (and its closure) is attached only
  // on this rare path. Closed once, whether the write completes or the service's write timeout comes.
  #wait(handle: TcpHandle, req: WriteReq): void {
    const hooks = this.#hooks;
    let open = true;
    const finish = () => {
      if (open) this.#close(handle);
      open = false;
    };
    const release = hooks.pending(finish);
    req.handle = handle;
    req.oncomplete = (status) => {
      release();
      if (!open) return;
      if (status < 0) hooks.error(getSystemErrorName(status));
      else hooks.served();
      finish();
    };
  }

  // uv_close() closes the descriptor at once; only its callback waits for a later turn of the loop, and
  // that callback would be one more call into JavaScript per connection. So no callback.
  #close(handle: TcpHandle): void {
    handle.close();
    this.#hooks.closed();
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}

import type net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { nodeBinding } from '../net/node-binding.ts';

// Node's own per-connection path builds a net.Socket (a full Duplex stream) for every accepted
// connection; for a reply of 26 bytes that object is about a fifth of the server's CPU per connection
// (measured: 20.2 µs with it, 16.3 µs without, dtref 12.9 µs; bench/README.md). The fast path takes
// the accepted TCP handle as libuv hands it over, writes the cached reply and closes it, which is what
// dtref does. It relies on two internals, so it is feature-detected and falls back to net.Socket:
// - the listening handle's `onconnection(status, clientHandle)` callback
//   (nodejs/node v24.x lib/net.js, setupListenHandle: `this._handle.onconnection = onconnection`);
// - `WriteWrap` from process.binding('stream_wrap'), the request object StreamBase writes take
//   (process.binding is deprecated, DEP0111, and still allow-lists stream_wrap in Node 24).

interface WriteReq {
  handle: TcpHandle;
  async: boolean;
  oncomplete: (status: number) => void;
}
interface TcpHandle {
  writeBuffer(req: WriteReq, buffer: Buffer): number;
  getpeername(out: { address?: string; port?: number }): number;
  close(callback?: () => void): void;
}
type WriteWrapClass = new () => WriteReq;
type OnConnection = (status: number, handle: TcpHandle | undefined) => void;

export interface FastAcceptHooks {
  reply(): Buffer;
  // Called for every accepted connection before the reply; false closes it unanswered (a limit).
  admit(): boolean;
  served(): void;
  // A failed write, by code (EPIPE, ECONNRESET...).
  error(code: string): void;
  // A failed accept() (EMFILE, ENFILE...); the listener stays open.
  acceptError(code: string): void;
  // Only when per-connection logging is on (getpeername is a syscall).
  peer?(address: string, port: number): void;
  // A write that did not complete at once: the caller may time it out by calling close; the returned
  // function releases it once the write completes.
  pending(close: () => void): () => void;
  // An admitted connection's handle is closed.
  closed(): void;
}

function writeWrapClass(): WriteWrapClass | undefined {
  const WriteWrap = nodeBinding('stream_wrap')?.WriteWrap;
  return typeof WriteWrap === 'function' ? (WriteWrap as WriteWrapClass) : undefined;
}

// Replaces the listening server's per-connection callback; returns false (and changes nothing) where
// the internals are not as expected. Call after 'listening'.
export function installFastAccept(server: net.Server, hooks: FastAcceptHooks): boolean {
  const listener = (server as unknown as { _handle?: { onconnection?: OnConnection } })._handle;
  const WriteWrap = writeWrapClass();
  if (!listener || typeof listener.onconnection !== 'function' || !WriteWrap) return false;
  const fail = (status: number) => hooks.error(getSystemErrorName(status));
  // uv_close() closes the descriptor at once; only its callback waits for a later turn of the loop,
  // and that callback would be one more call into JavaScript per connection. So no callback.
  const close = (handle: TcpHandle) => {
    handle.close();
    hooks.closed();
  };
  listener.onconnection = (status, handle) => {
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
    const req = new WriteWrap();
    req.async = false;
    const result = handle.writeBuffer(req, hooks.reply());
    if (result < 0) {
      fail(result);
      close(handle);
    } else if (!req.async) {
      // Written to the kernel at once (the usual case): close now; the FIN follows the data.
      hooks.served();
      close(handle);
    } else {
      // Completion comes on a later turn of the loop, so the callback (and its closure) can be
      // attached now, only on this rare path.
      const release = hooks.pending(() => close(handle));
      req.handle = handle;
      req.oncomplete = (status) => {
        release();
        if (status < 0) fail(status);
        else hooks.served();
        close(handle);
      };
    }
  };
  return true;
}

import { nodeBinding } from '../../net/node-binding.ts';

// The handle connect path: a load generator that builds a net.Socket (a full Duplex stream) per
// connection measures Node's stream machinery as much as the server (bench/README.md). This path
// connects a TCP handle as net.Socket does inside, reads into one shared buffer and closes at EOF. It
// relies on internals, so it is feature-detected (connect/choose.ts falls back to net.Socket):
// - `TCP` and `TCPConnectWrap` from process.binding('tcp_wrap'), the handle and the connect request
//   net.Socket wraps (nodejs/node v24.x lib/net.js, internalConnect);
// - `streamBaseState[kReadBytesOrError]` from process.binding('stream_wrap'), where a read's length or
//   error is left for the handle's `onread` (lib/internal/stream_base_commons.js, onStreamRead), and
//   the handle's `useUserBuffer`, behind net.Socket's `onread: { buffer }` option;
// - `UV_EOF` from process.binding('uv').

export interface ConnectReq {
  oncomplete: (status: number, handle: RawHandle) => void;
  address: string;
  port: number;
}
export interface RawHandle {
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  readStart(): number;
  useUserBuffer(buffer: Uint8Array): void;
  close(callback?: () => void): void;
  onread: ((this: RawHandle) => void) | null;
}
export type RawHandleClass = new (type: number) => RawHandle;

export interface FastConnect {
  TCP: RawHandleClass;
  socketType: number;
  newRequest(): ConnectReq;
  // The length of the read just reported to onread, or a negative libuv error.
  readResult(): number;
  eof: number;
}

// The internals above, or undefined where this Node does not have them as expected.
export function detectFastConnect(): FastConnect | undefined {
  const tcp = nodeBinding('tcp_wrap');
  const stream = nodeBinding('stream_wrap');
  const eof = nodeBinding('uv')?.UV_EOF;
  if (!tcp || !stream) return undefined;
  const TCP = tcp.TCP as RawHandleClass | undefined;
  const ConnectWrap = tcp.TCPConnectWrap as (new () => ConnectReq) | undefined;
  const socketType = (tcp.constants as { SOCKET?: number } | undefined)?.SOCKET;
  const state = stream.streamBaseState as Int32Array | undefined;
  const slot = stream.kReadBytesOrError;
  if (
    typeof TCP !== 'function' ||
    typeof ConnectWrap !== 'function' ||
    typeof socketType !== 'number' ||
    !(state instanceof Int32Array) ||
    typeof slot !== 'number' ||
    typeof eof !== 'number' ||
    typeof TCP.prototype.useUserBuffer !== 'function' ||
    typeof TCP.prototype.readStart !== 'function'
  ) {
    return undefined;
  }
  return {
    TCP,
    socketType,
    newRequest: () => new ConnectWrap(),
    readResult: () => state[slot] ?? 0,
    eof,
  };
}

// Starts a connect on `handle`; a negative return is a libuv error (the request never completes).
export function startConnect(
  fast: FastConnect,
  handle: RawHandle,
  target: { address: string; port: number; ipv6: boolean },
  oncomplete: ConnectReq['oncomplete'],
): number {
  const req = fast.newRequest();
  req.oncomplete = oncomplete;
  req.address = target.address;
  req.port = target.port;
  return target.ipv6
    ? handle.connect6(req, target.address, target.port)
    : handle.connect(req, target.address, target.port);
}

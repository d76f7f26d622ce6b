import { constants } from 'node:os';
import { loadLibc } from './libc.ts';

// The system calls of the libc accept and connect paths and of the lab's raw sockets, through koffi.
// Signatures take addresses as integers (`intptr_t`) into memory allocated once, not Buffers: measured
// here, a call with pointer arguments costs about 1 µs more per connection than the same call with
// integers (research/accept-path.md).

export interface PollHandle {
  start(options: { readable?: boolean; writable?: boolean }, callback: () => void): void;
  stop(): void;
  close(): void;
}

// Native memory: its address for the calls, a view for JavaScript.
export interface NativeMemory {
  address: number;
  bytes: Uint8Array;
  view: DataView;
  free(): void;
}

export interface SocketCalls {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, address: number, length: number): number;
  accept4(fd: number, address: number, lengthAddress: number, flags: number): number;
  bind(fd: number, address: number, length: number): number;
  // listen(2) as is: any backlog, 0 included, and again on a listening socket to change it.
  listen(fd: number, backlog: number): number;
  // The socket's own address and its peer's, with the room at `lengthAddress` (a socklen_t).
  getsockname(fd: number, address: number, lengthAddress: number): number;
  getpeername(fd: number, address: number, lengthAddress: number): number;
  read(fd: number, buffer: number, length: number): number;
  write(fd: number, buffer: number, length: number): number;
  close(fd: number): number;
  // shutdown(2). SHUT_RD on a listening TCP socket stops it listening (it leaves its SO_REUSEPORT group)
  // but keeps its address and port: listen() makes it listen again, without bind's privileges.
  shutdown(fd: number, how: number): number;
  // A new descriptor for the same socket, close-on-exec: the lowest free number from `lowest` (3) on.
  dup(fd: number, lowest?: number): number;
  // setsockopt(2) with an int value; 0 on success.
  setIntOption(fd: number, level: number, name: number, value: number): number;
  epollCreate(): number;
  epollCtl(epfd: number, op: number, fd: number, event: number): number;
  // Blocks this thread (a worker's, for the load generator) for up to `timeoutMs`.
  epollWait(epfd: number, events: number, max: number, timeoutMs: number): number;
  // errno as the last call left it, and libc's words for one.
  errno(): number;
  strerror(errno: number): string;
  // libuv's uv_poll on the descriptor: readiness from Node's own event loop, no thread of ours.
  poll(fd: number, events: { readable?: boolean; writable?: boolean }, callback: () => void): PollHandle;
  alloc(size: number): NativeMemory;
}

export { AF_INET, AF_INET6 } from '../net/ip.ts';
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SHUT_RD = 0;
export const { EINTR, EAGAIN, EPROTO, ECONNABORTED, EINPROGRESS } = constants.errno;
const F_DUPFD_CLOEXEC = 1030;
const EPOLL_CLOEXEC = 0o2000000;

let loaded: Promise<SocketCalls> | undefined;

// Rejects where koffi, libc or one of its symbols cannot be loaded (not Linux, another libc).
export function loadSocketCalls(): Promise<SocketCalls> {
  loaded ??= bind();
  return loaded;
}

async function bind(): Promise<SocketCalls> {
  const { koffi, lib } = await loadLibc();
  const epollCreate1 = lib.func('int epoll_create1(int flags)');
  const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
  const setsockopt = lib.func(
    'int setsockopt(int fd, int level, int name, const int *value, uint32_t length)',
  );
  const node = (koffi as unknown as { node?: { poll?: unknown } }).node;
  if (typeof node?.poll !== 'function') throw new Error('this koffi has no poll handles');
  const poll = node.poll as SocketCalls['poll'];
  return {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    connect: lib.func('int connect(int fd, intptr_t addr, uint32_t addrlen)'),
    accept4: lib.func('int accept4(int fd, intptr_t addr, intptr_t addrlen, int flags)'),
    bind: lib.func('int bind(int fd, intptr_t addr, uint32_t addrlen)'),
    listen: lib.func('int listen(int fd, int backlog)'),
    getsockname: lib.func('int getsockname(int fd, intptr_t addr, intptr_t addrlen)'),
    getpeername: lib.func('int getpeername(int fd, intptr_t addr, intptr_t addrlen)'),
    read: lib.func('intptr_t read(int fd, intptr_t buf, size_t count)'),
    write: lib.func('intptr_t write(int fd, intptr_t buf, size_t count)'),
    close: lib.func('int close(int fd)'),
    shutdown: lib.func('int shutdown(int fd, int how)'),
    dup: (fd, lowest = 3) => fcntl(fd, F_DUPFD_CLOEXEC, 'int', lowest),
    setIntOption: (fd, level, name, value) => setsockopt(fd, level, name, [value], 4),
    epollCreate: () => epollCreate1(EPOLL_CLOEXEC),
    epollCtl: lib.func('int epoll_ctl(int epfd, int op, int fd, intptr_t event)'),
    epollWait: lib.func('int epoll_wait(int epfd, intptr_t events, int maxevents, int timeout)'),
    errno: () => koffi.errno(),
    strerror: lib.func('const char *strerror(int errnum)'),
    poll,
    alloc(size) {
      const pointer = koffi.alloc('uint8_t', size);
      const bytes = new Uint8Array(koffi.view(pointer, size));
      return {
        address: Number(koffi.address(pointer)),
        bytes,
        view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        free: () => koffi.free(pointer),
      };
    },
  };
}

import { loadLibc } from '../../kernel/libc.ts';

// The system calls of the libc accept path, through koffi. Signatures take addresses as integers
// (`intptr_t`) into memory allocated once, not Buffers: measured here, a call with pointer arguments
// costs about 1 µs more per connection than the same call with integers (research/accept-path.md).

export interface PollHandle {
  start(options: { readable?: boolean; writable?: boolean }, callback: () => void): void;
  stop(): void;
  close(): void;
}

// Native memory: its address for the calls, a view for JavaScript.
export interface NativeMemory {
  address: number;
  bytes: Uint8Array;
  free(): void;
}

export interface SocketCalls {
  accept4(fd: number, address: number, lengthAddress: number, flags: number): number;
  write(fd: number, buffer: number, length: number): number;
  close(fd: number): number;
  // A new descriptor for the same socket, close-on-exec.
  dup(fd: number): number;
  // Writes the text form of an address (16 or 4 bytes at `source`) to `destination`; 0 on failure.
  inetNtop(family: number, source: number, destination: number, size: number): number;
  // errno as the last call left it.
  errno(): number;
  // libuv's uv_poll on the descriptor: readiness from Node's own event loop, no thread of ours.
  poll(fd: number, events: { readable?: boolean; writable?: boolean }, callback: () => void): PollHandle;
  alloc(size: number): NativeMemory;
}

export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
const F_DUPFD_CLOEXEC = 1030;

let loaded: Promise<SocketCalls> | undefined;

// Rejects where koffi, libc or one of its symbols cannot be loaded (not Linux, another libc).
export function loadSocketCalls(): Promise<SocketCalls> {
  loaded ??= bind();
  return loaded;
}

async function bind(): Promise<SocketCalls> {
  const { koffi, lib } = await loadLibc();
  const accept4 = lib.func('int accept4(int fd, intptr_t addr, intptr_t addrlen, int flags)');
  const write = lib.func('intptr_t write(int fd, intptr_t buf, size_t count)');
  const close = lib.func('int close(int fd)');
  const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
  const inetNtop = lib.func('intptr_t inet_ntop(int af, intptr_t src, intptr_t dst, uint32_t size)');
  const node = (koffi as unknown as { node?: { poll?: unknown } }).node;
  if (typeof node?.poll !== 'function') throw new Error('this koffi has no poll handles');
  const poll = node.poll as SocketCalls['poll'];
  return {
    accept4,
    write,
    close,
    dup: (fd) => fcntl(fd, F_DUPFD_CLOEXEC, 'int', 3),
    inetNtop,
    errno: () => koffi.errno(),
    poll: (fd, events, callback) => poll(fd, events, callback),
    alloc(size) {
      const pointer = koffi.alloc('uint8_t', size);
      return {
        address: Number(koffi.address(pointer)),
        bytes: new Uint8Array(koffi.view(pointer, size)),
        free: () => koffi.free(pointer),
      };
    },
  };
}

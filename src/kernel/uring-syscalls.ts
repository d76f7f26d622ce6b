import type koffiModule from 'koffi';
import { loadLibc } from './libc.ts';

// The io_uring system calls through libc's syscall(), and the mappings of a ring's memory. Each is
// declared with a fixed, integer-only signature (addresses as intptr_t into memory allocated once):
// libc's syscall() takes its arguments from registers whatever the prototype says, and a fixed
// signature spares koffi the per-call type parsing of a variadic call. Numbers are the same on every
// architecture that has io_uring (425-427 since Linux 5.1).

const SYS_IO_URING_SETUP = 425;
const SYS_IO_URING_ENTER = 426;
const SYS_IO_URING_REGISTER = 427;
const PROT_READ_WRITE = 0x3;
const MAP_SHARED_POPULATE = 0x01 | 0x8000;
const RLIMIT_NOFILE = 7;
const RLIMIT_MEMLOCK = 8;
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;
const EFD_NONBLOCK_CLOEXEC = 0o4000 | 0o2000000;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn; // (void *)-1

// A mapping of ring memory: its address for the kernel, an ArrayBuffer over it for JavaScript.
export interface Mapping {
  address: number;
  buffer: ArrayBuffer;
  unmap(): void;
}

export interface UringSyscalls {
  // io_uring_setup(entries, params): the ring's descriptor, or -1 (errno()).
  setup(entries: number, params: number): number;
  // io_uring_enter(fd, to_submit, min_complete, flags, arg, argsz).
  enter(fd: number, toSubmit: number, minComplete: number, flags: number, arg: number, size: number): number;
  register(fd: number, opcode: number, arg: number, count: number): number;
  // mmap(length, MAP_SHARED | MAP_POPULATE) of the ring descriptor at `offset`; undefined on failure.
  map(fd: number, length: number, offset: number): Mapping | undefined;
  // A non-blocking, close-on-exec eventfd: the ring signals it when it has work (IORING_REGISTER_EVENTFD).
  eventfd(): number;
  // For the support check's throwaway listener.
  bind(fd: number, address: number, length: number): number;
  listen(fd: number, backlog: number): number;
  // The soft RLIMIT_NOFILE now.
  fileLimit(): number;
  // The soft RLIMIT_MEMLOCK now, in bytes (Infinity: unlimited).
  memlockLimit(): number;
  // close(2): the ring's own descriptor, when its setup fails half way or the ring is done.
  close(fd: number): number;
  errno(): number;
  koffi: typeof koffiModule;
}

let loaded: Promise<UringSyscalls> | undefined;

// Rejects where koffi or libc cannot be loaded (not Linux).
export function loadUringSyscalls(): Promise<UringSyscalls> {
  loaded ??= bind();
  return loaded;
}

async function bind(): Promise<UringSyscalls> {
  const { koffi, lib } = await loadLibc();
  const setup = lib.func('syscall', 'long', ['long', 'uint32_t', 'intptr_t']);
  const enter = lib.func('syscall', 'long', [
    'long',
    'int',
    'uint32_t',
    'uint32_t',
    'uint32_t',
    'intptr_t',
    'size_t',
  ]);
  const register = lib.func('syscall', 'long', ['long', 'int', 'uint32_t', 'intptr_t', 'uint32_t']);
  const mmap = lib.func(
    'void *mmap(intptr_t addr, size_t length, int prot, int flags, int fd, intptr_t off)',
  );
  const munmap = lib.func('int munmap(void *addr, size_t length)');
  const eventfd = lib.func('int eventfd(uint32_t initval, int flags)');
  const getrlimit = lib.func('int getrlimit(int resource, intptr_t rlim)');
  const rlimit = koffi.alloc('uint64_t', 2);
  const rlimitView = new BigUint64Array(koffi.view(rlimit, 16));
  return {
    setup: (entries, params) => setup(SYS_IO_URING_SETUP, entries, params),
    // The counts are u32 in the kernel: never more than a ring holds, passed as such.
    enter: (fd, toSubmit, minComplete, flags, arg, size) =>
      enter(SYS_IO_URING_ENTER, fd, toSubmit >>> 0, minComplete >>> 0, flags, arg, size),
    register: (fd, opcode, arg, count) => register(SYS_IO_URING_REGISTER, fd, opcode, arg, count),
    map(fd, length, offset) {
      const pointer = mmap(0, length, PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, offset);
      const raw = pointer === null ? 0n : koffi.address(pointer);
      if (raw === 0n || raw === MAP_FAILED) return undefined;
      const address = Number(raw);
      let mapped = true;
      return {
        address,
        buffer: koffi.view(pointer, length),
        unmap: () => {
          if (mapped) munmap(pointer, length);
          mapped = false;
        },
      };
    },
    eventfd: () => eventfd(0, EFD_NONBLOCK_CLOEXEC),
    bind: lib.func('int bind(int fd, intptr_t addr, uint32_t length)'),
    listen: lib.func('int listen(int fd, int backlog)'),
    close: lib.func('int close(int fd)'),
    fileLimit: () =>
      getrlimit(RLIMIT_NOFILE, Number(koffi.address(rlimit))) === 0 ? Number(rlimitView[0]) : Number.NaN,
    memlockLimit() {
      if (getrlimit(RLIMIT_MEMLOCK, Number(koffi.address(rlimit))) !== 0) return Number.NaN;
      return rlimitView[0] === RLIM_INFINITY ? Number.POSITIVE_INFINITY : Number(rlimitView[0]);
    },
    errno: () => koffi.errno(),
    koffi,
  };
}

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import {
  loadSocketCalls,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type SocketCalls,
} from './socket-calls.ts';
import { readSysctl } from './sysctl.ts';
import { ENTER_GETEVENTS, FEAT_CQE_SKIP, FEAT_EXT_ARG, FEAT_NODROP, Ring } from './uring.ts';
import { RING_ENTRIES } from './uring-loop.ts';
import {
  CANCEL_ALL,
  CANCEL_FD,
  OP_ACCEPT,
  OP_ASYNC_CANCEL,
  OP_CLOSE,
  OP_CONNECT,
  OP_FIXED_FD_INSTALL,
  OP_RECV,
  OP_SEND,
  OP_SOCKET,
  prepAccept,
  prepCancel,
} from './uring-requests.ts';
import { keepSpareRing } from './uring-spare.ts';
import { loadUringSyscalls, type UringSyscalls } from './uring-syscalls.ts';

// Whether io_uring can carry this project's accept and connect paths here, decided once per process by
// setting a ring up and using it: io_uring is refused in many places (kernel.io_uring_disabled, the
// default seccomp profiles of container runtimes, gVisor, old kernels, an RLIMIT_MEMLOCK too small for
// the rings), and each says so differently. `code` is short (a metric label), `reason` a sentence for
// people. The ring tried is as large as the paths' own (RING_ENTRIES), so a limit on locked memory that
// refuses theirs refuses it too; a ring refused later (another listener's) says why where it happens.

// `chains`: whether the kernel can serve a whole connection in the ring (accept into a direct descriptor,
// send from it, close it, and move a socket whose reply must wait into the descriptor table with
// IORING_OP_FIXED_FD_INSTALL, Linux 6.8), or why not.
export type UringSupport =
  | { ok: true; sys: UringSyscalls; calls: SocketCalls; chains: true | { code: string; reason: string } }
  | { ok: false; code: string; reason: string };

const { EACCES, ECANCELED, ENOMEM, ENOSYS, EPERM } = constants.errno;
const AF_UNIX = 1;

let checked: Promise<UringSupport> | undefined;

export function uringSupport(): Promise<UringSupport> {
  checked ??= check();
  return checked;
}

async function check(): Promise<UringSupport> {
  let sys: UringSyscalls;
  let calls: SocketCalls;
  try {
    [sys, calls] = await Promise.all([loadUringSyscalls(), loadSocketCalls()]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      code: 'unsupported',
      reason: `io_uring needs Linux and libc through koffi (${message})`,
    };
  }
  const ring = Ring.create(sys, RING_ENTRIES);
  if (!(ring instanceof Ring)) return { ok: false, ...refusal(sys, ring.errno) };
  const missing = exercise(sys, calls, ring);
  if (missing) {
    ring.close();
    return { ok: false, ...missing };
  }
  const chains = ring.supports([OP_FIXED_FD_INSTALL])
    ? true
    : tooOld('moving a direct descriptor into the descriptor table (IORING_OP_FIXED_FD_INSTALL, 6.8)');
  keepSpareRing(sys, ring);
  return { ok: true, sys, calls, chains };
}

const tooOld = (what: string) => ({ code: 'too-old', reason: `this kernel's io_uring lacks ${what}` });

// What the paths use, tried for real: the features and operations, an eventfd for readiness, and an
// accept armed on a throwaway AF_UNIX listener and cancelled by descriptor (Linux 5.19).
function exercise(sys: UringSyscalls, calls: SocketCalls, ring: Ring) {
  const needed = FEAT_NODROP | FEAT_CQE_SKIP | FEAT_EXT_ARG;
  if ((ring.features & needed) !== needed)
    return tooOld('skipping completions of successful requests (5.17)');
  if (!ring.supports([OP_ACCEPT, OP_ASYNC_CANCEL, OP_CLOSE, OP_SEND, OP_RECV, OP_CONNECT, OP_SOCKET]))
    return tooOld('the socket operations (5.19)');
  const eventfd = sys.eventfd();
  const listener = calls.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const address = calls.alloc(2);
  try {
    if (eventfd < 0 || ring.registerEventfd(eventfd) < 0) return tooOld('eventfd notification');
    // A sockaddr_un holding only its family: the kernel binds an abstract name of its own choosing.
    address.view.setUint16(0, AF_UNIX, true);
    if (listener < 0 || sys.bind(listener, address.address, 2) < 0 || sys.listen(listener, 1) < 0) {
      return {
        code: 'probe-failed',
        reason: `cannot make a listener to try io_uring on (errno ${calls.errno()})`,
      };
    }
    prepAccept(ring, { fd: listener, flags: SOCK_CLOEXEC, tag: 1 });
    prepCancel(ring, { fd: listener, flags: CANCEL_FD | CANCEL_ALL, tag: 2 });
    const entered = ring.enter(ENTER_GETEVENTS, 2, 1000);
    if (entered < 0) return { code: 'refused', reason: `io_uring_enter failed with ${errnoName(-entered)}` };
    let accept = 0;
    let cancel = 0;
    for (let i = 0; i < ring.ready(); i++) {
      if (ring.dataLo(i) === 1) accept = ring.result(i);
      else cancel = ring.result(i);
    }
    ring.advance(ring.ready());
    if (accept !== -ECANCELED || cancel < 1) {
      return tooOld(`an accept cancelled by descriptor (5.19): ${errnoName(-accept)}, ${cancel}`);
    }
    return undefined;
  } finally {
    if (eventfd >= 0) ring.unregisterEventfd();
    if (listener >= 0) calls.close(listener);
    if (eventfd >= 0) calls.close(eventfd);
    address.free();
  }
}

// Why io_uring_setup refused, in the words of the place that refused it.
function refusal(sys: UringSyscalls, errno: number): { code: string; reason: string } {
  if (errno === EPERM || errno === EACCES) {
    const disabled = readSysctl('kernel.io_uring_disabled');
    if (disabled === 2)
      return { code: 'disabled', reason: 'io_uring is disabled here (kernel.io_uring_disabled = 2)' };
    if (disabled === 1) {
      const group = readSysctl('kernel.io_uring_group') ?? -1;
      return {
        code: 'disabled',
        reason: `io_uring is limited to group ${group} here (kernel.io_uring_disabled = 1, kernel.io_uring_group)`,
      };
    }
    return {
      code: 'refused',
      reason: `io_uring_setup was refused (${errnoName(errno)}): a seccomp filter, such as a container runtime's default profile, or a security module forbids it`,
    };
  }
  if (errno === ENOSYS) {
    return {
      code: 'not-implemented',
      reason:
        'io_uring_setup is not implemented here (ENOSYS: a kernel without io_uring, gVisor, or a seccomp filter)',
    };
  }
  return { code: errnoName(errno), reason: ringRefusal(sys, errno, RING_ENTRIES) };
}

// Why a ring of `entries` could not be set up. ENOMEM is most often RLIMIT_MEMLOCK: the kernel charges a
// ring's memory to it for users without CAP_IPC_LOCK (again since Linux 6.14), 64 KiB was long the
// default, and Node's own libuv keeps rings of its own (256 entries each, for its epoll calls) under the
// same limit.
export function ringRefusal(sys: UringSyscalls, errno: number, entries: number): string {
  const what = `io_uring_setup of a ring of ${entries} entries failed with ${errnoName(errno)}`;
  if (errno !== ENOMEM) return what;
  const limit = sys.memlockLimit();
  const limitText = Number.isFinite(limit) ? kib(limit) : 'unlimited';
  const held = ringsHeld();
  const others =
    held.count > 0 ? `, the ${held.count} ring(s) this process holds lock about ${kib(held.bytes)}` : '';
  return (
    `${what}: RLIMIT_MEMLOCK is ${limitText}${others}, and one more needs about ${kib(ringBytes(entries, entries * 2))} ` +
    '(raise it: ulimit -l, LimitMEMLOCK= in a systemd unit, or run with CAP_IPC_LOCK)'
  );
}

const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;

// The memory a ring locks, in whole pages: the rings (head, tail and flags in a few cache lines, then the
// SQ array and the completion entries) and the submission entries (64 bytes each).
const ringBytes = (sq: number, cq: number) => {
  const pages = (bytes: number) => Math.ceil(bytes / 4096) * 4096;
  return pages(192 + cq * 16 + sq * 4) + pages(sq * 64);
};

// The io_uring instances this process holds (its own and libuv's), from the kernel's fdinfo.
function ringsHeld(): { count: number; bytes: number } {
  const held = { count: 0, bytes: 0 };
  let fds: string[] = [];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return held;
  }
  for (const fd of fds) {
    try {
      if (!readlinkSync(`/proc/self/fd/${fd}`).includes('io_uring')) continue;
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      const mask = (name: string) => Number(new RegExp(`^${name}:\\s*(0x[0-9a-f]+)`, 'm').exec(info)?.[1]);
      held.count++;
      held.bytes += ringBytes(mask('SqMask') + 1, mask('CqMask') + 1);
    } catch {}
  }
  return held;
}

export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

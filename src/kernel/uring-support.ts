import { readFileSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import {
  loadSocketCalls,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type SocketCalls,
} from './socket-calls.ts';
import {
  ACCEPT_MULTISHOT,
  CANCEL_ALL,
  CANCEL_FD,
  ENTER_GETEVENTS,
  FEAT_CQE_SKIP,
  FEAT_EXT_ARG,
  FEAT_NODROP,
  OP_ACCEPT,
  OP_ASYNC_CANCEL,
  OP_CLOSE,
  OP_CONNECT,
  OP_RECV,
  OP_SEND,
  OP_SOCKET,
  Ring,
} from './uring.ts';
import { loadUringSyscalls, type UringSyscalls } from './uring-syscalls.ts';

// Whether io_uring can carry this project's accept and connect paths here, decided once per process by
// setting a ring up and using it: io_uring is refused in many places (kernel.io_uring_disabled, the
// default seccomp profiles of container runtimes, gVisor, kernels before multishot accept), and each
// says so differently. `code` is short (a metric label), `reason` a sentence for people.

export type UringSupport =
  | { ok: true; sys: UringSyscalls; calls: SocketCalls }
  | { ok: false; code: string; reason: string };

const ENOSYS = 38;
const ECANCELED = 125;
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
  const ring = Ring.create(sys, 8);
  if (!(ring instanceof Ring)) return { ok: false, ...refusal(ring.errno) };
  try {
    const missing = exercise(sys, calls, ring);
    return missing ? { ok: false, ...missing } : { ok: true, sys, calls };
  } finally {
    ring.close(calls.close);
  }
}

const tooOld = (what: string) => ({ code: 'too-old', reason: `this kernel's io_uring lacks ${what}` });

// What the paths use, tried for real: the features and operations, an eventfd for readiness, and a
// multishot accept (Linux 5.19) armed on a throwaway AF_UNIX listener and cancelled by descriptor.
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
    ring.push(OP_ACCEPT, 0, listener, 0, 0, SOCK_CLOEXEC, 1, 0, 0, ACCEPT_MULTISHOT);
    ring.push(OP_ASYNC_CANCEL, 0, listener, 0, 0, CANCEL_FD | CANCEL_ALL, 2, 0);
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
      return tooOld(`multishot accept cancelled by descriptor (5.19): ${errnoName(-accept)}, ${cancel}`);
    }
    return undefined;
  } finally {
    if (listener >= 0) calls.close(listener);
    if (eventfd >= 0) calls.close(eventfd);
    address.free();
  }
}

// Why io_uring_setup refused, in the words of the place that refused it.
function refusal(errno: number): { code: string; reason: string } {
  if (errno === 1 || errno === 13) {
    const disabled = readSysctl('kernel/io_uring_disabled');
    if (disabled === '2')
      return { code: 'disabled', reason: 'io_uring is disabled here (kernel.io_uring_disabled = 2)' };
    if (disabled === '1') {
      const group = readSysctl('kernel/io_uring_group') ?? '-1';
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
  return { code: errnoName(errno), reason: `io_uring_setup failed with ${errnoName(errno)}` };
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

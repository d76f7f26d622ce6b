// Stops a listening socket from taking new connections without closing it, so that the connections
// already in its accept queue can still be accepted: a classic BPF socket filter that drops every
// packet. tcp_v4_rcv runs the listener's filter before it handles a SYN, so new SYNs are dropped
// (their clients retry, and meet a closed port once the listener is closed), while the connections
// already queued are sockets of their own, created before the filter, and are not affected.
// Node has no setsockopt, hence libc through koffi; loaded only when a drain needs it.

import { loadLibc } from './libc.ts';

const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const BPF_RET_K = 0x06; // BPF_RET | BPF_K: return the constant k, the number of bytes to keep

let attach: Promise<((fd: number) => boolean) | undefined> | undefined;

async function loadAttach(): Promise<((fd: number) => boolean) | undefined> {
  try {
    const { koffi, lib: libc } = await loadLibc();
    const SockFilter = koffi.struct('daytime_sock_filter', {
      code: 'uint16',
      jt: 'uint8',
      jf: 'uint8',
      k: 'uint32',
    });
    const SockFprog = koffi.struct('daytime_sock_fprog', {
      len: 'uint16',
      filter: koffi.pointer(SockFilter),
    });
    const setsockopt = libc.func(
      'int setsockopt(int fd, int level, int name, const daytime_sock_fprog *value, uint32_t length)',
    );
    const dropAll = koffi.alloc(SockFilter, 1);
    koffi.encode(dropAll, SockFilter, { code: BPF_RET_K, jt: 0, jf: 0, k: 0 });
    const size = koffi.sizeof(SockFprog);
    return (fd) => setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: 1, filter: dropAll }, size) === 0;
  } catch {
    return undefined;
  }
}

// True when the listener now drops new connections; false where that cannot be done (not Linux,
// no libc, koffi missing): the caller then drains without it.
export async function refuseNewConnections(fd: number): Promise<boolean> {
  attach ??= loadAttach();
  return (await attach)?.(fd) ?? false;
}

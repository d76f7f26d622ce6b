import { loadLibc } from './libc.ts';
import { loadSocketCalls, type SocketCalls } from './socket-calls.ts';

// recvmmsg and sendmmsg, for the batched UDP path: many datagrams and their source addresses in one
// system call. Like the accept path's calls, the signatures take addresses as integers into memory
// allocated once (socket-calls.ts says why).

export interface DatagramCalls extends SocketCalls {
  // Datagrams received (up to `count`), or -1 and errno.
  recvmmsg(fd: number, vector: number, count: number, flags: number, timeout: number): number;
  // Datagrams handed to the kernel from the front of `vector`, or -1 and errno for the first.
  sendmmsg(fd: number, vector: number, count: number, flags: number): number;
}

export { MSG_DONTWAIT } from './msg-flags.ts';

// struct mmsghdr on LP64 Linux (x86-64, arm64...): a struct msghdr, then msg_len, padded to 64 bytes.
export const MMSGHDR = {
  size: 64,
  name: 0, // void *msg_name
  nameLength: 8, // socklen_t msg_namelen
  iov: 16, // struct iovec *msg_iov
  iovLength: 24, // size_t msg_iovlen
  flags: 48, // int msg_flags
  length: 56, // unsigned int msg_len
} as const;
export const IOVEC = { size: 16, base: 0, length: 8 } as const;
// sizeof(struct sockaddr_in6), the largest source address an IPv4 or IPv6 socket reports.
export { SOCKADDR_IN6 } from '../net/ip.ts';

let loaded: Promise<DatagramCalls> | undefined;

// Rejects where the socket calls cannot load (socket-calls.ts) or the layout above does not hold.
export function loadDatagramCalls(): Promise<DatagramCalls> {
  loaded ??= (async () => {
    const calls = await loadSocketCalls();
    const { koffi, lib } = await loadLibc();
    if (koffi.sizeof('void *') !== 8) throw new Error('the batched UDP path knows the 64-bit layout only');
    return {
      ...calls,
      recvmmsg: lib.func(
        'int recvmmsg(int fd, intptr_t msgvec, unsigned int vlen, int flags, intptr_t timeout)',
      ),
      sendmmsg: lib.func('int sendmmsg(int fd, intptr_t msgvec, unsigned int vlen, int flags)'),
    };
  })();
  return loaded;
}

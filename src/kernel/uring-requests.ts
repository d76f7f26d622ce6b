import type { Ring } from './uring.ts';

// The requests this project queues on a ring, each named, with its fields named: the one place that
// knows which submission-entry field carries what for each operation (<linux/io_uring.h>; liburing's
// io_uring_prep_* functions do the same). Every builder returns false, and queues nothing, when the ring
// has no free slot: the caller decides what to do instead (ring.reserve() first makes room for a chain).
//
// `tag` and `tagHi` are the request's 64-bit user_data, which its completion carries back; `link` the
// submission flags below (IOSQE_*).

export const OP_NOP = 0;
export const OP_ACCEPT = 13;
export const OP_ASYNC_CANCEL = 14;
export const OP_CONNECT = 16;
export const OP_CLOSE = 19;
export const OP_READ = 22;
export const OP_SEND = 26;
export const OP_RECV = 27;
export const OP_SOCKET = 45;
export const OP_FIXED_FD_INSTALL = 54;

// Submission flags.
export const IOSQE_FIXED_FILE = 1 << 0;
export const IOSQE_IO_LINK = 1 << 2;
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;
// A link of a chain that reports only its failure (a chain's last request reports for it).
export const CHAIN = IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
// IORING_ASYNC_CANCEL_*: every request matching, matched by descriptor, a direct descriptor.
export const CANCEL_ALL = 1 << 0;
export const CANCEL_FD = 1 << 1;
export const CANCEL_FD_FIXED = 1 << 3;

interface Tagged {
  tag: number;
  tagHi?: number;
  link?: number;
}

export interface AcceptRequest extends Tagged {
  // The listening socket.
  fd: number;
  // accept4's flags (SOCK_NONBLOCK, SOCK_CLOEXEC).
  flags: number;
  // Where the peer's address goes (a sockaddr_storage and its length), or 0 for none.
  address?: number;
  lengthAddress?: number;
  // Into this direct descriptor slot (0-based) instead of the descriptor table (Linux 5.15): a later
  // request names it with IOSQE_FIXED_FILE. Installing into a slot in use replaces its socket silently.
  slot?: number;
}

export function prepAccept(ring: Ring, r: AcceptRequest): boolean {
  return ring.prep(
    OP_ACCEPT,
    r.link ?? 0,
    r.fd,
    r.address ?? 0,
    0,
    r.flags,
    r.tag,
    r.tagHi ?? 0,
    r.lengthAddress ?? 0,
    0, // single-shot: a multishot accept keeps taking connections a killed worker would lose
    r.slot === undefined ? 0 : r.slot + 1,
  );
}

export interface TransferRequest extends Tagged {
  // A descriptor, or a direct slot when `link` has IOSQE_FIXED_FILE.
  fd: number;
  buffer: number;
  length: number;
  // send/recv: MSG_* flags; read: RWF_* flags.
  flags: number;
}

export const prepSend = (ring: Ring, r: TransferRequest) =>
  ring.prep(OP_SEND, r.link ?? 0, r.fd, r.buffer, r.length, r.flags, r.tag, r.tagHi ?? 0, 0, 0, 0);

export const prepRecv = (ring: Ring, r: TransferRequest) =>
  ring.prep(OP_RECV, r.link ?? 0, r.fd, r.buffer, r.length, r.flags, r.tag, r.tagHi ?? 0, 0, 0, 0);

// A read at offset 0 (of a descriptor with no position, such as an eventfd).
export const prepRead = (ring: Ring, r: TransferRequest) =>
  ring.prep(OP_READ, r.link ?? 0, r.fd, r.buffer, r.length, r.flags, r.tag, r.tagHi ?? 0, 0, 0, 0);

// Closes a descriptor, or (with `slot`) a direct descriptor slot, freeing it for the next accept.
export function prepClose(ring: Ring, r: Tagged & { fd?: number; slot?: number }): boolean {
  const slot = r.slot === undefined ? 0 : r.slot + 1;
  return ring.prep(OP_CLOSE, r.link ?? 0, r.fd ?? 0, 0, 0, 0, r.tag, r.tagHi ?? 0, 0, 0, slot);
}

// Cancels the requests in flight on a descriptor (`flags`: CANCEL_FD, CANCEL_ALL, CANCEL_FD_FIXED).
export const prepCancel = (ring: Ring, r: Tagged & { fd: number; flags: number }) =>
  ring.prep(OP_ASYNC_CANCEL, r.link ?? 0, r.fd, 0, 0, r.flags, r.tag, r.tagHi ?? 0, 0, 0, 0);

// A socket created straight into a direct descriptor slot (Linux 5.19).
export const prepSocket = (ring: Ring, r: Tagged & { domain: number; type: number; slot: number }) =>
  ring.prep(OP_SOCKET, r.link ?? 0, r.domain, 0, 0, 0, r.tag, r.tagHi ?? 0, r.type, 0, r.slot + 1);

// Connects a socket (a direct slot with IOSQE_FIXED_FILE) to the sockaddr at `address`.
export const prepConnect = (ring: Ring, r: Tagged & { fd: number; address: number; length: number }) =>
  ring.prep(OP_CONNECT, r.link ?? 0, r.fd, r.address, 0, 0, r.tag, r.tagHi ?? 0, r.length, 0, 0);

// Installs the socket in a direct descriptor slot into the process's descriptor table (Linux 6.8), close
// on exec; the completion's result is the new descriptor. The slot keeps its own reference until closed.
export const prepFixedFdInstall = (ring: Ring, r: Tagged & { slot: number }) =>
  ring.prep(
    OP_FIXED_FD_INSTALL,
    IOSQE_FIXED_FILE | (r.link ?? 0),
    r.slot,
    0,
    0,
    0,
    r.tag,
    r.tagHi ?? 0,
    0,
    0,
    0,
  );

// Nothing: completes at once with result 0 (the ring's own tests).
export const prepNop = (ring: Ring, r: Tagged) =>
  ring.prep(OP_NOP, r.link ?? 0, -1, 0, 0, 0, r.tag, r.tagHi ?? 0, 0, 0, 0);

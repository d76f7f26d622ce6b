import { loadLibc } from './libc.ts';

// getsockopt(TCP_INFO): what the kernel knows about one socket of ours, in one system call. For a
// listening socket, tcp_get_info() (net/ipv4/tcp.c) puts the accept queue's length in tcpi_unacked and
// the backlog in force (after the somaxconn clamp) in tcpi_sacked: the same figures as ss's Recv-Q and
// Send-Q, without a /proc scan or an ss process. For a connecting socket it gives the state (SYN_SENT)
// and how many times its SYN was retransmitted.

const IPPROTO_TCP = 6;
const TCP_INFO = 11;
// The fields read here all lie in the first 104 bytes, present since Linux 2.6.
const ROOM = 104;

// The kernel's TCP states (include/net/tcp_states.h), as ss names them.
export const TCP_STATES = [
  'UNKNOWN',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
] as const;
export type TcpState = (typeof TCP_STATES)[number];

export interface TcpInfo {
  state: TcpState;
  // Retransmissions of the current segment (the SYN while connecting), and in all.
  retransmits: number;
  totalRetrans: number;
  // Listening sockets: connections in the accept queue, and the backlog in force.
  unacked: number;
  sacked: number;
  // Smoothed round-trip time, µs.
  rttUs: number;
}

export interface ListenerQueue {
  // Completed connections waiting for accept() (ss Recv-Q).
  queued: number;
  // The backlog in force, after the clamp to net.core.somaxconn (ss Send-Q).
  backlog: number;
}

export type TcpInfoReader = (fd: number) => TcpInfo | undefined;

let loaded: Promise<TcpInfoReader | undefined> | undefined;

// Undefined where it cannot run (not Linux, no libc through koffi); the reader returns undefined for a
// descriptor that is not a TCP socket (or is closed).
export function loadTcpInfo(): Promise<TcpInfoReader | undefined> {
  loaded ??= bind().catch(() => undefined);
  return loaded;
}

async function bind(): Promise<TcpInfoReader> {
  const { lib } = await loadLibc();
  const getsockopt = lib.func(
    'int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *length)',
  );
  const buffer = Buffer.alloc(ROOM);
  const length = [ROOM];
  return (fd) => {
    buffer.fill(0);
    length[0] = ROOM;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, buffer, length) !== 0) return undefined;
    return {
      state: TCP_STATES[buffer.readUInt8(0)] ?? 'UNKNOWN',
      retransmits: buffer.readUInt8(2),
      totalRetrans: buffer.readUInt32LE(100),
      unacked: buffer.readUInt32LE(24),
      sacked: buffer.readUInt32LE(28),
      rttUs: buffer.readUInt32LE(68),
    };
  };
}

// A listening socket's accept queue and backlog; undefined where TCP_INFO cannot be had or the
// descriptor is not a listener.
export function listenerQueue(read: TcpInfoReader, fd: number): ListenerQueue | undefined {
  const info = read(fd);
  return info?.state === 'LISTEN' ? { queued: info.unacked, backlog: info.sacked } : undefined;
}

import { WATCH_OPTIONS } from '../../options/watch.ts';
import type { CommandDecl } from './types.ts';

export const WATCH_COMMAND: CommandDecl = {
  name: 'watch',
  summary: "watch a port's accept queue and the kernel's overflow counters",
  description:
    "Show, once a second, every listening socket's queue and backlog on PORT and the overflow counters.",
  arguments: [
    {
      name: '<port>',
      help: 'PORT, :PORT or HOST:PORT to watch, any process (PORT: a number or a service name)',
    },
  ],
  options: WATCH_OPTIONS,
  after: `For each socket listening on PORT (a number or a service name from
/etc/services; with HOST, only those bound to HOST or to every address): the
accept-queue length and the backlog (ss Recv-Q and Send-Q; from /proc/net/tcp
without ss, which has the queue but not the backlog), and for UDP sockets the
bytes waiting against the receive buffer's size (SO_RCVBUF; each datagram is
charged its buffer's size, not its payload: 832 bytes for a small one on Linux
6.18), the datagrams the socket dropped and how many a second. Below, per-second
rates of the kernel's TcpExtListenOverflows and TcpExtListenDrops (a SYN or ACK
dropped on a full accept queue) and UdpRcvbufErrors. Those counters cover the
whole network namespace, not only this port. Ctrl-C stops it (exit 0).

Examples:
  daytime watch 9999
  daytime watch 127.0.0.1:9999        # the sockets that take 127.0.0.1's
  daytime watch daytime               # port 13
  daytime watch 9999 --json --count 10 > queue.ndjson
`,
};

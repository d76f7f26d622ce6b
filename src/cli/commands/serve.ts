import { DEFAULT_PORT } from '../../net/default-ports.ts';
import { SERVE_OPTIONS } from '../../options/serve.ts';
import type { CommandDecl } from './types.ts';

export const SERVE_COMMAND: CommandDecl = {
  name: 'serve',
  summary: 'run the RFC 867 daytime (and RFC 868 time) server',
  description:
    'Serve RFC 867 daytime over TCP: each connection gets one line with the time, then EOF. ' +
    'Optionally RFC 868 time (4 bytes, seconds since 1900) and both over UDP.',
  options: SERVE_OPTIONS,
  environment: true,
  after: `The backlog:
  The kernel completes TCP handshakes on its own and queues the connections
  until the server calls accept(). --backlog bounds that queue. Linux holds
  backlog + 1 connections, clamps the backlog to net.core.somaxconn (4096 by
  default) and, when the queue is full, silently drops new SYNs: clients are
  delayed by SYN retransmits (about 1, 2, 4 s), not refused. A backlog of 0
  cannot be passed through Node (it becomes 511); \`daytime lab\` measures what
  0, 1, 5 and more really do. With --workers N each worker has its own listener
  and accept queue: the backlog applies per worker. UDP has no backlog;
  datagrams wait in the socket's receive buffer.

Accept paths (--accept):
  uring   io_uring chains: the kernel serves the whole connection (accept into
          a slot of the ring's own descriptor table, send, close) and
          JavaScript only arms the slot again; no descriptor per connection.
          Linux 6.8 or later where io_uring is allowed (not with
          kernel.io_uring_disabled, nor under most container runtimes'
          default seccomp profile).
  uring-accept
          io_uring accepts; JavaScript queues each reply and close in the ring,
          entered once per batch. Linux 5.19 or later, as above.
  libc    accept4, write and close through libc (koffi) in one loop per
          readiness of the listener: per connection only what a C server does.
          Linux.
  handle  Node's TCP handle for each connection, without a net.Socket (Node
          internals).
  socket  a net.Socket for each connection: Node's public API, the slowest,
          runs anywhere.
  auto    the first of these that runs here. The ready line, the stats and the
          metrics name the path, and why uring did not run where it cannot.
  With --proxy-protocol: uring (proxy-uring: the header received in the chain,
  one completion per connection), libc (proxy-libc: one read of the header,
  then as libc), socket (proxy-socket), or auto; handle cannot read it.

UDP (--udp, --udp-io):
  Every datagram, the empty one included, gets one reply, within --udp-rate per
  source address and --udp-global-rate in all; the rest are dropped and counted
  by reason. UDP has no backlog: datagrams wait in the socket's receive buffer,
  and when it is full the kernel drops them (UdpRcvbufErrors; \`daytime watch
  PORT\` shows the buffer and the drops a second).
  mmsg    recvmmsg and sendmmsg through libc (koffi): up to 64 datagrams and
          their sources per system call, at most 256 per readiness; under a
          flood it reads every 2 ms and leaves the rest to the kernel, so a
          flood cannot starve TCP. Linux.
  dgram   Node's dgram socket: a Buffer and a call into JavaScript per
          datagram. Runs anywhere.
  auto    the first of these that runs here; the ready line, the stats and the
          metrics name it.
  Don't raise the receive buffer against drops under a flood (docs/serve.md,
  "UDP": what to tune).

Behind a balancer (--proxy-protocol --proxy-from CIDR,...):
  HAProxy's send-proxy / send-proxy-v2 put a header naming the client before
  anything else; with --proxy-protocol every TCP connection must start with one
  (v1 or v2), and only the addresses in --proxy-from may send it: anyone else is
  closed unread ("any" trusts everyone, on purpose). A v2 LOCAL header
  (HAProxy's health checks) is answered as a direct connection. A connection
  whose header is missing, malformed or later than --proxy-timeout is closed
  without a reply, counted by reason and logged at most once a second; at most
  half the descriptor limit may wait for a header at once (the longest waiting
  is closed first, and makes room for a whole header over --max-connections).
  The accept path reads the header in the ring (uring), with one read(2)
  (libc) or on a net.Socket (socket). See deploy/haproxy/ and docs/fleet.md.

Ports below 1024 (13, 37):
  Started as root, --user NAME binds every socket first (the metrics port
  too), then runs as NAME: supplementary groups cleared, then the group
  (--group, or NAME's own), then the user, before anything is accepted; with
  --workers the primary binds each worker's sockets and the workers run as
  NAME too. Without root: socket activation (deploy/daytime.socket), or
  CAP_NET_BIND_SERVICE on node. Serving as root without --user logs a warning.

Socket activation:
  Started by systemd with LISTEN_FDS, it serves the sockets it was given (TCP
  and UDP; a socket whose FileDescriptorName= is "time" serves RFC 868) and
  keeps the unit's Backlog=. See deploy/.

Examples:
  daytime serve                       # port ${DEFAULT_PORT}, all interfaces
  daytime serve --host 127.0.0.1 --port 1313 --backlog 5
  daytime serve --time-port 3737 --udp --metrics 127.0.0.1:9464
  daytime serve --workers 2 --quiet --log-format json
  daytime serve --metrics 9464        # metrics on every interface, port 9464
  daytime serve --port 13 --time-port 37 --udp --user nobody   # as root
  DAYTIME_PORT=1313 DAYTIME_MAX_CONNECTIONS=1000 daytime serve
  daytime serve --host 127.0.0.1 --host ::1   # one listener per address
  socat TCP-LISTEN:1313,fork,reuseaddr EXEC:'daytime serve --inetd'
                                      # inetd style: a process a connection
  ss -ltn 'sport = :9999'             # Send-Q: the backlog; Recv-Q: queued now
`,
};

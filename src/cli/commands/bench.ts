import { DEFAULT_PORT } from '../../net/default-ports.ts';
import { BENCH_OPTIONS } from '../../options/bench.ts';
import { TARGET_ARGUMENTS } from './get.ts';
import type { CommandDecl } from './types.ts';

export const BENCH_COMMAND: CommandDecl = {
  name: 'bench',
  summary: 'load a daytime or time server and measure it',
  description:
    'Open connections to a daytime (or time) server as fast as it answers, and report rate and latency.',
  arguments: TARGET_ARGUMENTS,
  options: BENCH_OPTIONS,
  after: `Each connection connects, reads to EOF and checks the reply (one CRLF line, or 4
bytes with --time); as one finishes the next starts, so --connections stay in
flight. Latency is connect to EOF. A connection that takes 1 s or more is
counted apart: that is what a SYN dropped on a full accept queue costs (the
client's first retransmission comes after 1 s). PORT is a number or a service
name from /etc/services. When nothing accepts a connection at all (a closed
port), the run stops at once with one line.

Connect paths (--connect):
  uring   io_uring on each worker thread: per connection a socket straight into
          a direct descriptor, a connect and a receive to EOF, linked, and one
          completion; the kernel is entered once per batch. Linux 5.19 or later
          where io_uring is allowed.
  libc    socket, non-blocking connect, epoll and read through libc (koffi) on
          each worker thread's own epoll instance: per connection only what a C
          load generator does. Linux.
  handle  Node's TCP handle for each connection, without a net.Socket (Node
          internals).
  socket  a net.Socket for each connection: Node's public API, runs anywhere.
  auto    the first of these that runs here; the result's connectPath says
          which.

Exit status: 0 when every connection succeeded, 1 when any failed or none could
connect, 2 for bad arguments, 130 when stopped by Ctrl-C (the partial table is
printed, marked interrupted).

Examples:
  daytime bench                       # localhost:${DEFAULT_PORT}, ${BENCH_OPTIONS.connections.default} connections, ${BENCH_OPTIONS.duration.default} s
  daytime bench :9999 -c 256 --workers 2 --duration 5
  daytime bench localhost 9999 --count 1000   # HOST PORT, as nc takes them
  daytime bench 127.0.0.1:3737 --time --count 100000 --json
`,
};

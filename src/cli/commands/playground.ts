import { PLAYGROUND_OPTIONS } from '../../options/playground.ts';
import type { CommandDecl } from './types.ts';

export const PLAYGROUND_COMMAND: CommandDecl = {
  name: 'playground',
  summary: 'the accept queue, live in the browser: turn the backlog and watch the kernel',
  description: 'Start a local web page that runs the lab live: backlog, clients, accepts a second.',
  options: PLAYGROUND_OPTIONS,
  after: `A web page on which you set the backlog, send clients, stop and start
accepting, and watch the kernel: the listener's accept queue (TCP_INFO), each
client's state from its own socket (SYN_SENT and its retransmissions, in the
queue, accepted, served, or refused, reset, lost), and the kernel's counters
(ListenOverflows, ListenDrops, SyncookiesSent, ...). The listener and the
clients are the lab's own. As root, each run gets a network namespace of its
own, where somaxconn, tcp_syncookies, tcp_abort_on_overflow and
tcp_syn_linear_timeouts can be set; without root those are shown disabled.

The first line on stdout is the address with its token; every request needs
that token, and requests for another Host or from another Origin are refused.
The JSON API (for scripts) is in docs/playground.md. Ctrl-C or SIGTERM stops a
run that goes on, removes what it made, and exits.

Examples:
  daytime playground                  # prints the address and its ?token=...
  daytime playground --port 8080 --open
`,
};

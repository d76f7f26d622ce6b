import { DEFAULT_PORT, DEFAULT_TIME_PORT } from '../../net/default-ports.ts';
import { GET_OPTIONS } from '../../options/get.ts';
import type { CommandDecl } from './types.ts';

// HOST, HOST:PORT..., and nc's order, HOST PORT: get and bench take the same forms.
export const TARGET_ARGUMENTS = [
  {
    name: '[target]',
    help: `HOST, HOST:PORT, :PORT or [IPV6]:PORT (default: localhost:${DEFAULT_PORT}, or :${DEFAULT_TIME_PORT} with --time)`,
  },
  { name: '[port]', help: 'PORT after a HOST, as nc takes them (localhost 13)' },
] as const;

export const GET_COMMAND: CommandDecl = {
  name: 'get',
  summary: 'ask a daytime or time server for the time',
  description: 'Query an RFC 867 daytime (default) or RFC 868 time server, over TCP (default) or UDP.',
  arguments: TARGET_ARGUMENTS,
  options: GET_OPTIONS,
  after: `PORT is a number or a service name from /etc/services (daytime is 13); it
may follow HOST as an argument of its own, as nc takes them.

Exit status: 0 with the reply on stdout; 1 when the server refuses, resets,
times out or sends anything but one CRLF-terminated line (daytime) or 4 bytes
(time); 2 for bad arguments.

With --time the 32-bit RFC 868 count is decoded in the era nearest the local
clock (it wraps on 2036-02-07), and the offset from the local clock is exact to
about 1 s: RFC 868 has whole seconds. Over UDP a closed port fails at once (the
kernel's ICMP reply); a lost datagram looks like a timeout.

--proxy sends a PROXY protocol header naming this connection's own ends before
reading, as HAProxy's send-proxy (v1) or send-proxy-v2 (v2) does: to query a
server behind a balancer directly (daytime serve --proxy-protocol).

Examples:
  daytime get                         # localhost:${DEFAULT_PORT}
  daytime get localhost 13            # HOST PORT, as nc takes them
  daytime get 127.0.0.1:daytime       # port 13, from /etc/services
  daytime get '[::1]:9999' --json     # {"line","receivedAt","rttMs","peer"}
  daytime get --time localhost:3737   # RFC 868 time and the clock offset
  daytime get --udp --time :3737 --json
  daytime get 10.0.0.5:13 --proxy v2  # a host that requires the header
`,
};

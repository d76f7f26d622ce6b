import type { Command } from 'commander';
import { DEFAULT_TIMEOUT_MS, type QueryInput } from '../client/options.ts';
import { parseTarget } from '../net/address.ts';
import { DEFAULT_PORT, DEFAULT_TIME_PORT } from '../net/default-ports.ts';
import { ctime } from '../protocol/daytime.ts';
import { givenOptions, refuseRepeatedOptions } from './options.ts';
import { EXIT_OK, reportError } from './run-command.ts';

interface GetFlags {
  timeout?: string;
  json?: boolean;
  time?: boolean;
  udp?: boolean;
  proxy?: string;
}

const HELP_AFTER = `
PORT is a number or a service name from /etc/services (daytime is 13).

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
  daytime get 127.0.0.1:daytime       # port 13, from /etc/services
  daytime get '[::1]:9999' --json     # {"line","receivedAt","rttMs","peer"}
  daytime get --time localhost:3737   # RFC 868 time and the clock offset
  daytime get --udp --time :3737 --json
  daytime get 10.0.0.5:13 --proxy v2  # a host that requires the header
`;

export function registerGet(program: Command): void {
  const command = program
    .command('get')
    .summary('ask a daytime or time server for the time')
    .description('Query an RFC 867 daytime (default) or RFC 868 time server, over TCP (default) or UDP.')
    .argument(
      '[target]',
      `HOST, HOST:PORT, :PORT or [IPV6]:PORT (default: localhost:${DEFAULT_PORT}, or :${DEFAULT_TIME_PORT} with --time)`,
    )
    .option('--time', 'query RFC 868 time; print the time and the offset from the local clock')
    .option('--udp', 'use UDP: one empty datagram out, one reply back')
    .option('--proxy <version>', 'send a PROXY protocol header first: v1 or v2 (TCP only)')
    .option(
      '-t, --timeout <seconds>',
      'give up after this long, connect and read together',
      String(DEFAULT_TIMEOUT_MS / 1000),
    )
    .option('--json', 'print the reply as JSON')
    .addHelpText('after', HELP_AFTER)
    .action(async (target: string | undefined) => {
      process.exitCode = await get(target, givenOptions<GetFlags>(command));
    });
  refuseRepeatedOptions(command);
}

async function get(target: string | undefined, flags: GetFlags): Promise<number> {
  try {
    const transport = flags.udp ? 'udp' : 'tcp';
    const defaults = { host: 'localhost', port: flags.time ? DEFAULT_TIME_PORT : DEFAULT_PORT };
    const { host, port } = parseTarget(target, defaults, 'target', { protocol: transport });
    const query: QueryInput = { host, port, timeout: flags.timeout, transport, proxy: flags.proxy };
    const { queryDaytime } = await import('../client/query-daytime.ts');
    const { queryTime } = await import('../client/query-time.ts');
    if (flags.time) {
      const reply = await queryTime(query);
      const offset = `${reply.offsetMs >= 0 ? '+' : ''}${(reply.offsetMs / 1000).toFixed(3)} s`;
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(reply)}\n`
          : `${ctime(new Date(reply.time))}  offset ${offset} from the local clock (RFC 868: whole seconds)\n`,
      );
    } else {
      const reply = await queryDaytime(query);
      process.stdout.write(flags.json ? `${JSON.stringify(reply)}\n` : `${reply.line}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    return reportError('get', error);
  }
}

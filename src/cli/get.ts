import type { Command } from 'commander';
import { DEFAULT_TIMEOUT_MS } from '../client/options.ts';
import { queryDaytime } from '../client/query-daytime.ts';
import { parseTarget } from '../net/address.ts';
import { DEFAULT_PORT } from '../server/options.ts';
import { EXIT_OK, reportError } from './run-command.ts';

interface GetFlags {
  timeout: string;
  json?: boolean;
}

const HELP_AFTER = `
Exit status: 0 with the line on stdout; 1 when the server refuses, resets, times out or sends
anything but one CRLF-terminated line; 2 for bad arguments.

Examples:
  daytime get                         # localhost:9999
  daytime get 127.0.0.1:13
  daytime get '[::1]:9999' --json     # {"line","receivedAt","rttMs","peer"}
`;

export function registerGet(program: Command): void {
  program
    .command('get')
    .summary('ask a daytime server for the time')
    .description('Query an RFC 867 daytime server over TCP and print its line.')
    .argument('[target]', 'HOST, HOST:PORT, :PORT or [IPV6]:PORT', `localhost:${DEFAULT_PORT}`)
    .option(
      '-t, --timeout <seconds>',
      'give up after this long, connect and read together',
      String(DEFAULT_TIMEOUT_MS / 1000),
    )
    .option('--json', 'print {"line","receivedAt","rttMs","peer"} instead of the line')
    .addHelpText('after', HELP_AFTER)
    .action(async (target: string, flags: GetFlags) => {
      process.exitCode = await get(target, flags);
    });
}

async function get(target: string, flags: GetFlags): Promise<number> {
  try {
    const { host, port } = parseTarget(target, { host: 'localhost', port: DEFAULT_PORT });
    const reply = await queryDaytime({ host, port, timeout: flags.timeout });
    process.stdout.write(flags.json ? `${JSON.stringify(reply)}\n` : `${reply.line}\n`);
    return EXIT_OK;
  } catch (error) {
    return reportError('get', error);
  }
}

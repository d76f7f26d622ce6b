import type { Command } from 'commander';
import type { QueryInput } from '../client/options.ts';
import { DEFAULT_PORT, DEFAULT_TIME_PORT } from '../net/default-ports.ts';
import { ctime } from '../protocol/daytime.ts';
import { GET_COMMAND } from './commands/get.ts';
import { declareCommand } from './declared-command.ts';
import { EXIT_OK } from './run-command.ts';
import { clientTarget } from './target.ts';

interface GetFlags {
  timeout?: string;
  json?: boolean;
  time?: boolean;
  udp?: boolean;
  proxy?: string;
}

export function registerGet(program: Command): void {
  declareCommand(program, GET_COMMAND, ([target, port], options) => get(target, port, options as GetFlags));
}

async function get(
  target: string | undefined,
  portText: string | undefined,
  flags: GetFlags,
): Promise<number> {
  const transport = flags.udp ? 'udp' : 'tcp';
  const defaults = { host: 'localhost', port: flags.time ? DEFAULT_TIME_PORT : DEFAULT_PORT };
  const { host, port } = clientTarget(target, portText, defaults, { protocol: transport });
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
}

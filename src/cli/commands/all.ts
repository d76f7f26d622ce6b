import { BENCH_COMMAND } from './bench.ts';
import { COMPLETION_COMMAND } from './completion.ts';
import { FLEET_COMMAND } from './fleet.ts';
import { GET_COMMAND } from './get.ts';
import { LAB_COMMAND } from './lab.ts';
import { PLAYGROUND_COMMAND } from './playground.ts';
import { SERVE_COMMAND } from './serve.ts';
import type { CommandDecl } from './types.ts';
import { WATCH_COMMAND } from './watch.ts';

export const PROGRAM = {
  name: 'daytime',
  description: 'An RFC 867 daytime server and client, built to show what listen(backlog) really does.',
};

// Every subcommand, in the order `daytime --help` lists them; the man page and the completion
// scripts are made from this list.
export const COMMANDS: readonly CommandDecl[] = [
  SERVE_COMMAND,
  GET_COMMAND,
  BENCH_COMMAND,
  WATCH_COMMAND,
  LAB_COMMAND,
  FLEET_COMMAND,
  PLAYGROUND_COMMAND,
  COMPLETION_COMMAND,
];

import type { OptionTable } from './declare.ts';
import { clientTimeout } from './get.ts';
import { choiceOption, integerOption, secondsOption } from './validate.ts';

// How bench's connections are made, fastest first: io_uring (a socket, connect and receive linked per
// slot), libc's epoll loop, libuv's TCP handles, net.Socket (load-generator/connect/).
export const CONNECT_PATHS = ['uring', 'libc', 'handle', 'socket'] as const;
export type ConnectPathName = (typeof CONNECT_PATHS)[number];
export const CONNECT_CHOICES = ['auto', ...CONNECT_PATHS] as const;
export type ConnectChoice = (typeof CONNECT_CHOICES)[number];

// Every option of `daytime bench`; the load generator (load-generator/options.ts) takes its defaults,
// checks and rule from here.
export const BENCH_OPTIONS = {
  connections: {
    short: 'c',
    arg: '<n>',
    help: 'connections in flight',
    default: 64,
    parse: (name, value) => integerOption(name, value, { min: 1, max: 100_000 }),
  },
  duration: {
    short: 'd',
    arg: '<seconds>',
    help: 'how long to run',
    default: 10,
    parse: (name, value) => secondsOption(name, value, { min: 0.1, max: 86_400 }),
  },
  count: {
    short: 'n',
    arg: '<n>',
    help: 'run exactly this many connections instead of a duration',
    parse: (name, value) => integerOption(name, value, { min: 1, max: 1e9 }),
    conflicts: { option: 'duration', reason: 'a run is either a number of connections or a length of time' },
  },
  workers: {
    short: 'w',
    arg: '<n>',
    help: 'worker threads, each with its own event loop',
    default: 1,
    parse: (name, value) => integerOption(name, value, { min: 1, max: 64 }),
  },
  timeout: clientTimeout('give up on one connection after this long'),
  time: { help: 'RFC 868 time: expect 4 bytes instead of a line' },
  json: { help: 'print the result as JSON on stdout (no table)' },
  connect: {
    arg: '<path>',
    help: 'how connections are made: auto, uring, libc, handle or socket (see below)',
    default: 'auto',
    choices: CONNECT_CHOICES,
    parse: (name, value) => choiceOption(name, String(value), CONNECT_CHOICES),
  },
} as const satisfies OptionTable;

import type { OptionTable } from './declare.ts';
import { choiceOption, type NumberInput, secondsOption } from './validate.ts';

export const PROXY_VERSIONS = ['v1', 'v2'] as const;
export type ProxyVersion = (typeof PROXY_VERSIONS)[number];

// How long a client waits, get's for its one query and bench's for each connection: one default.
export const clientTimeout = (help: string) =>
  ({
    short: 't',
    arg: '<seconds>',
    help,
    default: 5,
    parse: (name: string, value: NumberInput) => secondsOption(name, value, { min: 0.001, max: 3600 }),
  }) as const;

// Every option of `daytime get`; the client library (client/options.ts) takes its default, checks and
// rule from here.
export const GET_OPTIONS = {
  time: { help: 'query RFC 868 time; print the time and the offset from the local clock' },
  udp: { help: 'use UDP: one empty datagram out, one reply back' },
  proxy: {
    arg: '<version>',
    help: 'send a PROXY protocol header first: v1 or v2 (TCP only)',
    choices: PROXY_VERSIONS,
    parse: (name, value) => choiceOption(name, String(value), PROXY_VERSIONS),
    conflicts: { option: 'udp', reason: 'a PROXY header is sent on a TCP connection, before its data' },
  },
  timeout: clientTimeout('give up after this long, connect and read together'),
  json: { help: 'print the reply as JSON' },
} as const satisfies OptionTable;

import type { OptionTable } from './declare.ts';
import { integerOption, secondsOption } from './validate.ts';

// Every option of `daytime watch`.
export const WATCH_OPTIONS = {
  interval: {
    short: 'i',
    arg: '<seconds>',
    help: 'time between samples',
    default: 1,
    parse: (name, value) => secondsOption(name, value, { min: 0.05, max: 3600 }),
  },
  count: {
    short: 'n',
    arg: '<n>',
    help: 'stop after this many samples',
    defaultText: 'until Ctrl-C',
    parse: (name, value) => integerOption(name, value, { min: 1, max: 1e9 }),
  },
  json: { help: 'one JSON object per sample (NDJSON) on stdout' },
} as const satisfies OptionTable;

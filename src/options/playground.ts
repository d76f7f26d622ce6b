import { portOption } from '../net/service-port.ts';
import type { OptionTable } from './declare.ts';
import { hostOption } from './validate.ts';

// Every option of `daytime playground` (the page's own parameters are playground/params.ts's).
export const PLAYGROUND_OPTIONS = {
  host: {
    arg: '<host>',
    help: 'address to serve the page on',
    default: '127.0.0.1',
    complete: 'host',
    parse: (name, value) => hostOption(name, String(value)),
  },
  port: {
    short: 'p',
    arg: '<port>',
    help: 'port for the page, 0 for any free one',
    default: 0,
    parse: (name, value) => portOption(name, value, { min: 0 }),
  },
  open: { help: 'open the page in a browser, where one can be opened' },
} as const satisfies OptionTable;

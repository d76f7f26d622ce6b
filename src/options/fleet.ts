import { commaList, type OptionTable } from './declare.ts';
import { integerOption } from './validate.ts';

const HOSTS = { min: 2, max: 9 };

// Every option of `daytime fleet`; the scenarios' names are checked by the fleet (fleet/run-fleet.ts),
// which knows them.
export const FLEET_OPTIONS = {
  hosts: {
    arg: '<n>',
    help: `daytime hosts behind the balancer, ${HOSTS.min}..${HOSTS.max}`,
    default: 3,
    parse: (name, value) => integerOption(name, value, HOSTS),
  },
  only: {
    arg: '<scenarios>',
    help: 'comma-separated scenarios to run',
    defaultText: 'all',
    parse: commaList,
  },
  json: { help: 'print the report as JSON on stdout' },
} as const satisfies OptionTable;

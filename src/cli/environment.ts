import { InvalidOptionError } from '../errors.ts';
import { envName, type OptionTable } from '../options/declare.ts';

const YES = ['1', 'true', 'yes', 'on'];
const NO = ['0', 'false', 'no', 'off'];
const SWITCH = `one of ${[...YES, ...NO].join(', ')}`;

function switchValue(variable: string, text: string): boolean {
  const word = text.trim().toLowerCase();
  if (YES.includes(word)) return true;
  if (NO.includes(word)) return false;
  throw new InvalidOptionError(variable, SWITCH, text);
}

// The options not given as flags, taken from DAYTIME_<OPTION>: containers and unit files configure
// with the environment, and a flag on the command line wins over it. Values arrive as text, as a
// flag's do, and meet the same checks, named after the variable (cli/declared-command.ts). A switch's
// word is checked here; "0" or "off" is as if it were not there. An empty variable counts as unset
// (`Environment=DAYTIME_PORT=` in a unit, `export DAYTIME_PORT=` in a shell). Variables that name
// no option are left alone: DAYTIME_HOST1 and DAYTIME_BIND are HAProxy's (deploy/haproxy/).
export function environmentOptions(
  table: OptionTable,
  env: NodeJS.ProcessEnv,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(table)) {
    const variable = envName(name);
    const text = env[variable];
    if (given[name] !== undefined || text === undefined || text.trim() === '') continue;
    if (!decl.arg) {
      if (switchValue(variable, text)) values[name] = true;
    } else if (decl.arg.startsWith('[')) {
      // An optional value (--inetd [service]): a switch's word, or the value.
      const word = text.trim().toLowerCase();
      if (YES.includes(word)) values[name] = true;
      else if (!NO.includes(word)) values[name] = text;
    } else {
      values[name] = decl.repeatable ? text.split(/[\s,]+/).filter(Boolean) : text;
    }
  }
  return values;
}

// What `serve --help` says about the environment, the variables listed: at most 80 columns.
export function environmentHelp(table: OptionTable): string {
  const names = Object.keys(table).map(envName);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const perLine = Math.floor(78 / width);
  const rows: string[] = [];
  for (let i = 0; i < names.length; i += perLine) {
    rows.push(
      `  ${names
        .slice(i, i + perLine)
        .map((n, j, row) => (j < row.length - 1 ? n.padEnd(width) : n))
        .join('')}`,
    );
  }
  return `Environment:
  Every option can also come from a variable: DAYTIME_ and the option's name
  in capitals, - as _ (DAYTIME_PORT=1313, DAYTIME_MAX_CONNECTIONS=1000). A flag
  given wins over its variable. A switch takes 1, true, yes or on (0, false, no
  or off: as if not given); DAYTIME_HOST takes addresses separated by commas;
  an empty variable is ignored; a bad value is refused, naming the variable.
${rows.join('\n')}
`;
}

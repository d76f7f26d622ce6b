import { defaultShown, envName, longFlag, type OptionDecl } from '../options/declare.ts';
import type { CommandDecl } from './commands/types.ts';

// roff escapes: a backslash is \e, every hyphen \- (an ASCII minus, so flags copied from the page
// work), and a line may not start with a control character (. or ').
const roff = (text: string) =>
  text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');

function optionEntry(name: string, decl: OptionDecl, environment: boolean): string[] {
  const flags = [decl.short ? `\\fB\\-${decl.short}\\fR, ` : '', `\\fB${roff(longFlag(name))}\\fR`].join('');
  const arg = decl.arg ? ` \\fI${roff(decl.arg)}\\fR` : '';
  const shown = defaultShown(decl);
  const notes = [shown === undefined ? '' : `default: ${shown}`, environment ? `env: ${envName(name)}` : '']
    .filter(Boolean)
    .join(', ');
  return ['.TP', `${flags}${arg}`, roff(`${decl.help}${notes ? ` (${notes})` : ''}.`)];
}

// `serve [options]`, `get [options] [target] [port]`: the usage line --help starts with.
const usage = (command: CommandDecl) =>
  [
    command.name,
    Object.keys(command.options).length > 0 ? '[options]' : '',
    ...(command.arguments ?? []).map((a) => a.name),
  ]
    .filter(Boolean)
    .join(' ');

function commandSection(command: CommandDecl): string[] {
  const lines = [`.SS "daytime ${roff(usage(command))}"`, roff(command.description)];
  for (const argument of command.arguments ?? []) {
    lines.push('.TP', `\\fI${roff(argument.name)}\\fR`, roff(argument.help));
  }
  for (const [name, decl] of Object.entries(command.options)) {
    lines.push(...optionEntry(name, decl, Boolean(command.environment)));
  }
  // The rest of --help as it is written: laid out for 80 columns, so not refilled, and from the left
  // margin, so that it fits an 80-column terminal as --help does.
  if (command.after) lines.push('.PP', '.nf', '.in 0', roff(command.after.trimEnd()), '.in', '.fi');
  return lines;
}

function environmentSection(commands: readonly CommandDecl[]): string[] {
  const lines = ['.SH ENVIRONMENT'];
  for (const command of commands.filter((c) => c.environment)) {
    for (const name of Object.keys(command.options)) {
      lines.push(
        '.TP',
        `.B ${envName(name)}`,
        roff(`daytime ${command.name} ${longFlag(name)}; the flag wins.`),
      );
    }
  }
  lines.push(
    '.TP',
    '.B DAYTIME_DEBUG',
    'Set to anything: a failure that is not bad input also prints its stack trace.',
  );
  return lines;
}

// daytime(1) in roff (man(7) macros), made from the same declarations as --help: the commands,
// every option with its default and variable, the text after each command's options.
export function renderManPage(
  program: { name: string; description: string; version: string },
  commands: readonly CommandDecl[],
): string {
  const title = program.name.toUpperCase();
  const summary = program.description.replace(/^An? /, '').replace(/\.$/, '');
  const lines = [
    `.\\" ${program.name}(1), made by scripts/man-page.ts from the declarations in src/options/ and`,
    '.\\" src/cli/commands/: edit those, then run `npm run man`.',
    `.TH ${title} 1 "" "${program.name} ${program.version}" "User Commands"`,
    // No hyphenation: flags and variable names are copied from the page whole.
    '.nh',
    '.SH NAME',
    `${program.name} \\- ${roff(summary)}`,
    '.SH SYNOPSIS',
    ...commands.flatMap((c) => [`\\fB${program.name}\\fR ${roff(usage(c))}`, '.br']),
    `\\fB${program.name}\\fR [\\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR]`,
    '.SH DESCRIPTION',
    roff(program.description),
    'Every command takes \\fB\\-\\-help\\fR; what it prints is what this page says of that command.',
    '.SH COMMANDS',
    ...commands.flatMap(commandSection),
    ...environmentSection(commands),
    '.SH EXIT STATUS',
    '.TP',
    '.B 0',
    'Success.',
    '.TP',
    '.B 1',
    'A failure at run time (a port that cannot be bound, a server that does not answer), said in one line.',
    '.TP',
    '.B 2',
    'Bad input (an option, an argument or a variable), said in one line naming it, before any socket opens.',
    '.TP',
    '.B 130',
    'Stopped by Ctrl\\-C (bench, lab, fleet), after printing what was measured.',
    '.SH SEE ALSO',
    '.BR ss (8),',
    '.BR listen (2),',
    '.BR inetd (8),',
    '.BR systemd.socket (5),',
    '.BR haproxy (1)',
  ];
  return `${lines.join('\n')}\n`;
}

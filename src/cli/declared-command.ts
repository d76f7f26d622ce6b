import { type Command, Option } from 'commander';
import { defaultShown, envName, flagsOf, longFlag } from '../options/declare.ts';
import type { CommandDecl } from './commands/types.ts';
import { environmentHelp, environmentOptions } from './environment.ts';
import { releaseStopSignals } from './interrupt.ts';
import { givenOptions, refuseRepeatedOptions } from './options.ts';
import { reportError, toFlag } from './run-command.ts';

// The command's work: its positional arguments and its options as given (flags, and for a command
// with `environment` the variables), no defaults: the library applies them, from the same table.
// Returns the exit status; what it throws is reported (one line; exit 2 for bad input, else 1).
export type CommandAction = (
  args: (string | undefined)[],
  options: Record<string, unknown>,
  command: Command,
) => Promise<number>;

// Adds the subcommand its declaration describes: each option's flag, help line and shown default from
// its declaration, a repeated flag refused unless it collects, the environment where declared.
export function declareCommand(program: Command, decl: CommandDecl, action: CommandAction): Command {
  const command = program.command(decl.name).summary(decl.summary).description(decl.description);
  for (const argument of decl.arguments ?? []) command.argument(argument.name, argument.help);
  for (const [name, option] of Object.entries(decl.options)) {
    const flag = new Option(flagsOf(name, option), option.help);
    // Shown only: commander holds no default, so every value it has was typed.
    flag.defaultValueDescription = defaultShown(option);
    if (option.repeatable) flag.argParser((value: string, previous: string[] = []) => [...previous, value]);
    command.addOption(flag);
  }
  const after = [decl.environment ? environmentHelp(decl.options) : '', decl.after ?? ''].filter(Boolean);
  if (after.length > 0) command.addHelpText('after', `\n${after.join('\n')}`);
  const repeatable = Object.entries(decl.options).filter(([, o]) => o.repeatable);
  refuseRepeatedOptions(
    command,
    repeatable.map(([name]) => longFlag(name).slice(2)),
  );
  command.action(async (...received: unknown[]) => {
    const positional = received.slice(0, decl.arguments?.length ?? 0) as (string | undefined)[];
    const fromEnvironment = new Set<string>();
    // Bad input is named as the user gave it: the flag, or the variable it came from.
    const name = (option: string) => {
      const [head = '', ...rest] = option.split(' ');
      if (fromEnvironment.has(head)) return [envName(head), ...rest].join(' ');
      if (head in decl.options) return [longFlag(head), ...rest].join(' ');
      return /^DAYTIME_/.test(option) ? option : toFlag(option);
    };
    try {
      const given = givenOptions<Record<string, unknown>>(command);
      const environment = decl.environment ? environmentOptions(decl.options, process.env, given) : {};
      for (const option of Object.keys(environment)) fromEnvironment.add(option);
      const running = action(positional, { ...environment, ...given }, command);
      // A command that stops on signals has taken them by now, before its first await (interrupt.ts);
      // for any other they act as by default again.
      releaseStopSignals();
      process.exitCode = await running;
    } catch (error) {
      process.exitCode = reportError(decl.name, error, name);
    }
  });
  return command;
}

import type { Command, Help, Option } from 'commander';
import { OptionConflictError } from '../errors.ts';

// The flags the user typed, by attribute name: commander's defaults (where a command still gives it
// any) left out, so the normalizers apply the declared ones and judge conflicts on what was asked for.
export function givenOptions<T extends object>(command: Command): Partial<T> {
  const values = command.opts<Record<string, unknown>>();
  return Object.fromEntries(
    Object.entries(values).filter(([key]) => command.getOptionValueSource(key) !== 'default'),
  ) as Partial<T>;
}

// An optional value left out (`--inetd --inetd`) is said as such.
const said = (value: string | undefined) => (value === undefined ? 'none' : JSON.stringify(value));

// A flag that takes one value, given twice, is refused rather than silently replaced by the second
// (the same rule as a conflict: exit 2, one line). `repeatable` lists the long names that collect.
export function refuseRepeatedOptions(command: Command, repeatable: readonly string[] = []): Command {
  for (const option of command.options as readonly Option[]) {
    if (!(option.required || option.optional) || option.variadic || repeatable.includes(option.name()))
      continue;
    let seen = false;
    let first: string | undefined;
    command.on(`option:${option.name()}`, (value: string) => {
      if (!seen) {
        seen = true;
        first = value;
        return;
      }
      throw new OptionConflictError(
        'repeated',
        [option.attributeName(), option.attributeName()],
        `it takes one value (${said(first)}, then ${said(value)}); give it once`,
      );
    });
  }
  return command;
}

// Help as every command prints it: at most 80 columns (fewer on a narrower terminal), and defaults
// and choices shown as the user would type them, unquoted.
export const HELP_WIDTH = 80;
export const helpWidth = (stream: NodeJS.WriteStream) => Math.min(HELP_WIDTH, stream.columns || HELP_WIDTH);

export function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(`choices: ${option.argChoices.join(', ')}`);
  // Declared options show their default through defaultValueDescription alone (declared-command.ts).
  const shown =
    option.defaultValueDescription ??
    (option.defaultValue === undefined ? undefined : String(option.defaultValue));
  if (shown !== undefined && (option.required || option.optional)) extra.push(`default: ${shown}`);
  return [option.description, extra.length > 0 ? `(${extra.join(', ')})` : ''].filter(Boolean).join(' ');
}

export function argumentDescription(argument: Parameters<Help['argumentDescription']>[0]): string {
  const extra =
    argument.defaultValue === undefined
      ? ''
      : `(default: ${argument.defaultValueDescription ?? String(argument.defaultValue)})`;
  return [argument.description, extra].filter(Boolean).join(' ');
}

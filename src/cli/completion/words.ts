import { longFlag, type OptionDecl } from '../../options/declare.ts';
import type { CommandDecl } from '../commands/types.ts';

// One option as a completion script needs it, from its declaration.
export interface CompletionOption {
  long: string;
  short: string | undefined;
  // 'none': a switch; 'required' or 'optional': the next word is its value (or may be).
  value: 'none' | 'required' | 'optional';
  choices: readonly string[] | undefined;
  complete: OptionDecl['complete'];
  repeatable: boolean;
  help: string;
}

export function completionOptions(command: CommandDecl): CompletionOption[] {
  const declared = Object.entries(command.options).map(([name, decl]) => ({
    long: longFlag(name),
    short: decl.short && `-${decl.short}`,
    value: !decl.arg ? 'none' : decl.arg.startsWith('[') ? 'optional' : 'required',
    choices: decl.choices,
    complete: decl.complete,
    repeatable: Boolean(decl.repeatable),
    help: decl.help,
  })) satisfies CompletionOption[];
  return [...declared, HELP];
}

// Commander adds --help to every command.
const HELP: CompletionOption = {
  long: '--help',
  short: '-h',
  value: 'none',
  choices: undefined,
  complete: undefined,
  repeatable: false,
  help: 'display help for command',
};

// The choices a command's first positional argument takes (completion's shells), if any.
export const argumentChoices = (command: CommandDecl) => command.arguments?.[0]?.choices;

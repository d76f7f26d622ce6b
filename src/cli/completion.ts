import type { Command } from 'commander';
import { choiceOption } from '../options/validate.ts';
import { COMMANDS, PROGRAM } from './commands/all.ts';
import { COMPLETION_COMMAND, SHELLS } from './commands/completion.ts';
import { bashCompletion } from './completion/bash.ts';
import { fishCompletion } from './completion/fish.ts';
import { zshCompletion } from './completion/zsh.ts';
import { declareCommand } from './declared-command.ts';
import { EXIT_OK } from './run-command.ts';

const SCRIPTS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion };

// The script for one shell, made from the same declarations as --help.
export function completionScript(shell: string): string {
  return SCRIPTS[choiceOption('shell argument', shell, SHELLS)](PROGRAM, COMMANDS);
}

export function registerCompletion(program: Command): void {
  declareCommand(program, COMPLETION_COMMAND, async ([shell]) => {
    process.stdout.write(completionScript(shell ?? ''));
    return EXIT_OK;
  });
}

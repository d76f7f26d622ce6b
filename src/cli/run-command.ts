import { CommanderError } from 'commander';
import { EXIT_STATUS, exitStatusOf } from '../error-catalog.ts';
import { DaytimeError, InvalidOptionError, OptionConflictError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = EXIT_STATUS.failure;
export const EXIT_USAGE = EXIT_STATUS.usage;

// Option names in the library are camelCase; on the command line they are --kebab-case flags.
// Positional arguments ("target", "port argument") keep their names.
export const toFlag = (option: string) =>
  option.includes(' ') || option.startsWith('-') || option === 'target'
    ? option
    : `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

// One line on stderr and an exit code. The code's entry in the catalog (error-catalog.ts) says which:
// 2 for bad input, 130 for an abort, 1 for everything else that went wrong at run time, as for an error
// that has no code of ours (a defect, or a code Node or the kernel gave). `name` spells an option as the
// user gave it (a flag, or the variable it came from).
export function reportError(command: string, error: unknown, name = toFlag): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its (one-line) message; help and --version are not failures.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  process.stderr.write(`daytime ${command}: ${describe(error, name)}\n`);
  if (!(error instanceof DaytimeError) && process.env.DAYTIME_DEBUG && error instanceof Error) {
    process.stderr.write(`${error.stack}\n`);
  }
  return error instanceof DaytimeError ? exitStatusOf(error.code) : EXIT_FAILURE;
}

// The message, with the library's option names spelled as the user gave them.
function describe(error: unknown, name: (option: string) => string): string {
  if (error instanceof OptionConflictError) return error.describe(name);
  if (error instanceof InvalidOptionError) return error.message.replace(error.option, name(error.option));
  return error instanceof Error ? error.message : String(error);
}

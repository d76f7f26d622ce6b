import { CommanderError } from 'commander';
import { DaytimeError, InvalidOptionError, OptionConflictError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

// Option names in the library are camelCase; on the command line they are --kebab-case flags.
// Positional arguments ("target", "port argument") keep their names.
export const toFlag = (option: string) =>
  option.includes(' ') || option.startsWith('-') || option === 'target'
    ? option
    : `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

// One line on stderr and an exit code: 2 for bad input, 1 for everything that went wrong at run time.
// `name` spells an option as the user gave it (a flag, or the variable it came from).
export function reportError(command: string, error: unknown, name = toFlag): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its (one-line) message; help and --version are not failures.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof OptionConflictError) {
    process.stderr.write(`daytime ${command}: ${error.describe(name)}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof InvalidOptionError) {
    process.stderr.write(`daytime ${command}: ${error.message.replace(error.option, name(error.option))}\n`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`daytime ${command}: ${message}\n`);
  if (!(error instanceof DaytimeError) && process.env.DAYTIME_DEBUG && error instanceof Error) {
    process.stderr.write(`${error.stack}\n`);
  }
  return EXIT_FAILURE;
}

// The command line: every subcommand registered on one commander program, configured once.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerBench } from './bench.ts';
import { PROGRAM } from './commands/all.ts';
import { registerCompletion } from './completion.ts';
import { registerFleet } from './fleet.ts';
import { registerGet } from './get.ts';
import { releaseStopSignals } from './interrupt.ts';
import { registerLab } from './lab.ts';
import { argumentDescription, helpWidth, optionDescription } from './options.ts';
import { registerPlayground } from './playground.ts';
import { reportError } from './run-command.ts';
import { registerServe } from './serve.ts';
import { registerWatch } from './watch.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

// The whole command line, parsed by main(); tests build it to read its help without running anything.
export function createProgram(): Command {
  // Configured before the commands are added: each subcommand inherits the help and output settings.
  const program = new Command(PROGRAM.name)
    .description(PROGRAM.description)
    .version(version)
    .showSuggestionAfterError()
    .exitOverride()
    .configureHelp({ optionDescription, argumentDescription })
    .configureOutput({
      getOutHelpWidth: () => helpWidth(process.stdout),
      getErrHelpWidth: () => helpWidth(process.stderr),
      // Usage errors are one line: commander puts its "Did you mean" suggestion on a line of its own.
      outputError: (text, write) =>
        write(
          `daytime: ${text
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()}\n`,
        ),
    })
    .hook('preAction', (_program, command) => nameProcess(command.name()));
  registerServe(program);
  registerGet(program);
  registerBench(program);
  registerWatch(program);
  registerLab(program);
  registerFleet(program);
  registerPlayground(program);
  registerCompletion(program);
  return program;
}

// `ps -e`, `top` and `ss -p` show the process name ("daytime serve", not node's MainThread); `ps aux`
// and `pgrep -f` see the command line without node and the script path ("daytime serve --port 1313").
// process.title sets both on Linux, the name cut to 15 bytes, so the name is written again after it.
function nameProcess(command: string): void {
  process.title = ['daytime', ...process.argv.slice(2)].join(' ');
  try {
    writeFileSync('/proc/self/comm', `daytime ${command}`);
  } catch {
    // Not Linux: the title alone.
  }
}

export async function main(): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    process.exitCode = reportError(program.args[0] ?? '', error);
  }
  // Help, the version, bad input: no command ran to take the signals.
  releaseStopSignals();
}

#!/usr/bin/env -S node --max-semi-space-size=1 --max-opt=2
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerBench } from './cli/bench.ts';
import { registerFleet } from './cli/fleet.ts';
import { registerGet } from './cli/get.ts';
import { registerLab } from './cli/lab.ts';
import { reportError } from './cli/run-command.ts';
import { registerServe } from './cli/serve.ts';
import { registerWatch } from './cli/watch.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const program = new Command('daytime')
  .description('An RFC 867 daytime server and client, built to show what listen(backlog) really does.')
  .version(version)
  .showSuggestionAfterError()
  .exitOverride()
  .configureOutput({
    // Usage errors are one line: commander puts its "Did you mean" suggestion on a line of its own.
    outputError: (text, write) =>
      write(
        `daytime: ${text
          .replace(/^error: /, '')
          .replace(/\s*\n\s*/g, ' ')
          .trim()}\n`,
      ),
  });

registerServe(program);
registerGet(program);
registerBench(program);
registerWatch(program);
registerLab(program);
registerFleet(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(program.args[0] ?? '', error);
}

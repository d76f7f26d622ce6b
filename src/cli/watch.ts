import type { Command } from 'commander';
import { optionValue } from '../options/declare.ts';
import { WATCH_OPTIONS } from '../options/watch.ts';
import { WATCH_COMMAND } from './commands/watch.ts';
import { declareCommand } from './declared-command.ts';
import { onStopSignals } from './interrupt.ts';
import { EXIT_OK } from './run-command.ts';
import { watchTarget } from './target.ts';

interface WatchFlags {
  interval?: string;
  count?: string;
  json?: boolean;
}

export function registerWatch(program: Command): void {
  declareCommand(program, WATCH_COMMAND, ([port], options) => watch(port ?? '', options as WatchFlags));
}

async function watch(target: string, flags: WatchFlags): Promise<number> {
  const { host, port } = watchTarget(target);
  const intervalMs = optionValue(WATCH_OPTIONS, 'interval', flags.interval);
  const count = optionValue(WATCH_OPTIONS, 'count', flags.count);
  const { watchQueue } = await import('../watch/watch-queue.ts');
  const { formatWatchSample } = await import('../watch/format.ts');
  const stop = new AbortController();
  onStopSignals(() => stop.abort());
  const live = process.stdout.isTTY && !flags.json;
  let drawn = 0;
  await watchQueue({
    host,
    port,
    intervalMs,
    count,
    signal: stop.signal,
    onSample: (sample) => {
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(sample)}\n`);
        return;
      }
      const text = formatWatchSample(sample);
      // On a terminal, redraw in place; otherwise append, so a log keeps every sample.
      if (live && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
      process.stdout.write(text);
      drawn = text.split('\n').length - 1;
    },
  });
  return EXIT_OK;
}

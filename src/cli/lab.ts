import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidOptionError } from '../errors.ts';
import { optionValue } from '../options/declare.ts';
import { LAB_OPTIONS } from '../options/lab.ts';
import { LAB_COMMAND } from './commands/lab.ts';
import { declareCommand } from './declared-command.ts';
import { formatLabProgress } from './format-progress.ts';
import { EXIT_INTERRUPTED, exitStatusFor, onStopSignals, STOP_SIGNALS } from './interrupt.ts';
import { EXIT_OK } from './run-command.ts';

interface LabFlags {
  only?: string;
  json?: boolean;
  html?: string;
}

export function registerLab(program: Command): void {
  declareCommand(program, LAB_COMMAND, (_args, options) => lab(options as LabFlags));
}

// The report is written after a run of 20 s: a path that cannot be written is bad input, found first.
async function checkWritable(file: string): Promise<void> {
  const path = resolve(file);
  const existing = await stat(path).catch(() => undefined);
  const why = existing?.isDirectory()
    ? 'It is a directory'
    : await access(existing ? path : dirname(path), constants.W_OK).then(
        () => undefined,
        (error: NodeJS.ErrnoException) =>
          error.code === 'ENOENT' ? `No directory ${dirname(path)}` : `Cannot write there (${error.code})`,
      );
  if (why) throw new InvalidOptionError('html', 'a file that can be written', file, why);
}

async function lab(flags: LabFlags): Promise<number> {
  // Taken first, before anything loads: SIGTERM (timeout, systemd) and SIGHUP (a closed terminal) stop a
  // run as Ctrl-C does, with the partial results printed and every namespace runner ended.
  const stop = new AbortController();
  onStopSignals((signal) => stop.abort(signal), STOP_SIGNALS);
  const { runLab, selectExperiments } = await import('../lab/run-lab.ts');
  const only = optionValue(LAB_OPTIONS, 'only', flags.only);
  selectExperiments(only);
  if (flags.html) await checkWritable(flags.html);
  const report = await runLab({
    only,
    signal: stop.signal,
    onProgress: (event) => process.stderr.write(`${formatLabProgress(event)}\n`),
  });
  // The results first: a report that cannot be written after all must not lose them.
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { formatLabSummary } = await import('../lab/format-summary.ts');
    process.stdout.write(formatLabSummary(report));
  }
  if (report.interrupted) {
    if (flags.html) process.stderr.write(`lab: interrupted, so no report was written to ${flags.html}\n`);
    return stop.signal.aborted ? exitStatusFor(stop.signal.reason) : EXIT_INTERRUPTED;
  }
  if (flags.html) {
    const { renderLabHtml } = await import('../lab/report-html.ts');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(flags.html, await renderLabHtml(report));
    process.stderr.write(`lab: report written to ${flags.html}\n`);
  }
  return EXIT_OK;
}

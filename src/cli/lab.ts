import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidOptionError } from '../errors.ts';
import { formatLabProgress } from './format-progress.ts';
import { EXIT_INTERRUPTED, onStopSignals } from './interrupt.ts';
import { givenOptions, refuseRepeatedOptions } from './options.ts';
import { EXIT_OK, reportError } from './run-command.ts';

interface LabFlags {
  only?: string;
  json?: boolean;
  html?: string;
}

const HELP_AFTER = `
Experiments on the running kernel, each answering part of: Is listen(5)
different from listen(1)? Why may the backlog be 0? Is there a preferred value?
Does it apply to UDP? Every figure is measured now; nothing is hard-coded.
Listeners are made with socket(2)/listen(2) through libc, so backlog 0,
listen() again and listen() on UDP can be tried as they are.

Experiments: capacity, syn-retry, syn-give-up, burst, queued-data,
close-resets, relisten, somaxconn-clamp, node-backlog, node-eager-accept,
udp-no-listen, udp-rcvbuf, unix-eagain; as root, in private network namespaces:
ns-somaxconn, ns-abort-on-overflow, ns-classic-retry. Clients use their own
timeouts (the kernel's own SYN give-up is about 131 s); a full run takes under
20 s. Ctrl-C stops it, removes what it made and prints what was measured so far
(exit 130).

Examples:
  daytime lab                         # summary on stdout, progress on stderr
  daytime lab --only capacity,udp-no-listen --json
  daytime lab --html report.html      # charts as inline SVG; opens offline
`;

export function registerLab(program: Command): void {
  const command = program
    .command('lab')
    .summary('measure what listen(backlog) does on this kernel')
    .description('Run experiments on this kernel that answer the backlog questions with numbers.')
    .option('--only <ids>', 'run only these experiments (comma-separated)')
    .option('--json', 'print the report as one JSON document')
    .option('--html <file>', 'also write a self-contained HTML report with charts to FILE')
    .addHelpText('after', HELP_AFTER)
    .action(async () => {
      process.exitCode = await lab(givenOptions<LabFlags>(command));
    });
  refuseRepeatedOptions(command);
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
  try {
    const { runLab, selectExperiments } = await import('../lab/run-lab.ts');
    const only = flags.only?.split(',').map((s) => s.trim());
    selectExperiments(only);
    if (flags.html) await checkWritable(flags.html);
    const stop = new AbortController();
    onStopSignals(() => stop.abort());
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
      return EXIT_INTERRUPTED;
    }
    if (flags.html) {
      const { renderLabHtml } = await import('../lab/report-html.ts');
      const { writeFile } = await import('node:fs/promises');
      await writeFile(flags.html, await renderLabHtml(report));
      process.stderr.write(`lab: report written to ${flags.html}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    return reportError('lab', error);
  }
}

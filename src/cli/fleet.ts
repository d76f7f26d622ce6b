import type { Command } from 'commander';
import { optionValue } from '../options/declare.ts';
import { FLEET_OPTIONS } from '../options/fleet.ts';
import { FLEET_COMMAND } from './commands/fleet.ts';
import { declareCommand } from './declared-command.ts';
import { formatFleetProgress } from './format-progress.ts';
import { EXIT_INTERRUPTED, onStopSignals } from './interrupt.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, reportError } from './run-command.ts';

interface FleetFlags {
  hosts?: string;
  only?: string;
  json?: boolean;
}

export function registerFleet(program: Command): void {
  declareCommand(program, FLEET_COMMAND, (_args, options) => fleet(options as FleetFlags));
}

async function fleet(flags: FleetFlags): Promise<number> {
  try {
    const { runFleet, normalizeFleetOptions, fleetUnavailable } = await import('../fleet/run-fleet.ts');
    const { formatFleetReport } = await import('../fleet/format.ts');
    const { fleetVerdicts } = await import('../fleet/verdicts.ts');
    const only = optionValue(FLEET_OPTIONS, 'only', flags.only);
    normalizeFleetOptions({ hosts: flags.hosts, only });
    const unavailable = fleetUnavailable();
    if (unavailable) {
      process.stderr.write(`daytime fleet: ${unavailable}\n`);
      return EXIT_USAGE;
    }
    const stop = new AbortController();
    onStopSignals(() => stop.abort(), ['SIGINT', 'SIGTERM']);
    const report = await runFleet({
      hosts: flags.hosts,
      only,
      signal: stop.signal,
      onProgress: (event) => process.stderr.write(`${formatFleetProgress(event)}\n`),
    });
    process.stderr.write(formatFleetReport(report));
    const failures = fleetVerdicts(report);
    for (const failure of failures) process.stderr.write(`not met: ${failure}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    return failures.length === 0 ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    const code = reportError('fleet', error);
    return (error as { code?: string }).code === 'ABORT_ERR' ? EXIT_INTERRUPTED : code;
  }
}

import type { Command } from 'commander';
import { formatFleetProgress } from './format-progress.ts';
import { EXIT_INTERRUPTED, onStopSignals } from './interrupt.ts';
import { givenOptions, refuseRepeatedOptions } from './options.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, reportError } from './run-command.ts';

interface FleetFlags {
  hosts?: string;
  only?: string;
  json?: boolean;
}

const HELP_AFTER = `
As root, builds a fleet in network namespaces: a client, a balancer (Debian's
HAProxy, unprivileged, with deploy/haproxy/daytime.cfg), a switch and N hosts
running \`daytime serve --proxy-protocol\`, joined by veth pairs and a bridge
(10.77.0.0/16, nothing outside the namespaces is touched). The scenarios:
  spread           30,000 connections through the balancer: no error, each host
                   within 20 % of its share
  proxy-v2         the hosts' log lines name the client's address, not the
                   balancer's
  rolling-restart  every host in turn under load: drained in HAProxy, SIGTERM,
                   restarted, back once UP
  kill-host        kill -9 of a host under load: errors only for what it held,
                   none once it is DOWN
  reload           HAProxy reloaded three times under load (master-worker,
                   SIGUSR2)
  queueing         a host stopped (SIGSTOP) without and with a server maxconn:
                   where connections wait
then removes every namespace, interface and process it made, also on Ctrl-C or
a failure.

Exit status: 0 when every scenario met its figures, 1 when one did not, 2
without root or haproxy, 130 when stopped by Ctrl-C.

Examples:
  sudo npx daytime fleet
  sudo npx daytime fleet --hosts 4 --only spread,kill-host --json
`;

export function registerFleet(program: Command): void {
  const command = program
    .command('fleet')
    .summary('run daytime servers behind HAProxy in network namespaces, and measure')
    .description('Build a fleet of daytime hosts behind HAProxy in network namespaces and run the scenarios.')
    .option('--hosts <n>', 'daytime hosts behind the balancer, 2..9', '3')
    .option('--only <scenarios>', 'comma-separated scenarios to run (default: all)')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText('after', HELP_AFTER)
    .action(async () => {
      process.exitCode = await fleet(givenOptions<FleetFlags>(command));
    });
  refuseRepeatedOptions(command);
}

async function fleet(flags: FleetFlags): Promise<number> {
  try {
    const { runFleet, normalizeFleetOptions, fleetUnavailable } = await import('../fleet/run-fleet.ts');
    const { formatFleetReport } = await import('../fleet/format.ts');
    const { fleetVerdicts } = await import('../fleet/verdicts.ts');
    const only = flags.only?.split(',').map((s) => s.trim());
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

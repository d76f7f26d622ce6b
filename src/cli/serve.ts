import type { Command } from 'commander';
import { pino } from 'pino';
import { signalWhenParentExits } from '../kernel/parent-death.ts';
import { optionValue } from '../options/declare.ts';
import { SERVE_OPTIONS } from '../options/serve.ts';
import { serveInetd } from '../process/inetd.ts';
import { runServe } from '../process/serve.ts';
import { WORKER_ENV } from '../process/worker-pool.ts';
import type { ServeInput } from '../server/options.ts';
import { EXIT_CLOSED_PIPE, endOnClosedPipe, isClosedPipe } from './closed-pipe.ts';
import { SERVE_COMMAND } from './commands/serve.ts';
import { declareCommand } from './declared-command.ts';
import { onStopSignals } from './interrupt.ts';
import { prettyDestination } from './pretty-log.ts';
import { EXIT_OK } from './run-command.ts';

interface ServeFlags extends ServeInput {
  inetd?: string | true;
  quiet?: boolean;
  logFormat?: string;
}

export function registerServe(program: Command): void {
  declareCommand(program, SERVE_COMMAND, async (_args, options) => {
    const flags = options as ServeFlags;
    // Under inetd nothing is logged: standard output is the client, and so is standard error under
    // inetd itself. A failure still gets its line on stderr (the client, if anyone, sees it) and exit status.
    if (flags.inetd !== undefined) {
      try {
        serveInetd(flags);
      } catch (error) {
        // The client went before its reply (written straight to the descriptor, not process.stdout).
        if (isClosedPipe(error)) return EXIT_CLOSED_PIPE;
        throw error;
      }
      return EXIT_OK;
    }
    await serve(flags);
    return EXIT_OK;
  });
}

// The parent when the process started: one that is gone by the time the check is armed is noticed.
const parent = process.ppid;

async function serve(flags: ServeFlags): Promise<void> {
  const { quiet, logFormat, inetd: _inetd, ...options } = flags;
  const format =
    optionValue(SERVE_OPTIONS, 'logFormat', logFormat) ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const logger = format === 'json' ? pino(jsonDestination()) : pino({}, prettyDestination());
  // Handlers first: a signal that arrives while listening is still in progress must not kill the process.
  // One that came while the program loaded stops it here, at once.
  const stop = new AbortController();
  let serving = false;
  onStopSignal(logger, stop, () => serving);
  // Under npm (`npx daytime serve &`, `npm start`) the bin runs below npm's `sh -c`; when that shell
  // goes (npm killed, `kill %1`), the server drains and stops instead of running on as an orphan.
  // (A worker has its primary for a parent and follows it on its own.)
  if (process.env.npm_lifecycle_event && !process.env[WORKER_ENV])
    await signalWhenParentExits('SIGTERM', parent);
  if (stop.signal.aborted) {
    const signal = stop.signal.reason as NodeJS.Signals;
    logger.info({ signal }, `${signal} received while starting: stopped before listening, nothing served`);
    return;
  }
  serving = true;
  await runServe({
    ...options,
    logger,
    logConnections: !quiet,
    signal: stop.signal,
    workerCommand: { modulePath: process.argv[1] ?? '', args: process.argv.slice(2) },
  });
}

// pino's own destination for standard output, which on a closed pipe would stop logging and serve on
// unseen: a closed pipe ends serve as it ends every command (the pretty lines go through process.stdout).
function jsonDestination(): pino.DestinationStream {
  const destination = pino.destination({ dest: 1 });
  endOnClosedPipe(destination);
  return destination;
}

// The first SIGINT or SIGTERM drains and stops (before serving, serve() says so); a second one ends the
// process at once (the same Ctrl-C forwarded by npm is not a second one: cli/interrupt.ts).
function onStopSignal(logger: pino.Logger, stop: AbortController, serving: () => boolean): void {
  onStopSignals(
    (signal) => {
      if (serving()) logger.info({ signal }, `${signal} received, draining`);
      stop.abort(signal);
    },
    ['SIGINT', 'SIGTERM'],
  );
}

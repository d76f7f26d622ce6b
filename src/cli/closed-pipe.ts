import { constants } from 'node:os';

// A reader that went away (`daytime get | head -1`, `watch --json | head -n 2`) ends the command
// quietly with 128 + SIGPIPE, 141: what a shell reports for cat, seq or git log cut short by head,
// and what `set -o pipefail` sees from them. What was written before is with the reader already and
// there is no one left to tell, so nothing is printed. Node ignores SIGPIPE (a write fails with EPIPE
// instead), so the process exits with that status rather than dying of the signal; exiting also runs
// the exit handlers that end what the command started (the lab's namespace runners).
export const EXIT_CLOSED_PIPE = 128 + constants.signals.SIGPIPE;

export const isClosedPipe = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | null)?.code === 'EPIPE';

// Ends the process as above when `stream` finds its reader gone; any other error stays unhandled, as
// it was (Node reports it and exits 1).
export function endOnClosedPipe(stream: NodeJS.EventEmitter): void {
  stream.on('error', (error: unknown) => {
    if (isClosedPipe(error)) process.exit(EXIT_CLOSED_PIPE);
    throw error;
  });
}

// Standard output and error, for every command. Node makes them on first use, and they stay unmade
// when unused: under `serve --inetd` standard output is the client's socket, written with writeSync,
// and making a stream of it would change the socket. So each gets the handler as it is made.
export function endQuietlyOnClosedPipes(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const made = Object.getOwnPropertyDescriptor(process, name);
    const make = made?.get;
    if (!make) {
      endOnClosedPipe(process[name]);
      continue;
    }
    let handled = false;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: true,
      get() {
        const stream = make.call(process);
        if (!handled) {
          handled = true;
          endOnClosedPipe(stream);
        }
        return stream;
      },
    });
  }
}

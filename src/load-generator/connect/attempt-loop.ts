import type { ConnectPathName, Counts, LoopConfig, LoopResult, Outcome } from '../tally.ts';
import { Tally } from '../tally.ts';

export type Done = (attempt: Attempt, outcome: Outcome) => void;
// One connection in flight on libuv's loop, whichever way it is made.
export interface Attempt {
  readonly start: number;
  fail(outcome: Outcome): void;
  // Closes it with no outcome: the run was stopped (Ctrl-C, SIGTERM) and will not wait for it.
  abandon(): void;
}
export type NewAttempt = (done: Done) => Attempt;

// A closed loop on libuv: `connections` connections in flight, each replaced as it finishes. Each one
// connects, reads to EOF and checks the reply (a CRLF line, or 4 bytes for time). The signal ends the
// loop at once: the connections in flight are given up, not waited for (up to --timeout).
export function runAttemptLoop(
  config: LoopConfig,
  signal: AbortSignal,
  counts: Counts,
  path: ConnectPathName,
  newAttempt: NewAttempt,
): Promise<LoopResult> {
  const tally = new Tally(config, counts);
  const inFlight = new Set<Attempt>();
  return new Promise((resolve) => {
    const finish = () => {
      clearInterval(sweeper);
      signal.removeEventListener('abort', abandon);
      resolve(tally.result(path));
    };
    const abandon = () => {
      for (const attempt of inFlight) attempt.abandon();
      inFlight.clear();
      finish();
    };
    const done = (attempt: Attempt, outcome: Outcome) => {
      if (!inFlight.delete(attempt)) return;
      tally.record(attempt.start, outcome);
      if (tally.more(signal)) open();
      else if (inFlight.size === 0) finish();
    };
    const open = () => {
      tally.started++;
      inFlight.add(newAttempt(done));
    };
    // One timer for all connections: cheaper than a timer each.
    const sweeper = setInterval(
      () => {
        const now = performance.now();
        for (const attempt of inFlight) if (now - attempt.start > config.timeoutMs) attempt.fail('timeout');
      },
      Math.min(100, config.timeoutMs),
    );
    if (signal.aborted) return finish();
    signal.addEventListener('abort', abandon, { once: true });
    const first = Math.min(config.connections, config.count ?? config.connections);
    for (let i = 0; i < first; i++) open();
    if (first === 0) finish();
  });
}

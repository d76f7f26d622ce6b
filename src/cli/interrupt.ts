import { constants } from 'node:os';
import { EXIT_STATUS } from '../error-catalog.ts';

// Exit status of a run cut short by Ctrl-C: 128 + SIGINT, as shells report it (the catalog's).
export const EXIT_INTERRUPTED = EXIT_STATUS.interrupted;

// The signals that ask a run to stop: Ctrl-C (SIGINT), kill, `timeout` and systemd (SIGTERM), and a
// terminal that closed (SIGHUP). A command that keeps its partial results stops the same way on each.
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

// The exit status of a run a signal cut short: 128 + its number (130, 143, 129), as a shell reports a
// process that signal ended, so a caller sees which one it was.
export const exitStatusFor = (signal: NodeJS.Signals): number => 128 + constants.signals[signal];

// One Ctrl-C can arrive twice. The terminal signals the whole foreground process group, and npm
// forwards every SIGINT and SIGTERM it gets to the process it started: under `npm start`, whose
// script execs node, that process is this one. So there the second signal is npm's copy of the
// first, however late npm sends it; elsewhere a repeat within this window is still the same keypress.
export const REPEAT_WINDOW_MS = 500;
const npmForwards = () => /^exec\s/.test(process.env.npm_lifecycle_script ?? '');
const sameStop = (count: number, firstAt: number) =>
  count === 2 && (npmForwards() || performance.now() - firstAt < REPEAT_WINDOW_MS);

// A signal that came while the program was loading, before its command said how it stops
// (onStopSignals) or that it takes the signals' default (releaseStopSignals).
let holding = false;
let held: { signal: NodeJS.Signals; at: number; count: number } | undefined;
const hold = (signal: NodeJS.Signals) => {
  if (!held) held = { signal, at: performance.now(), count: 1 };
  else if (!sameStop(++held.count, held.at)) process.exit(exitStatusFor(signal));
};

// Called first thing by the bin: loading the program takes a moment (a tenth of a second and more),
// and a signal in it would otherwise end the process with no word and none of its cleanup.
export function holdStopSignals(): void {
  holding = true;
  for (const signal of STOP_SIGNALS) process.on(signal, hold);
}

function unhold(): typeof held {
  if (!holding) return undefined;
  holding = false;
  for (const signal of STOP_SIGNALS) process.off(signal, hold);
  const early = held;
  held = undefined;
  return early;
}

// For a command that does not stop on signals itself: they act as by default again, and one that came
// while the program loaded acts now.
export function releaseStopSignals(): void {
  const early = unhold();
  if (early) process.kill(process.pid, early.signal);
}

// Calls `stop` on the first of `signals` (at once if it came while the program loaded); a later one
// (a second Ctrl-C) ends the process at once with 128 + its number, as a second Ctrl-C is expected to.
// The other stop signals keep their default. Returns a function that removes the handlers.
export function onStopSignals(
  stop: (signal: NodeJS.Signals) => void,
  signals: readonly NodeJS.Signals[] = ['SIGINT'],
): () => void {
  let count = 0;
  let firstAt = 0;
  const handle = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      firstAt = performance.now();
      stop(signal);
    } else if (!sameStop(count, firstAt)) {
      process.exit(exitStatusFor(signal));
    }
  };
  // Ours first, then the early ones off: no moment with neither, when a signal would end the process.
  for (const signal of signals) process.on(signal, handle);
  const early = unhold();
  if (early && signals.includes(early.signal)) {
    count = early.count;
    firstAt = early.at;
    stop(early.signal);
  } else if (early) {
    process.kill(process.pid, early.signal);
  }
  return () => {
    for (const signal of signals) process.off(signal, handle);
  };
}

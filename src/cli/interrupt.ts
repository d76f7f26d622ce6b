import { constants } from 'node:os';
import { EXIT_STATUS } from '../error-catalog.ts';

// Exit status of a run cut short by Ctrl-C: 128 + SIGINT, as shells report it (the catalog's).
export const EXIT_INTERRUPTED = EXIT_STATUS.interrupted;

// One Ctrl-C can arrive twice. The terminal signals the whole foreground process group, and npm
// forwards every SIGINT and SIGTERM it gets to the process it started: under `npm start`, whose
// script execs node, that process is this one. So there the second signal is npm's copy of the
// first, however late npm sends it; elsewhere a repeat within this window is still the same keypress.
export const REPEAT_WINDOW_MS = 500;
const npmForwards = () => /^exec\s/.test(process.env.npm_lifecycle_script ?? '');

// Calls `stop` on the first of `signals`; a later one (a second Ctrl-C) ends the process at once with
// 128 + its number, as a second Ctrl-C is expected to. Returns a function that removes the handlers.
export function onStopSignals(
  stop: (signal: NodeJS.Signals) => void,
  signals: readonly NodeJS.Signals[] = ['SIGINT'],
): () => void {
  let count = 0;
  let firstAt = 0;
  const handle = (signal: NodeJS.Signals) => {
    count++;
    const now = performance.now();
    if (count === 1) {
      firstAt = now;
      stop(signal);
    } else if (count === 2 && (npmForwards() || now - firstAt < REPEAT_WINDOW_MS)) {
      // The same Ctrl-C, delivered again.
    } else {
      process.exit(128 + constants.signals[signal]);
    }
  };
  for (const signal of signals) process.on(signal, handle);
  return () => {
    for (const signal of signals) process.off(signal, handle);
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { netnsUnavailable } from '../kernel/netns.ts';
import { counterDelta, readKernelCounters } from '../kernel/netstat.ts';
import { runInNetns } from './netns.ts';
import type { CounterSource, Experiment, ExperimentContext, ExperimentResult } from './types.ts';

// How long the background is watched before an experiment that shares this machine's counters.
export const BACKGROUND_MS = 1000;

type Outcome = Omit<ExperimentResult, 'id' | 'title' | 'questions' | 'expected' | 'durationMs'>;

// An experiment that reads namespace-wide counters (ListenOverflows, SYN cookies, UdpRcvbufErrors).
// Where a namespace can be made (root), it runs in one made for it, as the playground's runs do, and
// its deltas are its own: a busy machine's other traffic cannot add to them. Elsewhere it runs here,
// and the result says so, with each counter's rate in the second just before, to set its deltas
// against.
export async function runWithOwnCounters(
  experiment: Experiment,
  context: ExperimentContext,
): Promise<Outcome> {
  if (netnsUnavailable('unshare') === undefined) {
    const outcome = await runInNetns(experiment.id, {}, context.signal, context.progress);
    return { ...outcome, counters: { scope: 'namespace' } };
  }
  const backgroundPerSecond = await backgroundRate(experiment.counters ?? [], context.signal);
  const outcome = await experiment.run(context);
  return { ...outcome, counters: { scope: 'machine', backgroundPerSecond } };
}

// Each counter's rise per second over BACKGROUND_MS, with nothing of ours running; undefined for a
// counter this kernel does not have.
async function backgroundRate(
  names: readonly string[],
  signal: AbortSignal,
): Promise<Extract<CounterSource, { scope: 'machine' }>['backgroundPerSecond']> {
  const before = readKernelCounters();
  const started = performance.now();
  await sleep(BACKGROUND_MS, undefined, { signal });
  const after = readKernelCounters();
  const seconds = (performance.now() - started) / 1000;
  return Object.fromEntries(
    names.map((name) => {
      const delta = counterDelta(before, after, name);
      return [name, delta === undefined ? undefined : Math.round((delta / seconds) * 10) / 10];
    }),
  );
}

import { InvalidOptionError } from '../errors.ts';
import { type LabEnvironment, readEnvironment } from './environment.ts';
import { burst } from './experiments/burst.ts';
import { capacity } from './experiments/capacity.ts';
import { closeResets } from './experiments/close-resets.ts';
import { nsAbortOnOverflow, nsClassicRetry, nsSomaxconn } from './experiments/namespaces.ts';
import { nodeBacklog } from './experiments/node-backlog.ts';
import { nodeEagerAccept } from './experiments/node-eager-accept.ts';
import { queuedData } from './experiments/queued-data.ts';
import { relisten } from './experiments/relisten.ts';
import { somaxconnClamp } from './experiments/somaxconn-clamp.ts';
import { synGiveUp } from './experiments/syn-give-up.ts';
import { synRetry } from './experiments/syn-retry.ts';
import { udpNoListen } from './experiments/udp-no-listen.ts';
import { udpRcvbuf } from './experiments/udp-rcvbuf.ts';
import { unixEagain } from './experiments/unix-eagain.ts';
import { runWithOwnCounters } from './own-counters.ts';
import type { Experiment, ExperimentResult, ExperimentStep, LabProgress } from './types.ts';

export const EXPERIMENTS: Experiment[] = [
  capacity,
  synRetry,
  synGiveUp,
  burst,
  queuedData,
  closeResets,
  relisten,
  somaxconnClamp,
  nodeBacklog,
  nodeEagerAccept,
  udpNoListen,
  udpRcvbuf,
  unixEagain,
  nsSomaxconn,
  nsAbortOnOverflow,
  nsClassicRetry,
];

export interface LabReport extends LabEnvironment {
  startedAt: string;
  durationMs: number;
  // The signal stopped the run: experiments it cut short or never started are skipped as interrupted.
  interrupted: boolean;
  experiments: ExperimentResult[];
}

export interface RunLabOptions {
  // Experiment ids to run; all when undefined.
  only?: string[];
  signal?: AbortSignal;
  onProgress?: (event: LabProgress) => void;
}

export const INTERRUPTED = 'interrupted';

// A child the signal reached before this process's own handler ran (the terminal's Ctrl-C or hangup,
// systemd's SIGTERM, all sent to every process) counts as interrupted too.
const interruptedBy = (error: unknown, signal: AbortSignal) =>
  signal.aborted ||
  ['SIGINT', 'SIGTERM', 'SIGHUP'].includes((error as { signal?: string } | null)?.signal ?? '');

// The one place where lab options are checked; it throws before anything runs.
export function selectExperiments(only: string[] | undefined): Experiment[] {
  if (only === undefined) return EXPERIMENTS;
  const known = new Set(EXPERIMENTS.map((e) => e.id));
  const unknown = only.filter((id) => !known.has(id));
  if (unknown.length > 0 || only.length === 0) {
    throw new InvalidOptionError(
      'only',
      `a comma-separated list of ${[...known].join(', ')}`,
      only.join(','),
    );
  }
  return EXPERIMENTS.filter((e) => only.includes(e.id));
}

// Runs the experiments on this kernel, one after another (those that read namespace-wide counters in
// namespaces of their own where that can be done: own-counters.ts).
export async function runLab(options: RunLabOptions = {}): Promise<LabReport> {
  const experiments = selectExperiments(options.only);
  const environment = readEnvironment();
  const signal = options.signal ?? new AbortController().signal;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const runOne = async (experiment: Experiment): Promise<ExperimentResult> => {
    const base = {
      id: experiment.id,
      title: experiment.title,
      questions: experiment.questions,
      expected: experiment.expected,
    };
    const skipped = (reason: string): ExperimentResult => ({
      ...base,
      parameters: {},
      measurements: {},
      status: 'skipped',
      verdict: `Skipped: ${reason}.`,
      skipReason: reason,
      durationMs: 0,
    });
    const skip =
      environment.platform !== 'linux'
        ? 'needs Linux (raw sockets through libc, /proc)'
        : !environment.hasProc
          ? 'needs /proc'
          : !environment.hasSs
            ? 'needs ss (iproute2) to read the backlog back from the kernel'
            : (experiment.unavailable?.() ?? (signal.aborted ? INTERRUPTED : undefined));
    if (skip) return skipped(skip);
    const { id } = experiment;
    progress({ type: 'experiment', id, title: experiment.title });
    const t0 = performance.now();
    try {
      const context = {
        signal,
        progress: (step: ExperimentStep) => progress({ type: 'step', id, ...step }),
        somaxconn: environment.sysctls['net.core.somaxconn'] ?? undefined,
      };
      const outcome = experiment.counters
        ? await runWithOwnCounters(experiment, context)
        : await experiment.run(context);
      return { ...base, ...outcome, durationMs: Math.round(performance.now() - t0) };
    } catch (error) {
      if (interruptedBy(error, signal)) return skipped(INTERRUPTED);
      throw error;
    }
  };
  // Isolated experiments (namespaces of their own) run alongside the others; the rest share this
  // namespace's counters and run one after another.
  const isolated = Promise.all(experiments.filter((e) => e.isolated).map(runOne));
  // Awaited below; until then a failure must not count as unhandled and end the process.
  isolated.catch(() => {});
  const shared: ExperimentResult[] = [];
  for (const experiment of experiments.filter((e) => !e.isolated)) shared.push(await runOne(experiment));
  const byId = new Map([...shared, ...(await isolated)].map((r) => [r.id, r]));
  const results = experiments.map((e) => byId.get(e.id) as ExperimentResult);
  return {
    ...environment,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    interrupted: signal.aborted || results.some((r) => r.skipReason === INTERRUPTED),
    experiments: results,
  };
}

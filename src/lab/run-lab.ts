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
import type { Experiment, ExperimentResult } from './types.ts';

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
  experiments: ExperimentResult[];
}

export interface RunLabOptions {
  // Experiment ids to run; all when undefined.
  only?: string[];
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

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

// Runs the experiments on this kernel, one after another (they read namespace-wide counters).
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
    const skip =
      environment.platform !== 'linux'
        ? 'needs Linux (raw sockets through libc, /proc)'
        : !environment.hasProc
          ? 'needs /proc'
          : !environment.hasSs
            ? 'needs ss (iproute2) to read the backlog back from the kernel'
            : (experiment.unavailable?.() ?? (signal.aborted ? 'aborted' : undefined));
    if (skip) {
      return {
        ...base,
        parameters: {},
        measurements: {},
        status: 'skipped',
        verdict: `Skipped: ${skip}.`,
        skipReason: skip,
        durationMs: 0,
      };
    }
    progress(`${experiment.id}: ${experiment.title}`);
    const t0 = performance.now();
    const outcome = await experiment.run({
      signal,
      progress,
      somaxconn: environment.sysctls['net.core.somaxconn'] ?? undefined,
    });
    return { ...base, ...outcome, durationMs: Math.round(performance.now() - t0) };
  };
  // Isolated experiments (namespaces of their own) run alongside the others; the rest share this
  // namespace's counters and run one after another.
  const isolated = Promise.all(experiments.filter((e) => e.isolated).map(runOne));
  const shared: ExperimentResult[] = [];
  for (const experiment of experiments.filter((e) => !e.isolated)) shared.push(await runOne(experiment));
  const byId = new Map([...shared, ...(await isolated)].map((r) => [r.id, r]));
  const results = experiments.map((e) => byId.get(e.id) as ExperimentResult);
  return {
    ...environment,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    experiments: results,
  };
}

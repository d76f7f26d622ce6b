export type Question = 'Q1' | 'Q2' | 'Q3' | 'Q4';

// One experiment's outcome: what it set, what it measured, and a sentence built from the numbers.
export interface ExperimentResult {
  id: string;
  title: string;
  questions: Question[];
  parameters: Record<string, unknown>;
  measurements: Record<string, unknown>;
  // What ../shared/research/backlog.md expects on Linux 6.x, for comparison (never used as a result).
  expected: string;
  // ok: measured and as expected; differs: measured, and not as the research notes expected (a finding:
  // the report says how); skipped: not run here (skipReason says why).
  status: 'ok' | 'differs' | 'skipped';
  verdict: string;
  skipReason?: string;
  durationMs: number;
  // Only for an experiment that reads the kernel's counters: whose counters they were.
  counters?: CounterSource;
}

// The kernel's counters (/proc/net/netstat, /proc/net/snmp) count for a whole network namespace.
// 'namespace': one made for the experiment (as root), where nothing else adds to them. 'machine': this
// machine's, which all its other traffic adds to, with how fast each rose in the second just before
// the experiment (its other traffic alone), to hold the experiment's own deltas against.
export type CounterSource =
  | { scope: 'namespace' }
  | { scope: 'machine'; backgroundPerSecond: Record<string, number | undefined> };

// A step inside an experiment, as the experiment reports it (runLab adds which experiment).
export type ExperimentStep =
  // capacity, burst: the next backlog; burst also says how many clients and how slow the acceptor is.
  | { step: 'backlog'; backlog: number; clients?: number; acceptEveryMs?: number }
  // syn-retry: full queues drained after these many seconds.
  | { step: 'drains'; drainAfterS: readonly number[] };

// What runLab reports as it goes; src/cli/format-progress.ts puts it in words.
export type LabProgress =
  | { type: 'experiment'; id: string; title: string }
  | ({ type: 'step'; id: string } & ExperimentStep);

export interface ExperimentContext {
  signal: AbortSignal;
  progress: (step: ExperimentStep) => void;
  somaxconn: number | undefined;
}

export interface Experiment {
  id: string;
  title: string;
  questions: Question[];
  expected: string;
  // Undefined when it can run here; otherwise why not.
  unavailable?: () => string | undefined;
  // Runs in network namespaces of its own: its counters cannot mix with the others', so it runs
  // alongside them instead of after them.
  isolated?: boolean;
  // The namespace-wide counters it reads (nstat's names): as root it runs in a namespace made for it
  // (own-counters.ts), otherwise the report gives their background rate.
  counters?: readonly string[];
  run(
    context: ExperimentContext,
  ): Promise<Omit<ExperimentResult, 'id' | 'title' | 'questions' | 'expected' | 'durationMs'>>;
}

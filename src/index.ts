export { normalizeQueryOptions, type QueryConfig, type QueryInput } from './client/options.ts';
export { type DaytimeReply, parseDaytimeReply, queryDaytime } from './client/query-daytime.ts';
export { queryTime, type TimeReply } from './client/query-time.ts';
export {
  ERROR_CATALOG,
  type ErrorCode,
  type ErrorInfo,
  EXIT_STATUS,
  exitStatusOf,
  httpStatusOf,
  isErrorCode,
  type Outcome,
} from './error-catalog.ts';
export { DaytimeError, InvalidOptionError, OptionConflictError } from './errors.ts';
export { type ListenQueue, parseSsListen, readListenQueues } from './kernel/listen-queue.ts';
export { parseNetstat, readKernelCounters } from './kernel/netstat.ts';
export { acceptQueueLength, parseProcNet, readProcNet } from './kernel/proc-net.ts';
export { type BacklogInfo, describeBacklog, readSomaxconn } from './kernel/somaxconn.ts';
export { formatLabSummary } from './lab/format-summary.ts';
export { renderLabHtml } from './lab/report-html.ts';
export { EXPERIMENTS, type LabReport, type RunLabOptions, runLab } from './lab/run-lab.ts';
export type { ExperimentResult, LabProgress } from './lab/types.ts';
export { formatBenchResult, formatProgress } from './load-generator/format.ts';
export { type BenchInput, normalizeBenchOptions } from './load-generator/options.ts';
export {
  type BenchProgress,
  type BenchResult,
  type RunBenchOptions,
  runBench,
} from './load-generator/run-bench.ts';
export {
  CONNECT_CHOICES,
  CONNECT_PATHS,
  type ConnectChoice,
  type ConnectPathName,
} from './load-generator/tally.ts';
export { formatHostPort, parseTarget, type Target } from './net/address.ts';
export { DEFAULT_TIME_PORT } from './net/default-ports.ts';
export { portOption } from './net/service-port.ts';
export {
  type MetricsSnapshot,
  type MetricsSource,
  serveMetrics,
  snapshotRegistry,
} from './observability/metrics.ts';
export type { ServerStats } from './observability/stats.ts';
export { checkOptionRules, type OptionRule } from './options/rules.ts';
export { createPlaygroundApp, type PlaygroundApp, type PlaygroundAppOptions } from './playground/app.ts';
export {
  type AcceptRate,
  DEFAULT_PARAMS as PLAYGROUND_DEFAULTS,
  normalizePlaygroundParams,
  type PlaygroundParams,
  PRESETS as PLAYGROUND_PRESETS,
} from './playground/params.ts';
export { type PlaygroundRun, type RunPlaygroundOptions, runPlayground } from './playground/run-playground.ts';
export type { ClientView, PlaygroundSnapshot, PlaygroundTick } from './playground/state.ts';
export { summarizeRun } from './playground/summary.ts';
export { type RunServeOptions, runServe } from './process/serve.ts';
export { type Activation, takeListenFds } from './process/socket-activation.ts';
export { ctime, DAYTIME_FORMATS, type DaytimeFormat, daytimeLine, iso, rfc2822 } from './protocol/daytime.ts';
export { decodeTime, encodeTime, RFC868_EPOCH_OFFSET } from './protocol/time.ts';
export {
  createDaytimeServer,
  DaytimeServer,
  type DaytimeServerOptions,
  type ListenerInfo,
  type ServerLogger,
} from './server/daytime-server.ts';
export {
  DEFAULT_BACKLOG,
  DEFAULT_PORT,
  type ListenFd,
  normalizeServeOptions,
  normalizeServerOptions,
} from './server/options.ts';
export {
  ACCEPT_CHOICES,
  ACCEPT_PATHS,
  type AcceptChoice,
  type AcceptPathName,
} from './tcp/accept/types.ts';
export { type DropReason, ReplyLimiter } from './udp/rate-limit.ts';
export { UDP_CHOICES, UDP_PATHS, type UdpChoice, type UdpPathName } from './udp/types.ts';
export { formatWatchSample } from './watch/format.ts';
export { type WatchOptions, type WatchSample, watchQueue } from './watch/watch-queue.ts';

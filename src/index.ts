export { normalizeQueryOptions, type QueryConfig, type QueryInput } from './client/options.ts';
export { type DaytimeReply, parseDaytimeReply, queryDaytime } from './client/query-daytime.ts';
export { DaytimeError, InvalidOptionError } from './errors.ts';
export { type ListenQueue, parseSsListen, readListenQueues } from './kernel/listen-queue.ts';
export { type BacklogInfo, describeBacklog, readSomaxconn } from './kernel/somaxconn.ts';
export { formatHostPort, parseTarget, type Target } from './net/address.ts';
export { ctime, DAYTIME_FORMATS, type DaytimeFormat, daytimeLine, iso, rfc2822 } from './protocol/daytime.ts';
export {
  createDaytimeServer,
  DaytimeServer,
  type DaytimeServerOptions,
  type ListenerInfo,
  type ServerLogger,
} from './server/daytime-server.ts';
export { DEFAULT_BACKLOG, DEFAULT_PORT, normalizeServerOptions } from './server/options.ts';
export type { ServerStats } from './server/stats.ts';

import { once } from 'node:events';
import type http from 'node:http';
import type net from 'node:net';
import { DaytimeError } from '../errors.ts';
import { readSysctl } from '../kernel/sysctl.ts';
import { loadTcpInfo } from '../kernel/tcp-info.ts';
import { formatHostPort } from '../net/address.ts';
import { logListening } from '../observability/listener-log.ts';
import { loadMetrics } from '../observability/load-metrics.ts';
import { LoopDelay } from '../observability/loop-delay.ts';
import type { MetricsSource } from '../observability/metrics.ts';
import { logReady } from '../observability/ready-line.ts';
import { DaytimeServer, type ServerRuntime } from '../server/daytime-server.ts';
import { normalizeServeOptions, type ServeConfig, type ServeInput } from '../server/options.ts';
import { autoFallback } from '../tcp/accept/uring-choice.ts';
import { bindThenDrop, checkIdentity, dropOnceBound, socketCallsFor, warnIfRoot } from './bind-first.ts';
import { runWorker } from './serve-worker.ts';
import { takeListenFds } from './socket-activation.ts';
import { FIRST_WORKER_FD, WORKER_ENV, type WorkerAssignment, WorkerPool } from './worker-pool.ts';
import { WorkerSockets } from './worker-sockets.ts';

export interface RunServeOptions extends ServeInput, Omit<ServerRuntime, 'logLifecycle'> {
  // Aborting stops the service: drain, close, return.
  signal: AbortSignal;
  // How to start a worker: the CLI script and its arguments (the same command line).
  workerCommand?: { modulePath: string; args: string[] };
}

// `daytime serve` as a process: one server, or a pool of workers, plus metrics; returns once stopped.
// The options are normalized here, once; workers get the result.
export async function runServe(options: RunServeOptions): Promise<void> {
  const assignment = process.env[WORKER_ENV];
  if (assignment) return runWorker(JSON.parse(assignment) as WorkerAssignment, options);
  const activation = takeListenFds();
  if (activation.lost) throw new DaytimeError('ERR_SOCKET_ACTIVATION', activation.lost);
  const normalized = normalizeServeOptions({ ...options, listenFds: activation.fds });
  if (activation.ignored) options.logger?.warn({ socketActivation: 'ignored' }, activation.ignored);
  checkIdentity(normalized, options.workerCommand?.modulePath);
  warnIfRoot(options.logger, normalized);
  if (normalized.workers > 1) return runPrimary(options, normalized);
  const { config, metricsFd } = normalized.identity
    ? await bindThenDrop(normalized, options.logger)
    : { config: normalized, metricsFd: undefined };
  const server = new DaytimeServer(config, options);
  await server.listen();
  const loopDelay = config.metrics ? new LoopDelay() : undefined;
  try {
    const source = {
      snapshot: () => ({
        stats: server.stats(),
        listeners: server.listenerSamples(),
        loopDelayMs: { '': loopDelay?.maxMs() ?? 0 },
      }),
    };
    const metrics = await startMetrics(config, source, metricsFd);
    const listeners = server.listeners();
    logReady(options.logger, {
      port: listeners[0]?.port,
      listeners: listeners.length,
      acceptPaths: server.stats().acceptPaths,
      acceptFallback:
        listeners.find((l) => l.acceptFallback)?.acceptFallback ?? (await autoFallback(config.accept)),
      udpPaths: server.stats().udpPaths,
      metrics: metrics?.url,
      proxyFrom: proxyFrom(config),
    });
    await aborted(options.signal);
    metrics?.close();
  } finally {
    loopDelay?.stop();
    await server.close();
  }
}

async function runPrimary(options: RunServeOptions, config: ServeConfig): Promise<void> {
  if (!options.workerCommand) throw new DaytimeError('ERR_INVALID_OPTION', 'workers need a command to start');
  const calls = await socketCallsFor('--workers');
  const sockets = await WorkerSockets.bind(calls, config, config.workers);
  // With --user the workers start as the user too: they are this process's children from here on.
  const metricsFd = await dropOnceBound(calls, config, options.logger, sockets);
  const port = sockets.port('daytime') ?? config.port;
  const timePort = config.timePort === undefined ? undefined : sockets.port('time');
  for (const info of sockets.listeners) logListening(options.logger, info, config.workers);
  if (readSysctl('net.ipv4.tcp_migrate_req') === 0) {
    options.logger?.warn(
      { tcpMigrateReq: 0 },
      'net.ipv4.tcp_migrate_req is 0: if a worker cannot be restarted, the connections waiting on its socket ' +
        "are reset when it is let go; with 1 the kernel moves them to another worker's socket " +
        '(sysctl -w net.ipv4.tcp_migrate_req=1)',
    );
  }
  const workerConfig = { ...config, port, timePort, reusePort: true };
  const pool = new WorkerPool({
    count: config.workers,
    descriptors: async (id) => {
      const mine = sockets.forWorker(id);
      const fds = { tcpFds: mine.tcpFds(FIRST_WORKER_FD), udpFds: mine.udpFds(FIRST_WORKER_FD) };
      return { fds: mine.fds, config: { ...workerConfig, ...fds } };
    },
    identity: config.identity,
    release: (id) => sockets.release(id),
    loopDelay: config.metrics !== undefined,
    modulePath: options.workerCommand.modulePath,
    args: options.workerCommand.args,
    logger: options.logger,
  });
  try {
    // SIGTERM while the workers start stops them at once.
    const stopStarting = () => void pool.stop(1000);
    options.signal.addEventListener('abort', stopStarting, { once: true });
    try {
      await pool.start();
    } catch (error) {
      if (options.signal.aborted) return;
      throw error;
    } finally {
      options.signal.removeEventListener('abort', stopStarting);
    }
    const read = await loadTcpInfo();
    // Each worker gets 100 ms to answer a scrape: a stopped worker must not make the scrape time out,
    // or no alert about its queue could ever fire. Its queue is read from the primary's copy.
    const metrics = await startMetrics(
      config,
      {
        snapshot: async () => {
          const { stats, up, loopDelayMs } = await pool.snapshot(100);
          return { stats, workersUp: up, loopDelayMs, listeners: read ? sockets.samples(read) : [] };
        },
      },
      metricsFd,
    ).catch(async (error) => {
      await pool.stop(1000);
      throw error;
    });
    logReady(options.logger, {
      port,
      // Each worker's: its TCP listeners and UDP sockets.
      listeners: sockets.listeners.length,
      acceptPaths: pool.acceptPaths(),
      acceptFallback: pool.acceptFallback() ?? (await autoFallback(config.accept)),
      udpPaths: pool.udpPaths(),
      workers: config.workers,
      pids: pool.pids(),
      metrics: metrics?.url,
      proxyFrom: proxyFrom(config),
    });
    await aborted(options.signal);
    metrics?.close();
    // Each worker drains within --drain-timeout; a second more, then SIGKILL.
    await pool.stop(config.drainTimeoutMs + 1000);
    options.logger?.info({ stats: pool.totals() }, 'server closed');
  } finally {
    sockets.close();
  }
}

const proxyFrom = (config: ServeConfig) =>
  config.accept.path === 'proxy' ? config.accept.proxy.trust.text : undefined;

const aborted = async (signal: AbortSignal) => {
  if (!signal.aborted) await once(signal, 'abort');
};

// Binds the metrics endpoint, if asked for, before the ready line: a port that cannot be had is a
// failure to start, as for any other listener.
async function startMetrics(config: ServeConfig, source: MetricsSource, fd?: number) {
  const target = config.metrics;
  if (!target) return undefined;
  const { serveMetrics } = await loadMetrics();
  const server: http.Server = await serveMetrics(source, target, fd);
  // Every interface ('') is named by the address bound: [::] where IPv6 is, 0.0.0.0 otherwise.
  const { address, port } = server.address() as net.AddressInfo;
  return {
    url: `http://${formatHostPort(target.host || address, port)}/metrics`,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

import { once } from 'node:events';
import net from 'node:net';
import { DaytimeError } from '../errors.ts';
import { createDaytimeServer, type DaytimeServerOptions } from './daytime-server.ts';
import type { ServerLogger } from './logger.ts';
import type { MetricsSource } from './metrics.ts';
import { normalizeServeOptions, type ServeConfig, type ServeInput } from './options.ts';
import { takeListenFds } from './socket-activation.ts';
import {
  type FromWorker,
  type ToWorker,
  WORKER_ENV,
  type WorkerAssignment,
  WorkerPool,
} from './worker-pool.ts';

export interface RunServeOptions extends ServeInput {
  logger?: ServerLogger;
  logConnections?: boolean;
  // Aborting stops the service: drain, close, return.
  signal: AbortSignal;
  // How to start a worker: the CLI script and its arguments (the same command line).
  workerCommand?: { modulePath: string; args: string[] };
}

// `daytime serve` as a process: one server, or a pool of workers, plus metrics; returns once stopped.
export async function runServe(options: RunServeOptions): Promise<void> {
  const assignmentText = process.env[WORKER_ENV];
  const listenFds = assignmentText ? undefined : takeListenFds();
  const config = normalizeServeOptions({ ...options, listenFds });
  if (assignmentText) return runWorker(options, JSON.parse(assignmentText) as WorkerAssignment);
  if (config.workers > 1) {
    if (listenFds) {
      throw new DaytimeError(
        'ERR_INVALID_OPTION',
        '--workers needs sockets of its own; under socket activation run one instance per socket unit',
      );
    }
    return runPrimary(options, config);
  }
  const server = createDaytimeServer(serverOptions(options, { listenFds }));
  await server.listen();
  await withMetrics(options, config, {
    snapshot: () => ({ stats: server.stats() }),
    tcpPorts: tcpPorts(server.listeners(), config),
  });
  await server.close();
}

function serverOptions(options: RunServeOptions, extra: Partial<DaytimeServerOptions>): DaytimeServerOptions {
  const { signal: _signal, workerCommand: _command, workers: _workers, metrics: _metrics, ...rest } = options;
  return { ...rest, ...extra };
}

function tcpPorts(
  listeners: { service: 'daytime' | 'time'; transport: string; port: number }[],
  config: ServeConfig,
) {
  return listeners
    .filter((l) => l.transport === 'tcp')
    .map((l) => ({ service: l.service, port: l.port, backlog: config.backlog }));
}

// Serves metrics (if asked) until the signal aborts.
async function withMetrics(
  options: RunServeOptions,
  config: ServeConfig,
  source: MetricsSource,
): Promise<void> {
  // prom-client is loaded only when metrics are asked for: it is most of an idle server's memory otherwise.
  const target = config.metrics;
  const metrics = target
    ? await import('./metrics.ts').then((m) => m.serveMetrics(m.createMetricsRegistry(source), target))
    : undefined;
  if (metrics && config.metrics) {
    options.logger?.info(
      { metrics: config.metrics },
      `metrics on http://${net.isIPv6(config.metrics.host) ? `[${config.metrics.host}]` : config.metrics.host}:${(metrics.address() as net.AddressInfo).port}/metrics`,
    );
  }
  if (!options.signal.aborted) await once(options.signal, 'abort');
  metrics?.close();
  metrics?.closeAllConnections();
}

async function runWorker(options: RunServeOptions, assignment: WorkerAssignment): Promise<void> {
  const server = createDaytimeServer(
    serverOptions(options, { port: assignment.port, timePort: assignment.timePort, reusePort: true }),
  );
  await server.listen();
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stats')
      process.send?.({ type: 'stats', request: message.request, stats: server.stats() } satisfies FromWorker);
  });
  process.send?.({ type: 'ready' } satisfies FromWorker);
  // The primary gone (even by SIGKILL) means this worker is orphaned: stop too.
  const orphaned = once(process, 'disconnect');
  if (!options.signal.aborted) await Promise.race([once(options.signal, 'abort'), orphaned]);
  await server.close();
  process.disconnect?.();
}

async function runPrimary(options: RunServeOptions, config: ServeConfig): Promise<void> {
  if (!options.workerCommand) throw new DaytimeError('ERR_INVALID_OPTION', 'workers need a command to start');
  // Every worker must bind the same number, so port 0 is resolved once, here.
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const timePort = config.timePort === 0 ? await freePort(config.host) : config.timePort;
  const pool = new WorkerPool({
    count: config.workers,
    assignment: { port, timePort },
    modulePath: options.workerCommand.modulePath,
    args: options.workerCommand.args,
    logger: options.logger,
  });
  try {
    await pool.start();
  } catch (error) {
    await pool.stop(1000);
    throw error;
  }
  options.logger?.info(
    { workers: config.workers, pids: pool.pids(), port, timePort },
    `${config.workers} workers share port ${port} with SO_REUSEPORT; each has its own accept queue, so the ` +
      `backlog (${config.backlog}) applies per worker and the kernel spreads new connections over them by hash`,
  );
  const ports = [
    { service: 'daytime' as const, port, backlog: config.backlog },
    ...(timePort === undefined
      ? []
      : [{ service: 'time' as const, port: timePort, backlog: config.backlog }]),
  ];
  // Each worker gets 100 ms to answer a scrape: a stopped worker must not make the scrape time out,
  // or no alert about its queue could ever fire.
  await withMetrics(options, config, {
    snapshot: async () => {
      const { stats, up } = await pool.snapshot(100);
      return { stats, workersUp: up };
    },
    tcpPorts: ports,
  });
  await pool.stop(config.drainTimeoutMs + 5000);
}

function freePort(host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0 }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

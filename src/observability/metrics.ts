import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { fromSystemError } from '../errors.ts';
import { countOpenDescriptors } from '../kernel/descriptors.ts';
import { readKernelCounters } from '../kernel/netstat.ts';
import { formatHostPort, type Target } from '../net/address.ts';
import { fillAcceptPaths } from './accept-path-metrics.ts';
import type { ListenerSample } from './listener-info.ts';
import type { ServerStats } from './stats.ts';

export interface MetricsSnapshot {
  // The server's counters (with --workers, every worker's, those gone included).
  stats: ServerStats;
  // With --workers: which workers answered this scrape (daytime_worker_up), by worker id.
  workersUp?: Record<string, boolean>;
  // Every TCP listener's kernel queue, read with TCP_INFO (with --workers, by worker).
  listeners: (ListenerSample & { worker?: number })[];
  // The largest event-loop delay over the last 10 s, ms: by worker id, or '' for the one process.
  loopDelayMs?: Record<string, number>;
}

export interface MetricsSource {
  // Taken once per scrape; every metric of that scrape is made from it.
  snapshot(): Promise<MetricsSnapshot> | MetricsSnapshot;
}

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// The process's own metrics (prom-client's defaults: CPU, memory, descriptors, start time, event-loop
// lag) and the build, made once per process.
function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which promtool rejects ("non-counter metrics should not have _total").
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(name);
  // prom-client lists /proc/self/fd on every scrape for this: milliseconds with thousands of connections
  // open, on the event loop, in the middle of a burst. The same figure from the directory's size.
  registry.removeSingleMetric('process_open_fds');
  new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors.',
    registers: [registry],
    collect() {
      const open = countOpenDescriptors();
      if (open !== undefined) this.set(open);
    },
  });
  new Gauge({
    name: 'daytime_build_info',
    help: 'The daytime version and the Node.js running it (always 1).',
    labelNames: ['version', 'node'],
    registers: [registry],
  }).set({ version, node: process.versions.node }, 1);
  return registry;
}

// The server's metrics from one snapshot, in a registry of their own: scrapes that overlap (two
// Prometheus servers) never share a metric object, so each reports exactly its own snapshot.
export function snapshotRegistry(snapshot: MetricsSnapshot): Registry {
  const registry = new Registry();
  const { stats } = snapshot;
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  // A record whose keys hold the label values, joined by "/" ("daytime/tcp" for service and transport).
  const byKey = (m: Counter | Gauge, labelNames: string[], values: Partial<Record<string, number>>) => {
    for (const [key, n] of Object.entries(values)) {
      const parts = key.split('/');
      const labels = Object.fromEntries(labelNames.map((label, i) => [label, parts[i] ?? '']));
      if (m instanceof Counter) m.inc(labels, n ?? 0);
      else m.set(labels, n ?? 0);
    }
  };
  const total = (
    name: string,
    help: string,
    labelNames: string[],
    value: number | Partial<Record<string, number>>,
  ) => {
    const m = counter(name, help, labelNames);
    if (typeof value === 'number') m.inc(value);
    else byKey(m, labelNames, value);
  };

  total(
    'daytime_served_total',
    'Replies handed to the kernel, by service and transport.',
    ['service', 'transport'],
    stats.servedBy,
  );
  total('daytime_connections_total', 'TCP connections accepted.', [], stats.connections);
  total(
    'daytime_rejected_connections_total',
    'Connections closed at once over --max-connections.',
    [],
    stats.rejected,
  );
  total('daytime_errors_total', 'Connection, accept and send errors, by code.', ['code'], stats.errors);
  total(
    'daytime_proxy_headers_total',
    'PROXY protocol headers received (--proxy-protocol), by version and command (LOCAL: a health check).',
    ['version', 'command'],
    stats.proxyHeaders,
  );
  total(
    'daytime_proxy_refused_total',
    'Connections closed without a reply for want of a valid PROXY header, by reason.',
    ['reason'],
    stats.proxyRefused,
  );
  total('daytime_udp_received_total', 'UDP datagrams received.', [], stats.udpReceived);
  total(
    'daytime_udp_dropped_total',
    'UDP datagrams left unanswered, by reason.',
    ['reason'],
    stats.udpDropped,
  );

  const up = gauge(
    'daytime_worker_up',
    'With --workers, whether each worker answered this scrape (1) or not (0: stopped, stuck or restarting; ' +
      'its last known counters are still in the totals).',
    ['worker'],
  );
  for (const [worker, answered] of Object.entries(snapshot.workersUp ?? {}))
    up.set({ worker }, answered ? 1 : 0);
  fillAcceptPaths(
    gauge(
      'daytime_accept_path_listeners',
      'TCP listeners by the accept path that takes their connections: uring, uring-accept, libc, handle, ' +
        'socket, proxy-uring, proxy-libc or proxy-socket; with --accept auto, `unavailable` and `reason` name a ' +
        'faster path that could not run here, and why.',
      ['path', 'unavailable', 'reason'],
    ),
    stats,
  );
  byKey(
    gauge(
      'daytime_udp_path_sockets',
      'UDP sockets by the path that reads and answers their datagrams: mmsg (recvmmsg/sendmmsg) or dgram.',
      ['path'],
    ),
    ['path'],
    stats.udpPaths ?? {},
  );

  const delay = gauge(
    'daytime_event_loop_delay_max_seconds',
    'The longest the event loop was held in the last 10 s (by worker with --workers): how long timers, ' +
      'signals and scrapes waited behind one turn of work.',
    snapshot.workersUp ? ['worker'] : [],
  );
  for (const [worker, ms] of Object.entries(snapshot.loopDelayMs ?? {}))
    delay.set(worker ? { worker } : {}, ms / 1000);

  // The listener label is where it listens, so it survives a restart; with --workers, one per worker.
  const labelNames = ['service', 'port', 'listener', ...(snapshot.workersUp ? ['worker'] : [])];
  const queue = gauge(
    'daytime_listen_queue_length',
    'Connections waiting in the kernel accept queue of each listening socket (ss Recv-Q).',
    labelNames,
  );
  const backlog = gauge(
    'daytime_listen_backlog',
    'Effective backlog of each listening socket (ss Send-Q, after the somaxconn clamp).',
    labelNames,
  );
  for (const row of snapshot.listeners) {
    const labels: Record<string, string> = {
      service: row.service,
      port: String(row.port),
      listener: formatHostPort(row.address, row.port),
    };
    if (row.worker !== undefined) labels.worker = String(row.worker);
    queue.set(labels, row.queued);
    backlog.set(labels, row.backlog);
  }

  const kernel = readKernelCounters();
  const namespaceWide = ' Namespace-wide: every socket in this network namespace, not only ours.';
  for (const [name, key, help] of [
    [
      'daytime_kernel_listen_overflows_total',
      'TcpExtListenOverflows',
      'SYNs or ACKs dropped on a full accept queue.',
    ],
    ['daytime_kernel_listen_drops_total', 'TcpExtListenDrops', 'SYNs to LISTEN sockets dropped.'],
    [
      'daytime_kernel_udp_rcvbuf_errors_total',
      'UdpRcvbufErrors',
      'UDP datagrams dropped on a full receive buffer.',
    ],
  ] as const) {
    const m = counter(name, help + namespaceWide);
    const value = kernel?.[key];
    if (value !== undefined) m.inc(value);
  }
  return registry;
}

// GET /metrics (one snapshot per scrape), /healthz and / on HOST:PORT (every interface where the host
// is ''); resolves once listening.
// `fd`: a listening socket bound for it already (before --user's switch) instead of binding the target.
export async function serveMetrics(source: MetricsSource, target: Target, fd?: number): Promise<http.Server> {
  const own = processRegistry();
  const server = http.createServer(async (request, response) => {
    const path = request.url?.split('?')[0];
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/') {
      response
        .writeHead(200, { 'content-type': 'text/plain' })
        .end('daytime: metrics at /metrics, health at /healthz\n');
      return;
    }
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n');
      return;
    }
    try {
      const scrape = snapshotRegistry(await source.snapshot());
      const body = await Registry.merge([own, scrape]).metrics();
      response.writeHead(200, { 'content-type': own.contentType }).end(body);
    } catch (error) {
      response.writeHead(500).end(`${(error as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(fromSystemError(error, `cannot serve metrics on ${formatHostPort(target.host, target.port)}`)),
    );
    // No host ('', from `--metrics 9464`): every interface, as server.listen takes it.
    if (fd !== undefined) server.listen({ fd }, resolve);
    else server.listen(target.port, target.host || undefined, resolve);
  });
  return server;
}

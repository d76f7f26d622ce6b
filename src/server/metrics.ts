import http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { fromSystemError } from '../errors.ts';
import { readListenQueues } from '../kernel/listen-queue.ts';
import { readKernelCounters } from '../kernel/netstat.ts';
import { readProcNet } from '../kernel/proc-net.ts';
import { formatHostPort, type Target } from '../net/address.ts';
import type { ServiceName } from './replies.ts';
import type { ServerStats } from './stats.ts';

export interface MetricsSnapshot {
  // The server's counters (summed over the workers, with --workers).
  stats: ServerStats;
  // With --workers: which workers answered this scrape (daytime_worker_up), by worker id.
  workersUp?: Record<string, boolean>;
}

export interface MetricsSource {
  // Taken once per scrape and shared by every metric.
  snapshot(): Promise<MetricsSnapshot> | MetricsSnapshot;
  // The TCP ports whose listeners to report, with the backlog asked for.
  tcpPorts: { service: ServiceName; port: number; backlog: number }[];
}

// Prometheus metrics, computed at scrape time from the server's counters and the kernel's view.
export function createMetricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  let taken: Promise<MetricsSnapshot> | undefined;
  const snapshot = () => {
    taken ??= Promise.resolve(source.snapshot());
    return taken;
  };
  // A counter from the stats: a number, or a record whose keys hold the label values ("daytime/tcp"
  // for service and transport).
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    values: (s: ServerStats) => number | Partial<Record<string, number>>,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const value = values((await snapshot()).stats);
        if (typeof value === 'number') {
          this.inc(value);
          return;
        }
        for (const [key, n] of Object.entries(value)) {
          const parts = key.split('/');
          this.inc(Object.fromEntries(labelNames.map((label, i) => [label, parts[i] ?? ''])), n ?? 0);
        }
      },
    });
  const statsGauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (m: Gauge, s: MetricsSnapshot) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        fill(this, await snapshot());
      },
    });

  counter(
    'daytime_served_total',
    'Replies handed to the kernel, by service and transport.',
    ['service', 'transport'],
    (s) => s.servedBy,
  );
  counter('daytime_connections_total', 'TCP connections accepted.', [], (s) => s.connections);
  counter(
    'daytime_rejected_connections_total',
    'Connections closed at once over --max-connections.',
    [],
    (s) => s.rejected,
  );
  counter('daytime_errors_total', 'Connection, accept and send errors, by code.', ['code'], (s) => s.errors);
  statsGauge(
    'daytime_worker_up',
    'With --workers, whether each worker answered this scrape (1) or not (0: stopped, stuck or restarting; ' +
      'its last known counters are summed in the others).',
    ['worker'],
    (m, s) => {
      for (const [worker, up] of Object.entries(s.workersUp ?? {})) m.set({ worker }, up ? 1 : 0);
    },
  );
  statsGauge(
    'daytime_accept_path_listeners',
    'TCP listeners by the accept path that takes their connections: libc, handle, socket or proxy.',
    ['path'],
    (m, s) => {
      for (const [path, n] of Object.entries(s.stats.acceptPaths)) m.set({ path }, n);
    },
  );
  statsGauge(
    'daytime_udp_path_sockets',
    'UDP sockets by the path that reads and answers their datagrams: mmsg (recvmmsg/sendmmsg) or dgram.',
    ['path'],
    (m, s) => {
      for (const [path, n] of Object.entries(s.stats.udpPaths ?? {})) m.set({ path }, n);
    },
  );
  counter(
    'daytime_proxy_headers_total',
    'PROXY protocol headers received (--proxy-protocol), by version and command (LOCAL: a health check).',
    ['version', 'command'],
    (s) => s.proxyHeaders,
  );
  counter(
    'daytime_proxy_refused_total',
    'Connections closed without a reply for want of a valid PROXY header, by reason.',
    ['reason'],
    (s) => s.proxyRefused,
  );
  counter('daytime_udp_received_total', 'UDP datagrams received.', [], (s) => s.udpReceived);
  counter(
    'daytime_udp_dropped_total',
    'UDP datagrams left unanswered, by reason.',
    ['reason'],
    (s) => s.udpDropped,
  );

  // One read of the kernel's listeners per scrape, shared by the two gauges.
  let rows: Promise<ListenerRow[]> | undefined;
  const listenerRows = () => {
    rows ??= readListenerRows(source.tcpPorts);
    return rows;
  };
  const gauge = (name: string, help: string, value: (row: ListenerRow) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['service', 'port', 'listener'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of await listenerRows()) this.set(row.labels, value(row));
      },
    });
  gauge(
    'daytime_listen_queue_length',
    'Connections waiting in the kernel accept queue of each listening socket (ss Recv-Q).',
    (row) => row.queued,
  );
  gauge(
    'daytime_listen_backlog',
    'Effective backlog of each listening socket (ss Send-Q, after the somaxconn clamp).',
    (row) => row.backlog,
  );

  const kernel = (name: string, key: string, help: string) =>
    new Counter({
      name,
      help: `${help} Namespace-wide: every socket in this network namespace, not only ours.`,
      registers: [registry],
      collect() {
        this.reset();
        const value = readKernelCounters()?.[key];
        if (value !== undefined) this.inc(value);
      },
    });
  kernel(
    'daytime_kernel_listen_overflows_total',
    'TcpExtListenOverflows',
    'SYNs or ACKs dropped on a full accept queue.',
  );
  kernel('daytime_kernel_listen_drops_total', 'TcpExtListenDrops', 'SYNs to LISTEN sockets dropped.');
  kernel(
    'daytime_kernel_udp_rcvbuf_errors_total',
    'UdpRcvbufErrors',
    'UDP datagrams dropped on a full receive buffer.',
  );

  const metrics = registry.metrics.bind(registry);
  registry.metrics = async () => {
    taken = undefined;
    rows = undefined;
    return metrics();
  };
  return registry;
}

interface ListenerRow {
  labels: { service: string; port: string; listener: string };
  queued: number;
  backlog: number;
}

// Every listener on our TCP ports (one per worker with SO_REUSEPORT): from ss where present, else the
// queue from /proc/net/tcp with the backlog as asked (the kernel's own figure is not in /proc).
async function readListenerRows(ports: MetricsSource['tcpPorts']): Promise<ListenerRow[]> {
  const result: ListenerRow[] = [];
  for (const { service, port, backlog } of ports) {
    const ss = await readListenQueues(port);
    if (ss) {
      for (const row of ss) {
        const labels = { service, port: String(port), listener: String(row.inode ?? row.local) };
        result.push({ labels, queued: row.queued, backlog: row.backlog });
      }
      continue;
    }
    for (const row of readProcNet('tcp')?.filter((r) => r.port === port && r.state === '0A') ?? []) {
      result.push({
        labels: { service, port: String(port), listener: String(row.inode) },
        queued: row.rxQueue,
        backlog,
      });
    }
  }
  return result;
}

// GET /metrics on HOST:PORT; resolves once listening.
export async function serveMetrics(registry: Registry, target: Target): Promise<http.Server> {
  const server = http.createServer(async (request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end('try /metrics\n');
      return;
    }
    try {
      const body = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType }).end(body);
    } catch (error) {
      response.writeHead(500).end(`${(error as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(fromSystemError(error, `cannot serve metrics on ${formatHostPort(target.host, target.port)}`)),
    );
    server.listen(target.port, target.host, resolve);
  });
  return server;
}

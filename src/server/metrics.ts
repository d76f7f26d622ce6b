import http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { fromSystemError } from '../errors.ts';
import { readListenQueues } from '../kernel/listen-queue.ts';
import { readKernelCounters } from '../kernel/netstat.ts';
import { readProcNet } from '../kernel/proc-net.ts';
import { formatHostPort, type Target } from '../net/address.ts';
import type { ServiceName } from './replies.ts';
import type { ServerStats } from './stats.ts';

export interface MetricsSource {
  // The server's counters (summed over the workers, with --workers).
  stats(): Promise<ServerStats> | ServerStats;
  // The TCP ports whose listeners to report, with the backlog asked for.
  tcpPorts: { service: ServiceName; port: number; backlog: number }[];
  // With --workers: which workers answered this scrape (daytime_worker_up), by worker id.
  workersUp?(): Promise<Record<string, boolean>>;
}

// Prometheus metrics, computed at scrape time from the server's counters and the kernel's view.
export function createMetricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  let snapshot: Promise<ServerStats> | undefined;
  // One stats() call per scrape, shared by every metric.
  const stats = () => {
    snapshot ??= Promise.resolve(source.stats());
    return snapshot;
  };
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (m: Counter, s: ServerStats) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        fill(this, await stats());
      },
    });

  counter(
    'daytime_served_total',
    'Replies handed to the kernel, by service and transport.',
    ['service', 'transport'],
    (m, s) => {
      for (const [key, n] of Object.entries(s.servedBy)) {
        const [service = '', transport = ''] = key.split('/');
        m.inc({ service, transport }, n);
      }
    },
  );
  counter('daytime_connections_total', 'TCP connections accepted.', [], (m, s) => m.inc(s.connections));
  counter(
    'daytime_rejected_connections_total',
    'Connections closed at once over --max-connections.',
    [],
    (m, s) => m.inc(s.rejected),
  );
  counter('daytime_errors_total', 'Connection, accept and send errors, by code.', ['code'], (m, s) => {
    for (const [code, n] of Object.entries(s.errors)) m.inc({ code }, n);
  });
  if (source.workersUp) {
    const workersUp = source.workersUp.bind(source);
    new Gauge({
      name: 'daytime_worker_up',
      help:
        'Whether each worker answered this scrape (1) or not (0: stopped, stuck or restarting; its last ' +
        'known counters are summed in the others).',
      labelNames: ['worker'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [worker, up] of Object.entries(await workersUp())) this.set({ worker }, up ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: 'daytime_accept_path_listeners',
    help: 'TCP listeners by the accept path that takes their connections: libc, handle or socket.',
    labelNames: ['path'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [path, n] of Object.entries((await stats()).acceptPaths)) this.set({ path }, n);
    },
  });
  counter(
    'daytime_proxy_headers_total',
    'PROXY protocol headers received (--proxy-protocol), by version and command (LOCAL: a health check).',
    ['version', 'command'],
    (m, s) => {
      for (const [kind, n] of Object.entries(s.proxyHeaders)) {
        const [version = '', command = ''] = kind.split('/');
        m.inc({ version, command }, n);
      }
    },
  );
  counter(
    'daytime_proxy_refused_total',
    'Connections closed without a reply for want of a valid PROXY header, by reason.',
    ['reason'],
    (m, s) => {
      for (const [reason, n] of Object.entries(s.proxyRefused)) m.inc({ reason }, n);
    },
  );
  counter('daytime_udp_received_total', 'UDP datagrams received.', [], (m, s) => m.inc(s.udpReceived));
  counter('daytime_udp_dropped_total', 'UDP datagrams left unanswered, by reason.', ['reason'], (m, s) => {
    for (const [reason, n] of Object.entries(s.udpDropped)) m.inc({ reason }, n ?? 0);
  });

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
    snapshot = undefined;
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

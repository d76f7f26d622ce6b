import net from 'node:net';
import { DaytimeError } from '../errors.ts';
import { readKernelCounters } from '../kernel/netstat.ts';
import { loadSocketCalls } from '../kernel/socket-calls.ts';
import { listenerQueue, loadTcpInfo } from '../kernel/tcp-info.ts';
import { readLabSysctls } from '../lab/environment.ts';
import { RawSocket, SOCK_STREAM } from '../lab/raw-socket.ts';
import { daytimeLine } from '../protocol/daytime.ts';
import { Acceptor } from './acceptor.ts';
import { PlaygroundClient } from './client.ts';
import { classify, counterDeltas, TICK_MS } from './kernel-view.ts';
import type { AcceptRate, PlaygroundParams } from './params.ts';
import type { ListenerView, PlaygroundTick, RunStatus } from './state.ts';
import { summarizeRun } from './summary.ts';

const SYSCTLS = [
  'net/core/somaxconn',
  'net/ipv4/tcp_syncookies',
  'net/ipv4/tcp_abort_on_overflow',
  'net/ipv4/tcp_syn_linear_timeouts',
  'net/ipv4/tcp_max_syn_backlog',
  'net/ipv4/tcp_syn_retries',
];

export interface EngineOptions {
  signal: AbortSignal;
  onTick: (tick: PlaygroundTick) => void;
  // The process whose network namespace this is, when it is the run's own.
  namespacePid?: number;
}

export interface EngineRun {
  setAcceptsPerSecond(rate: AcceptRate): void;
  // Resolves after the final tick (status finished, stopped or failed) has been reported.
  readonly done: Promise<void>;
}

// One run on this network namespace's kernel: the lab's raw listener with the given backlog, a
// serial acceptor at the given rate, the clients, and every TICK_MS what the kernel says about them.
export function runEngine(params: PlaygroundParams, options: EngineOptions): EngineRun {
  let acceptor: Acceptor | undefined;
  let pendingRate: AcceptRate = params.acceptsPerSecond;
  const control = {
    setAcceptsPerSecond(rate: AcceptRate) {
      pendingRate = rate;
      acceptor?.setRate(rate);
      changes.push({ atS: since(), rate });
      options.onTick({ acceptsPerSecond: rate, acceptChanges: changes.slice() });
    },
  };
  const started = performance.now();
  const since = () => Math.round(performance.now() - started) / 1000;
  const changes = [{ atS: 0, rate: params.acceptsPerSecond }];
  const done = (async () => {
    let listener: RawSocket | undefined;
    const stops: (() => void)[] = [];
    try {
      const read = await loadTcpInfo();
      const calls = await loadSocketCalls().catch(() => undefined);
      if (!read || !calls) {
        throw new DaytimeError(
          'ERR_UNSUPPORTED',
          'the playground needs Linux (TCP_INFO and accept4 through libc)',
        );
      }
      listener = await RawSocket.inet(SOCK_STREAM);
      await listener.listen(params.backlog);
      const raw = listener;
      const before = readKernelCounters();
      const clients: PlaygroundClient[] = [];
      const dirty = new Set<PlaygroundClient>();
      const byPort = new Map<number, PlaygroundClient>();
      let flush: NodeJS.Immediate | undefined;
      let ended = false;
      const changed = (client: PlaygroundClient) => {
        dirty.add(client);
        if (ended) return;
        // A client's own event (connected, served, an RST) goes out at once, not at the next tick.
        flush ??= setImmediate(() => {
          flush = undefined;
          emit();
        });
      };
      // The client behind a port: known from its socket once it has connected, or looked up now.
      const clientAt = (port: number | undefined) =>
        port === undefined ? undefined : (byPort.get(port) ?? clients.find((c) => c.localPort() === port));
      for (let i = 0; i < params.clients; i++) clients.push(new PlaygroundClient(i + 1, since, changed));
      const serve = (fd: number) => {
        const client = clientAt(raw.peerPort(fd));
        if (client) {
          client.accepted = true;
          client.set('accepted');
        }
        const socket = new net.Socket({ fd, readable: false, writable: true });
        socket.on('error', () => {});
        socket.end(`${daytimeLine(new Date())}\r\n`);
      };
      acceptor = new Acceptor(raw, calls, pendingRate, serve);
      stops.push(() => acceptor?.close());
      let peak = 0;
      let lastCounters = '';
      let lastListener: ListenerView | null = null;
      let counters: Record<string, number> = {};
      let countersMoved = false;
      // What the kernel says now, every TICK_MS: the listener's queue, each connecting client's SYN,
      // the server's side of completed handshakes, the namespace's counters.
      const sample = (): boolean => {
        for (const c of clients) {
          c.poll(read);
          if (c.view.port !== null && !byPort.has(c.view.port)) byPort.set(c.view.port, c);
        }
        const elapsedS = since();
        const queue = listenerQueue(read, raw.fd) ?? { queued: 0, backlog: params.backlog };
        peak = Math.max(peak, queue.queued);
        classify(clients, queue.queued, raw.port, elapsedS);
        const next = counterDeltas(before, readKernelCounters());
        const text = JSON.stringify(next);
        countersMoved ||= text !== lastCounters;
        lastCounters = text;
        counters = next;
        lastListener = { port: raw.port, ...queue, peakQueued: peak };
        return clients.every((c) => c.view.done) || elapsedS >= params.maxDurationS;
      };
      // What changed since the last tick went out.
      const emit = () => {
        const out: PlaygroundTick = {
          elapsedS: since(),
          listener: lastListener,
          ...(countersMoved ? { counters } : {}),
          clients: [...dirty].map((c) => structuredClone(c.view)),
        };
        countersMoved = false;
        dirty.clear();
        options.onTick(out);
      };
      options.onTick({
        status: 'running',
        startedAt: Date.now() - (performance.now() - started),
        sysctls: readLabSysctls(SYSCTLS),
        namespace: options.namespacePid ? { pid: options.namespacePid } : null,
        acceptsPerSecond: pendingRate,
        acceptChanges: changes.slice(),
        clients: clients.map((c) => structuredClone(c.view)),
      });
      // Arrivals: all at once, or one every 1/rate s.
      const startOne = (client: PlaygroundClient | undefined) =>
        client?.start(raw.port, params.clientTimeoutS * 1000, read);
      if (params.arrivalPerSecond === 0) for (const c of clients) startOne(c);
      else {
        let next = 0;
        startOne(clients[next++]);
        const arrivals = setInterval(() => {
          startOne(clients[next++]);
          if (next >= clients.length) clearInterval(arrivals);
        }, 1000 / params.arrivalPerSecond);
        stops.push(() => clearInterval(arrivals));
      }
      // Every tick until the clients are done, the longest duration passes, or the signal.
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const over = sample();
          emit();
          if (over) end('finished');
        }, TICK_MS);
        const end = (how: RunStatus) => {
          clearInterval(timer);
          options.signal.removeEventListener('abort', aborted);
          ended = true;
          clearImmediate(flush);
          // A lost client stays lost: the run's end changes nothing for it.
          for (const c of clients) if (!c.view.done) c.finish(c.view.state === 'lost' ? 'lost' : 'stopped');
          sample();
          emit();
          const summary = summarizeRun(
            params,
            clients.map((c) => c.view),
            lastListener,
            counterDeltas(before, readKernelCounters()),
          );
          options.onTick({ status: how, summary, elapsedS: since() });
          resolve();
        };
        const aborted = () => end('stopped');
        if (options.signal.aborted) end('stopped');
        else options.signal.addEventListener('abort', aborted, { once: true });
      });
    } catch (error) {
      options.onTick({ status: 'failed', error: error instanceof Error ? error.message : String(error) });
    } finally {
      for (const stop of stops) stop();
      listener?.close();
    }
  })();
  return { ...control, done };
}

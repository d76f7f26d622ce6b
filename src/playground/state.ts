import type { AcceptRate, PlaygroundParams } from './params.ts';

// A client's state, each read from the kernel: its own socket (connecting, SYN retransmissions, a
// completed handshake, an RST), the server's side for it (/proc/net/tcp: in the accept queue, a
// half-open request, or nothing), and the listener's accept4().
export const CLIENT_STATES = [
  // Not started yet (clients arriving N a second).
  'waiting',
  // SYN sent, no answer yet (SYN_SENT); `retransmits` counts the SYN's retransmissions.
  'connecting',
  // Handshake complete on the client's side; the server holds a request whose final ACK it dropped.
  'half-open',
  // Handshake complete on both sides: in the listener's accept queue.
  'queued',
  // Taken by accept4(); the server writes the time and closes.
  'accepted',
  // The line and the server's FIN arrived.
  'served',
  'refused',
  'reset',
  // Connected by its own account while the server holds nothing for it: it waits in vain.
  'lost',
  // Gave up at its own timeout while connecting or waiting in a queue.
  'timed-out',
  'error',
  // The run ended (Stop, Reset, its longest duration) before this client finished.
  'stopped',
] as const;
export type ClientState = (typeof CLIENT_STATES)[number];

export interface ClientStep {
  state: ClientState;
  // Seconds from the run's start.
  atS: number;
  retransmits: number;
}

export interface ClientView {
  // 1-based, in the order the clients started.
  id: number;
  state: ClientState;
  // SYN retransmissions its socket counted (TCP_INFO).
  retransmits: number;
  // Finished: served, refused, reset, error, gave up, or stopped.
  done: boolean;
  // Its local port, once it has one.
  port: number | null;
  startedS: number | null;
  connectedS: number | null;
  servedS: number | null;
  steps: ClientStep[];
}

export type RunStatus = 'idle' | 'starting' | 'running' | 'finished' | 'stopped' | 'failed';

export interface ListenerView {
  port: number;
  // The accept queue (tcpi_unacked) and the backlog in force (tcpi_sacked), from TCP_INFO.
  queued: number;
  backlog: number;
  peakQueued: number;
}

export interface RunSummary {
  text: string;
  question: { id: string; question: string; href: string };
}

export interface PlaygroundSnapshot {
  run: number;
  status: RunStatus;
  params: PlaygroundParams | null;
  // Wall clock of the run's start (ms since the epoch), so a viewer can place the steps in time.
  startedAt: number | null;
  elapsedS: number;
  acceptsPerSecond: AcceptRate;
  // When Accepts per second changed, and to what.
  acceptChanges: { atS: number; rate: AcceptRate }[];
  listener: ListenerView | null;
  // Kernel counters of the namespace, as risen since the run began (nstat names without TcpExt).
  counters: Record<string, number>;
  // The sysctls in force where the run runs.
  sysctls: Record<string, number | null>;
  // The run's own network namespace (its process: `nsenter -t PID -n ss -ltn`), or null in this one.
  namespace: { pid: number } | null;
  clients: ClientView[];
  summary: RunSummary | null;
  error: string | null;
}

// What changed since the previous tick: every field but `clients` replaces the snapshot's; `clients`
// holds only the clients that changed.
export type PlaygroundTick = Partial<Omit<PlaygroundSnapshot, 'clients'>> & { clients?: ClientView[] };

export function idleSnapshot(run = 0): PlaygroundSnapshot {
  return {
    run,
    status: 'idle',
    params: null,
    startedAt: null,
    elapsedS: 0,
    acceptsPerSecond: 0,
    acceptChanges: [],
    listener: null,
    counters: {},
    sysctls: {},
    namespace: null,
    clients: [],
    summary: null,
    error: null,
  };
}

// The snapshot after a tick; the page does the same in its own script.
export function applyTick(snapshot: PlaygroundSnapshot, tick: PlaygroundTick): PlaygroundSnapshot {
  const { clients: changed, ...rest } = tick;
  const clients = snapshot.clients.slice();
  for (const client of changed ?? []) clients[client.id - 1] = client;
  return { ...snapshot, ...rest, clients };
}

export const isFinal = (status: RunStatus) =>
  status === 'finished' || status === 'stopped' || status === 'failed';

import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { DaytimeError } from '../errors.ts';
import type { PathFallback } from '../observability/listener-info.ts';
import type { ServerLogger } from '../observability/logger.ts';
import type { ServerStats } from '../observability/stats.ts';
import { retire, sumStats } from '../observability/stats-sum.ts';
import type { Identity } from '../options/accounts.ts';
import type { DaytimeServerConfig } from '../server/options.ts';

// What the primary tells a worker (in DAYTIME_WORKER) and what they say over IPC.
export interface WorkerAssignment {
  id: number;
  // Normalized once, by the primary; its tcpFds are the descriptors the worker inherits.
  config: DaytimeServerConfig;
  // With --metrics: measure the event loop's delay and send it with the counters.
  loopDelay: boolean;
  // With --user: who the worker must be running as (it is, being the child of a primary that is).
  identity?: Identity;
}
export type ToWorker = { type: 'stats'; request: number };
export type FromWorker =
  | {
      type: 'ready';
      acceptPaths: Record<string, number>;
      udpPaths?: Record<string, number>;
      acceptFallback?: PathFallback;
    }
  // request 0: sent by the worker on its own (once a second, and its last counters before it exits).
  | { type: 'stats'; request: number; stats: ServerStats; loopDelayMs?: number }
  | { type: 'failed'; message: string };

export const WORKER_ENV = 'DAYTIME_WORKER';
// Descriptors passed to a worker start after stdin, stdout, stderr and the IPC channel.
export const FIRST_WORKER_FD = 4;
// A worker that cannot start is tried again after 0.1, 0.2, 0.4 ... s, at most this long apart.
const MAX_BACKOFF_MS = 5000;

interface Slot {
  id: number;
  child: ChildProcess | undefined;
  ready: boolean;
  everReady: boolean;
  // The counters the current child sent last, for when it does not answer (stopped, busy, dying).
  last: ServerStats | undefined;
  loopDelayMs: number | undefined;
  failures: number;
  failure: string | undefined;
  restart: NodeJS.Timeout | undefined;
}

export interface PoolSnapshot {
  // Every worker's counters as one, including those of workers that are gone: monotonic.
  stats: ServerStats;
  // Whether each worker answered this time, by worker id.
  up: Record<string, boolean>;
  // The largest event-loop delay of each worker over the last 10 s, by worker id (with loopDelay).
  loopDelayMs: Record<string, number>;
}

export interface WorkerPoolOptions {
  count: number;
  // The descriptors a worker inherits and the config it runs with (its tcpFds filled in).
  descriptors(id: number): Promise<{ fds: number[]; config: DaytimeServerConfig }>;
  loopDelay: boolean;
  identity: Identity | undefined;
  // A worker could not start: let go of its sockets until the next attempt.
  release(id: number): void;
  // The script to fork (the CLI itself) and its arguments.
  modulePath: string;
  args: string[];
  logger?: ServerLogger;
}

// N copies of the server, each serving its own SO_REUSEPORT socket (bound by the primary); a worker that
// dies is replaced, one that cannot start is tried again with a growing pause, and what every worker
// counted is kept, so the totals never go down.
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  // Counters of the workers that have exited.
  #retired: ServerStats = sumStats([]);
  #stopping = false;
  #request = 0;
  #starting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #paths: Record<string, number> = {};
  #udpPaths: Record<string, number> = {};
  #fallback: PathFallback | undefined;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
  }

  // Resolves when every worker has said it is ready; rejects with the reason of the first that cannot
  // start (then nothing is left running).
  async start(): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      this.#starting = { resolve, reject };
    });
    for (let id = 1; id <= this.#options.count; id++) {
      const slot: Slot = {
        id,
        child: undefined,
        ready: false,
        everReady: false,
        last: undefined,
        loopDelayMs: undefined,
        failures: 0,
        failure: undefined,
        restart: undefined,
      };
      this.#slots.push(slot);
      void this.#spawn(slot);
    }
    try {
      await started;
    } catch (error) {
      await this.stop(1000);
      throw error;
    } finally {
      this.#starting = undefined;
    }
  }

  pids(): number[] {
    return this.#slots.flatMap((slot) => slot.child?.pid ?? []);
  }

  // The accept path the workers' listeners run on, as the last worker to start said.
  acceptPaths(): Record<string, number> {
    return this.#paths;
  }

  // Why the workers' listeners are not on the fastest path, likewise (undefined: they are).
  acceptFallback(): PathFallback | undefined {
    return this.#fallback;
  }

  // The UDP path of the workers' sockets, likewise.
  udpPaths(): Record<string, number> {
    return this.#udpPaths;
  }

  // What a scrape needs within its timeout, whatever a worker does: each worker gets `timeoutMs` to
  // answer, and one that does not is counted with what it said last.
  async snapshot(timeoutMs = 100): Promise<PoolSnapshot> {
    const request = ++this.#request;
    const slots = [...this.#slots];
    const answers = await Promise.all(slots.map((slot) => this.#ask(slot, request, timeoutMs)));
    const up: Record<string, boolean> = {};
    const loopDelayMs: Record<string, number> = {};
    for (const [i, slot] of slots.entries()) {
      up[String(slot.id)] = answers[i] === true;
      if (slot.loopDelayMs !== undefined) loopDelayMs[String(slot.id)] = slot.loopDelayMs;
    }
    return { stats: this.totals(), up, loopDelayMs };
  }

  // The retired counters plus every live worker's last.
  totals(): ServerStats {
    return sumStats([this.#retired, ...this.#slots.flatMap((slot) => slot.last ?? [])]);
  }

  // SIGTERM to every worker (each drains its own queue), then wait; SIGKILL after the deadline.
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#starting?.reject(new DaytimeError('ERR_ABORTED', 'stopped while the workers were starting'));
    const live = this.#slots.filter((slot) => {
      clearTimeout(slot.restart);
      return slot.child && slot.child.exitCode === null && slot.child.signalCode === null;
    });
    const exits = live.map((slot) => once(slot.child as ChildProcess, 'exit'));
    for (const slot of live) slot.child?.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const slot of live) slot.child?.kill('SIGKILL');
    }, timeoutMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }

  // True when the worker answered in time (its counters are then in slot.last).
  #ask(slot: Slot, request: number, timeoutMs: number): Promise<boolean> {
    const child = slot.child;
    if (!child?.connected || !slot.ready) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (answered: boolean) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(answered);
      };
      const onMessage = (message: FromWorker) => {
        if (message.type === 'stats' && message.request === request) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs).unref();
      child.on('message', onMessage);
      // A worker that died since `connected` was read: the send fails here, never as an 'error' event.
      child.send({ type: 'stats', request } satisfies ToWorker, (error) => {
        if (error) done(false);
      });
    });
  }

  async #spawn(slot: Slot): Promise<void> {
    slot.restart = undefined;
    slot.ready = false;
    slot.failure = undefined;
    let child: ChildProcess;
    try {
      const { fds, config } = await this.#options.descriptors(slot.id);
      if (this.#stopping) return;
      const { loopDelay, identity } = this.#options;
      const assignment: WorkerAssignment = { id: slot.id, config, loopDelay, identity };
      child = fork(this.#options.modulePath, this.#options.args, {
        env: { ...process.env, [WORKER_ENV]: JSON.stringify(assignment) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...fds],
        // A process group of its own: a Ctrl-C at the terminal reaches the primary only, which then
        // stops the workers one signal each (a second signal would make a worker skip its drain).
        detached: true,
      });
    } catch (error) {
      // fork itself failed (EAGAIN, EMFILE in the primary), or the socket could not be bound again.
      this.#failed(slot, `cannot start it: ${(error as Error).message}`);
      return;
    }
    slot.child = child;
    // EPIPE and the like on the channel of a worker that is gone: it is a worker not answering.
    child.on('error', () => {});
    child.on('message', (message: FromWorker) => {
      if (slot.child !== child) return;
      if (message.type === 'stats') {
        slot.last = message.stats;
        slot.loopDelayMs = message.loopDelayMs;
      } else if (message.type === 'failed') slot.failure = message.message;
      else if (message.type === 'ready') this.#ready(slot, message);
    });
    child.on('exit', (code, signal) => this.#exited(slot, child, code, signal));
  }

  #ready(slot: Slot, ready: Extract<FromWorker, { type: 'ready' }>): void {
    slot.ready = true;
    slot.everReady = true;
    slot.failures = 0;
    this.#paths = ready.acceptPaths;
    this.#udpPaths = ready.udpPaths ?? {};
    this.#fallback = ready.acceptFallback;
    this.#options.logger?.info(
      { worker: slot.id, workerPid: slot.child?.pid },
      `worker ${slot.id} ready (pid ${slot.child?.pid})`,
    );
    if (this.#starting && this.#slots.every((s) => s.ready)) this.#starting.resolve();
  }

  #exited(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    // Keep what it counted: the totals must not go down when a worker is replaced.
    if (slot.last) this.#retired = retire(this.#retired, slot.last);
    slot.last = undefined;
    slot.loopDelayMs = undefined;
    slot.child = undefined;
    const wasReady = slot.ready;
    slot.ready = false;
    if (this.#stopping) return;
    if (!wasReady) {
      this.#failed(slot, slot.failure ?? `exited (${signal ?? `code ${code}`}) before it was ready`);
      return;
    }
    this.#options.logger?.warn(
      { worker: slot.id, workerPid: child.pid, code, signal },
      `worker ${slot.id} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); starting a new one`,
    );
    // A short pause, so a worker that dies at once cannot spin the CPU.
    slot.restart = setTimeout(() => void this.#spawn(slot), 100);
  }

  #failed(slot: Slot, reason: string): void {
    if (this.#stopping) return;
    slot.failures++;
    if (this.#starting && !slot.everReady) {
      this.#starting.reject(new DaytimeError('ERR_WORKER_FAILED', `worker ${slot.id}: ${reason}`));
      return;
    }
    this.#options.release(slot.id);
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** (slot.failures - 1));
    this.#options.logger?.error(
      { worker: slot.id, failures: slot.failures, retryInMs: delay },
      `worker ${slot.id} could not start (${reason}); trying again in ${delay / 1000} s`,
    );
    slot.restart = setTimeout(() => void this.#spawn(slot), delay);
  }
}

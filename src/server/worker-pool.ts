import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { DaytimeError } from '../errors.ts';
import type { ServerLogger } from './logger.ts';
import type { ServerStats } from './stats.ts';
import { sumStats } from './stats-sum.ts';

// What the primary tells a worker (in DAYTIME_WORKER) and what they say over IPC.
export interface WorkerAssignment {
  id: number;
  port: number;
  timePort: number | undefined;
}
export type ToWorker = { type: 'stats'; request: number };
export type FromWorker = { type: 'ready' } | { type: 'stats'; request: number; stats: ServerStats };

export const WORKER_ENV = 'DAYTIME_WORKER';

interface Slot {
  id: number;
  child: ChildProcess;
  ready: boolean;
  // The last counters this worker sent, for when it does not answer (stopped, busy, dying).
  last?: ServerStats;
}

export interface PoolSnapshot {
  // Summed over the workers: fresh where a worker answered, its last known counters where it did not.
  stats: ServerStats;
  // Whether each worker answered this time, by worker id.
  up: Record<string, boolean>;
}

export interface WorkerPoolOptions {
  count: number;
  assignment: Omit<WorkerAssignment, 'id'>;
  // The script to fork (the CLI itself) and its arguments.
  modulePath: string;
  args: string[];
  logger?: ServerLogger;
}

// N copies of the server, each with its own SO_REUSEPORT listener and accept queue; a worker that dies
// is replaced.
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  #stopping = false;
  #request = 0;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
  }

  // Resolves when every worker listens; rejects if one exits before it does (a bad port, say).
  async start(): Promise<void> {
    for (let id = 1; id <= this.#options.count; id++) this.#slots.push(this.#spawn(id));
    await Promise.all(this.#slots.map((slot) => this.#whenReady(slot)));
  }

  pids(): number[] {
    return this.#slots.map((slot) => slot.child.pid ?? 0);
  }

  async stats(timeoutMs = 2000): Promise<ServerStats> {
    return (await this.snapshot(timeoutMs)).stats;
  }

  // What a scrape needs within its timeout, whatever a worker does: each worker gets `timeoutMs` to
  // answer, and one that does not is counted with what it said last.
  async snapshot(timeoutMs = 100): Promise<PoolSnapshot> {
    const request = ++this.#request;
    // The slots as they are now: a worker replaced while we wait is asked next time.
    const slots = [...this.#slots];
    const answers = await Promise.all(slots.map((slot) => this.#ask(slot, request, timeoutMs)));
    const up: Record<string, boolean> = {};
    for (const [i, slot] of slots.entries()) {
      const fresh = answers[i];
      if (fresh) slot.last = fresh;
      up[String(slot.id)] = fresh !== undefined;
    }
    return { stats: sumStats(slots.flatMap((slot) => slot.last ?? [])), up };
  }

  // One worker's counters, or undefined if it does not answer in time (its listener is removed then:
  // a stopped worker would otherwise collect one per scrape).
  #ask(slot: Slot, request: number, timeoutMs: number): Promise<ServerStats | undefined> {
    if (!slot.child.connected) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (stats: ServerStats | undefined) => {
        clearTimeout(timer);
        slot.child.off('message', onMessage);
        resolve(stats);
      };
      const onMessage = (message: FromWorker) => {
        if (message.type === 'stats' && message.request === request) done(message.stats);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs).unref();
      slot.child.on('message', onMessage);
      slot.child.send({ type: 'stats', request } satisfies ToWorker);
    });
  }

  // SIGTERM to every worker (each drains its own queue), then wait; SIGKILL after the deadline.
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    const exits = this.#slots.map((slot) =>
      slot.child.exitCode === null && slot.child.signalCode === null ? once(slot.child, 'exit') : undefined,
    );
    for (const slot of this.#slots) slot.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const slot of this.#slots) slot.child.kill('SIGKILL');
    }, timeoutMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }

  #spawn(id: number): Slot {
    const assignment: WorkerAssignment = { id, ...this.#options.assignment };
    const child = fork(this.#options.modulePath, this.#options.args, {
      env: { ...process.env, [WORKER_ENV]: JSON.stringify(assignment) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // A process group of its own: a Ctrl-C at the terminal reaches the primary only, which then stops
      // the workers one signal each (a second signal would make a worker skip its drain).
      detached: true,
    });
    const slot: Slot = { id, child, ready: false };
    child.on('message', (message: FromWorker) => {
      if (message.type === 'ready') slot.ready = true;
    });
    child.on('exit', (code, signal) => {
      if (this.#stopping || !slot.ready) return;
      this.#options.logger?.warn(
        { worker: id, workerPid: child.pid, code, signal },
        `worker ${id} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); starting a new one`,
      );
      const index = this.#slots.indexOf(slot);
      // A short pause, so a worker that dies at once cannot spin the CPU.
      setTimeout(() => {
        if (this.#stopping) return;
        const next = this.#spawn(id);
        this.#slots[index] = next;
        this.#whenReady(next).catch((error) => this.#options.logger?.error({ err: error }, error.message));
      }, 100);
    });
    return slot;
  }

  #whenReady(slot: Slot): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type !== 'ready') return;
        cleanup();
        this.#options.logger?.info(
          { worker: slot.id, workerPid: slot.child.pid },
          `worker ${slot.id} ready (pid ${slot.child.pid})`,
        );
        resolve();
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(
          new DaytimeError(
            'ERR_WORKER_FAILED',
            `worker ${slot.id} exited with code ${code} before listening`,
          ),
        );
      };
      const cleanup = () => {
        slot.child.off('message', onMessage);
        slot.child.off('exit', onExit);
      };
      slot.child.on('message', onMessage);
      slot.child.once('exit', onExit);
    });
  }
}

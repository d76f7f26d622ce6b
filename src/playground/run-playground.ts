import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { netnsUnavailable, siblingScript, unshareArgs } from '../kernel/netns.ts';
import { runEngine } from './engine.ts';
import {
  type AcceptRate,
  normalizeAcceptRate,
  normalizePlaygroundParams,
  type PlaygroundParams,
} from './params.ts';
import { applyTick, idleSnapshot, isFinal, type PlaygroundSnapshot, type PlaygroundTick } from './state.ts';

export interface RunPlaygroundOptions {
  signal?: AbortSignal;
  // Every tick as it comes, with the snapshot it makes.
  onTick?: (tick: PlaygroundTick, snapshot: PlaygroundSnapshot) => void;
  // The run's number in its app (1, 2, ...).
  run?: number;
}

export interface PlaygroundRun {
  readonly params: PlaygroundParams;
  snapshot(): PlaygroundSnapshot;
  // Changes Accepts per second while the run goes on; checked as the parameters are.
  setAcceptsPerSecond(rate: unknown): AcceptRate;
  // The last snapshot, once the run has ended (finished, stopped or failed); it never rejects.
  readonly done: Promise<PlaygroundSnapshot>;
}

// Why a run cannot have a network namespace (and sysctls) of its own here; undefined when it can.
export const namespaceUnavailable = (): string | undefined => netnsUnavailable('unshare');

// Starts one run. Parameters are checked first (InvalidOptionError, before any socket opens). Where it
// can (root, Linux, unshare), the run happens in a network namespace of its own, made for it and gone
// with it: its sysctls apply there and its counters are its own. Otherwise it runs here, in this
// process's namespace, whose counters other traffic adds to.
export function runPlayground(input: unknown, options: RunPlaygroundOptions = {}): PlaygroundRun {
  const isolate = namespaceUnavailable() === undefined;
  const params = normalizePlaygroundParams(input, namespaceUnavailable());
  const signal = options.signal ?? new AbortController().signal;
  let snapshot: PlaygroundSnapshot = { ...idleSnapshot(options.run ?? 1), status: 'starting', params };
  const onTick = (tick: PlaygroundTick) => {
    snapshot = applyTick(snapshot, tick);
    options.onTick?.(tick, snapshot);
  };
  const host = isolate ? inNamespace(params, signal, onTick) : here(params, signal, onTick);
  return {
    params,
    snapshot: () => snapshot,
    setAcceptsPerSecond(rate) {
      const checked = normalizeAcceptRate(rate);
      if (!isFinal(snapshot.status)) host.setAcceptsPerSecond(checked);
      return checked;
    },
    done: host.done.then((failure) => {
      const why = typeof failure === 'string' ? failure : undefined;
      if (isFinal(snapshot.status)) return snapshot;
      if (signal.aborted) onTick({ status: 'stopped' });
      else onTick({ status: 'failed', error: why ?? 'the run ended without a result' });
      return snapshot;
    }),
  };
}

interface Host {
  setAcceptsPerSecond(rate: AcceptRate): void;
  // Resolves when the run is over, with what went wrong where it can tell.
  done: Promise<unknown>;
}

function here(params: PlaygroundParams, signal: AbortSignal, onTick: (tick: PlaygroundTick) => void): Host {
  return runEngine(params, { signal, onTick });
}

// The engine in `unshare --net`: ticks come back as JSON lines, commands go in the same way.
function inNamespace(
  params: PlaygroundParams,
  signal: AbortSignal,
  onTick: (tick: PlaygroundTick) => void,
): Host {
  const child = spawn(
    'unshare',
    unshareArgs(siblingScript('netns-runner', import.meta.url), [JSON.stringify(params)]),
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.stdin.on('error', () => {});
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      onTick(JSON.parse(line) as PlaygroundTick);
    } catch {
      // Not a tick: the runner prints nothing else.
    }
  });
  const send = (command: unknown) => {
    if (child.exitCode === null && child.stdin.writable) child.stdin.write(`${JSON.stringify(command)}\n`);
  };
  let killer: NodeJS.Timeout | undefined;
  const stop = () => {
    send({ stop: true });
    child.stdin.end();
    // A runner that does not stop within seconds is ended, by its own PID.
    killer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 5000);
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  const done = new Promise<string | undefined>((resolve) => {
    let failure: string | undefined;
    child.on('error', (error) => {
      failure = `unshare: ${error.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      signal.removeEventListener('abort', stop);
      resolve(failure ?? (code === 0 ? undefined : stderr.trim().split('\n').at(-1)));
    });
  });
  return { setAcceptsPerSecond: (rate) => send({ acceptsPerSecond: rate }), done };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DaytimeError } from '../errors.ts';

// Processes the fleet starts inside its namespaces (`ip netns exec` execs the command in place, so a
// child's PID is the program's own and signals reach it directly). Every one is ended by PID.

// The built package, whether this module runs from src/ (tests) or from dist/: a process in another
// namespace starts from the files `npm ci` built.
export const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const CLI = `${DIST}cli.js`;
const NODE_FLAGS = ['--max-semi-space-size=1', '--max-opt=2'];

export function spawnIn(ns: string, command: string, args: string[], cwd?: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, command, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

// Calls `line` for each line of the stream.
export function eachLine(
  stream: NodeJS.ReadableStream | null | undefined,
  line: (text: string) => void,
): void {
  let buffered = '';
  stream?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      line(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  });
}

export async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

// One `daytime serve --proxy-protocol` on a host, with its connection log lines counted by client.
export class DaytimeHost {
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  // Connections logged, by the client address the PROXY header named (or the peer, for checks).
  readonly byClient = new Map<string, number>();
  // Log lines whose `via` names the balancer: relayed connections, client address as seen by the host.
  relayed = 0;
  // Connections refused for their PROXY header, as the host's log said them (at most one line a second).
  readonly refusals: string[] = [];
  child: ChildProcess | undefined;
  // The balancer's address on the hosts' network: the only peer whose PROXY header is believed.
  readonly #balancer: string;

  constructor(host: { name: string; ns: string; address: string }, balancer: string) {
    this.name = host.name;
    this.ns = host.ns;
    this.address = host.address;
    this.#balancer = balancer;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  // Starts the server and resolves once it logs that it is ready.
  async start(): Promise<void> {
    const args = [
      ...NODE_FLAGS,
      CLI,
      'serve',
      '--proxy-protocol',
      '--proxy-from',
      this.#balancer,
      '--host',
      this.address,
      '--port',
      '13',
      '--time-port',
      '37',
      '--log-format',
      'json',
    ];
    const child = spawnIn(this.ns, process.execPath, args);
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      eachLine(child.stdout, (text) => {
        if (!text.startsWith('{')) return;
        const record = JSON.parse(text) as {
          ready?: boolean;
          peer?: string;
          via?: string;
          reason?: string;
          msg?: string;
        };
        if (record.ready) resolve();
        if (record.reason && record.msg) this.refusals.push(record.msg);
        if (record.peer) {
          const client = record.peer.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
          this.byClient.set(client, (this.byClient.get(client) ?? 0) + 1);
          if (record.via) this.relayed++;
        }
      });
      child.once('exit', (code) =>
        reject(new DaytimeError('ERR_FLEET', `${this.name} exited (${code}): ${stderr.trim()}`)),
      );
    });
  }

  // Connections this host logged from `client` since the last reset.
  served(client: string): number {
    return this.byClient.get(client) ?? 0;
  }

  resetCounts(): void {
    this.byClient.clear();
    this.relayed = 0;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await exited(child);
    this.child = undefined;
  }
}

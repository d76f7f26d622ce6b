import type { ChildProcess } from 'node:child_process';
import { DaytimeError } from '../errors.ts';
import type { BenchResult } from '../load-generator/run-bench.ts';
import { DIST, eachLine, exited, spawnIn } from './processes.ts';

export interface LoadSample {
  // Date.now() when the line arrived.
  at: number;
  ok: number;
  errors: number;
}

// daytime bench's engine in the client's namespace, as a process of its own (load-agent.ts), so that
// the load comes from the client's address; its progress every 100 ms tells when errors happened.
export class Load {
  readonly samples: LoadSample[] = [];
  readonly result: Promise<BenchResult>;
  readonly #child: ChildProcess;

  constructor(ns: string, target: { host: string; port: number }, connections: number, amount: string) {
    const agent = `${DIST}fleet/load-agent.js`;
    this.#child = spawnIn(ns, process.execPath, [
      '--max-opt=2',
      agent,
      target.host,
      String(target.port),
      String(connections),
      amount,
    ]);
    let stderr = '';
    this.#child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    this.result = new Promise((resolve, reject) => {
      eachLine(this.#child.stdout, (line) => {
        const record = JSON.parse(line) as { type: string; ok: number; errors: number; result?: BenchResult };
        if (record.type === 'progress')
          this.samples.push({ at: Date.now(), ok: record.ok, errors: record.errors });
        else if (record.result) resolve(record.result);
      });
      this.#child.once('exit', (code) =>
        reject(new DaytimeError('ERR_FLEET', `the load generator exited (${code}): ${stderr.trim()}`)),
      );
    });
    // Killed on an abort, nobody may be waiting for it any more: that is not an unhandled failure.
    this.result.catch(() => {});
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  // Errors counted up to a moment (the last progress line before it).
  errorsAt(time: number): number {
    let errors = 0;
    for (const s of this.samples) if (s.at <= time) errors = s.errors;
    return errors;
  }

  // Ends a load that runs for a duration; resolves with its result.
  async stop(): Promise<BenchResult> {
    this.#child.kill('SIGTERM');
    const result = await this.result;
    await exited(this.#child);
    return result;
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

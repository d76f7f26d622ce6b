import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_ENV, type CliResult, collect, ROOT, runCli } from './cli.ts';

// Many command lines through the built CLI in one Node process (helpers/cli-in-process.ts): what each
// writes and the exit code it sets, as runCli would report them, without a process start per case. For
// what the CLI refuses before doing anything; a few cases of each test still run as processes of their
// own, for the exit status the shell sees.
export async function runCliCases(cases: string[][]): Promise<CliResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'daytime-cli-cases-'));
  const file = join(dir, 'results.json');
  try {
    const child = spawn(`${ROOT}node_modules/.bin/node`, [`${ROOT}test/helpers/cli-in-process.ts`, file], {
      cwd: ROOT,
      env: CLI_ENV,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(JSON.stringify(cases));
    const run = await collect(child);
    if (run.code !== 0) throw new Error(`the in-process runner exited ${run.code}: ${run.stderr}`);
    // Anything written past process.stdout.write (pino writes to the descriptor) belongs to no case:
    // a command that got as far as logging.
    if (run.stdout !== '') throw new Error(`output outside the cases: ${run.stdout.slice(0, 500)}`);
    const results = JSON.parse(readFileSync(file, 'utf8')) as CliResult[];
    if (results.length !== cases.length)
      throw new Error(`${results.length} results for ${cases.length} cases`);
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A few refused command lines run both ways: as processes of their own they exit 2 (the status the
// shell sees) and write exactly what they wrote in process.
export async function assertRefusedAlike(sample: string[][]): Promise<void> {
  const [inProcess, spawned] = await Promise.all([
    runCliCases(sample),
    Promise.all(sample.map((args) => runCli(args))),
  ]);
  for (const [i, result] of spawned.entries()) {
    assert.equal(result.code, 2, `daytime ${sample[i]?.join(' ')}: ${result.stderr}`);
    assert.deepEqual(result, inProcess[i]);
  }
}

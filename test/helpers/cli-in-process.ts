// Run as a program (helpers/cli-cases.ts starts it): many command lines through the built CLI in this
// one process, for the tests of what the CLI refuses (every flag's bad values), where starting a Node
// per case cost a second each. Each case is a fresh instance of dist/cli/program.js, the module the
// bin loads, whose main() runs with the case's argv; what it writes to process.stdout and process.stderr and the exit code
// it sets are the case's result. The cases come as JSON on stdin; the results go as JSON to the file
// named by the first argument.
// A case still running after CASE_TIMEOUT_MS (a command line that was not refused and started work)
// is reported with code null; the process exits at the end, ending whatever such a case started.
import { writeFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';

const CASE_TIMEOUT_MS = 10_000;
const PROGRAM = new URL('../../dist/cli/program.js', import.meta.url).href;

interface Result {
  code: number | null;
  signal: null;
  stdout: string;
  stderr: string;
}

const cases = JSON.parse(await text(process.stdin)) as string[][];
const [node = 'node', , resultsFile = ''] = process.argv;
const results: Result[] = [];
const { write: writeOut } = process.stdout;
const { write: writeErr } = process.stderr;
for (const [i, args] of cases.entries()) {
  const result: Result = { code: null, signal: null, stdout: '', stderr: '' };
  const capture = (key: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array) => {
      result[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  // What a case adds to the process (serve's signal handlers, say) goes with it, as with its process.
  const listeners = new Map(process.eventNames().map((name) => [name, process.listeners(name as 'exit')]));
  process.argv = [node, 'daytime', ...args];
  process.exitCode = undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const finished = await Promise.race([
      import(`${PROGRAM}?case=${i}`).then(async (program: { main(): Promise<void> }) => {
        await program.main();
        return true;
      }),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), CASE_TIMEOUT_MS);
      }),
    ]);
    result.code = finished ? Number(process.exitCode ?? 0) : null;
  } catch (error) {
    // What the bin would have died of: node prints the stack and exits 1.
    result.stderr += `${(error as Error)?.stack ?? String(error)}\n`;
    result.code = 1;
  } finally {
    clearTimeout(timer);
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    for (const name of process.eventNames()) {
      const kept = listeners.get(name) ?? [];
      for (const listener of process.listeners(name as 'exit'))
        if (!kept.includes(listener)) process.off(name as 'exit', listener);
    }
  }
  results.push(result);
}
writeFileSync(resultsFile, JSON.stringify(results));
process.exit(0);

// Runs one playground run inside its own network namespace (started by run-playground.ts as
// `unshare --net -- node netns-runner.ts PARAMS`): loopback up, the run's sysctls set (they are the
// namespace's own), then the engine. Ticks go to stdout as JSON lines; stdin takes
// {"acceptsPerSecond": N | "max"} and {"stop": true}, one a line. When stdin closes (the app went
// away), the run stops, and with this process the namespace is gone.
import { createInterface } from 'node:readline';
import { prepareNamespace } from '../kernel/netns.ts';
import { runEngine } from './engine.ts';
import { normalizeAcceptRate, type PlaygroundParams, SYSCTL_NAMES, type SysctlName } from './params.ts';

const params = JSON.parse(process.argv[2] ?? '{}') as PlaygroundParams;
const stop = new AbortController();
const write = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
try {
  prepareNamespace(
    Object.fromEntries(
      Object.entries(params.sysctls).map(([name, value]) => [SYSCTL_NAMES[name as SysctlName], value]),
    ),
  );
} catch (error) {
  write({ status: 'failed', error: `preparing the namespace: ${(error as Error).message}` });
  process.exit(1);
}
const run = runEngine(params, { signal: stop.signal, onTick: write, namespacePid: process.pid });
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  try {
    const command = JSON.parse(line) as { acceptsPerSecond?: unknown; stop?: boolean };
    if (command.stop) stop.abort();
    else if (command.acceptsPerSecond !== undefined) {
      run.setAcceptsPerSecond(normalizeAcceptRate(command.acceptsPerSecond));
    }
  } catch {
    // The app sends only what it checked; anything else is ignored.
  }
});
input.on('close', () => stop.abort());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
await run.done;
input.close();
// Anything still holding the loop (a client's socket closing) must not keep the namespace alive.
process.stdout.end(() => process.exit(0));

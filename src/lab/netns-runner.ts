// Runs inside a private network namespace (started as `unshare --net -- node netns-runner.ts ...` by
// netns.ts): brings loopback up, sets the given sysctls (they are per namespace, so the host's stay as
// they are), runs one experiment and writes its steps and then its result as JSON lines on stdout.
import { prepareNamespace } from '../kernel/netns.ts';
import { readSysctl } from '../kernel/sysctl.ts';
import type { RunnerLine } from './netns.ts';
import { EXPERIMENTS } from './run-lab.ts';

// The lab's end is this run's end, however the lab ended (even SIGKILL, which leaves it no time to end
// its children): the pipe on standard input closes, and this process goes, and the namespace with it.
process.stdin
  .on('end', () => process.exit(1))
  .resume()
  .unref();
const [id, settingsJson] = process.argv.slice(2);
const settings = JSON.parse(settingsJson ?? '{}') as Record<string, number>;
// Written only where the namespace's own value differs: the host's settings copied in are mostly the
// kernel's defaults already.
prepareNamespace(Object.fromEntries(Object.entries(settings).filter(([name, v]) => readSysctl(name) !== v)));
const experiment = EXPERIMENTS.find((e) => e.id === id);
if (!experiment) throw new Error(`no experiment ${id}`);
const write = (line: RunnerLine) => process.stdout.write(`${JSON.stringify(line)}\n`);
const result = await experiment.run({
  signal: new AbortController().signal,
  progress: (step) => write({ step }),
  somaxconn: settings['net.core.somaxconn'] ?? 4096,
});
write({ result });

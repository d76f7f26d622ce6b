// Runs inside a private network namespace (started as `unshare --net -- node netns-runner.ts ...` by
// netns.ts): brings loopback up, sets the given sysctls (they are per namespace, so the host's stay as
// they are), runs one experiment and prints its result as JSON on stdout.
import { prepareNamespace } from '../kernel/netns.ts';
import { EXPERIMENTS } from './run-lab.ts';

// The lab's end is this run's end, however the lab ended (even SIGKILL, which leaves it no time to end
// its children): the pipe on standard input closes, and this process goes, and the namespace with it.
process.stdin
  .on('end', () => process.exit(1))
  .resume()
  .unref();
const [id, settingsJson] = process.argv.slice(2);
const settings = JSON.parse(settingsJson ?? '{}') as Record<string, number>;
prepareNamespace(settings);
const experiment = EXPERIMENTS.find((e) => e.id === id);
if (!experiment) throw new Error(`no experiment ${id}`);
const somaxconn = settings['net.core.somaxconn'] ?? 4096;
const result = await experiment.run({
  signal: new AbortController().signal,
  progress: () => {},
  somaxconn,
});
process.stdout.write(JSON.stringify(result));

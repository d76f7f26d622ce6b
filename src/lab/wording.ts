import type { ExperimentResult } from './types.ts';

// The words the terminal summary and the HTML report both use for the counters an experiment read.

// Whose kernel counters an experiment read, in a sentence; undefined for one that reads none.
export function countersNote(counters: ExperimentResult['counters']): string | undefined {
  if (!counters) return undefined;
  if (counters.scope === 'namespace')
    return 'Counters: from a network namespace made for this experiment alone.';
  const rates = Object.entries(counters.backgroundPerSecond)
    .map(([name, rate]) => `${name.replace(/^TcpExt/, '')} ${rate === undefined ? 'n/a' : `${rate}/s`}`)
    .join(', ');
  return `Counters: this machine's, which its other traffic adds to (as root, the experiment gets a network namespace of its own); their rate in the second before it: ${rates}.`;
}

import type { ClaimFinding } from './findings.ts';
import type { ExperimentResult } from './types.ts';

// The words the terminal summary and the HTML report both use for an experiment's status, the
// counters it read and the verdict on a claim of the popular answer.

// A status is against the research notes' expectation (`expected`): a measurement that differs from
// it is a finding, named for what it differs from, not a failure.
export function statusLabel(status: ExperimentResult['status']): string {
  return status === 'ok'
    ? 'as expected'
    : status === 'differs'
      ? 'differs from the research notes'
      : 'skipped';
}

// The popular answer's claims, judged by this run: "the popular answer is wrong here".
export const CLAIM_VERDICTS: Readonly<Record<ClaimFinding['verdict'], string>> = {
  holds: 'right here',
  partly: 'partly right here',
  'does not hold': 'wrong here',
  'not measured': 'not measured',
};

export const claimVerdictSentence = (verdict: ClaimFinding['verdict']): string =>
  verdict === 'not measured' ? 'Not measured.' : `The popular answer is ${CLAIM_VERDICTS[verdict]}.`;

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

import { LAB_QUESTIONS } from '../lab/findings.ts';
import type { Question } from '../lab/types.ts';
import { TICK_MS } from './kernel-view.ts';
import type { PlaygroundParams } from './params.ts';
import type { ClientState, ClientView, ListenerView, RunSummary } from './state.ts';

const OUTCOMES: [ClientState, string][] = [
  ['served', 'served'],
  ['lost', 'lost'],
  ['timed-out', 'gave up waiting'],
  ['refused', 'refused'],
  ['reset', 'reset'],
  ['error', 'failed otherwise'],
  ['stopped', 'still waiting when the run ended'],
];

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const seconds = (values: number[]) => {
  const distinct = [...new Set(values.map((v) => v.toFixed(1)))].sort((a, b) => Number(a) - Number(b));
  return distinct.length <= 1
    ? `${distinct[0] ?? '?'} s`
    : `${distinct.slice(0, -1).join(', ')} and ${distinct.at(-1)} s`;
};
const short = (counter: string) => counter.replace(/^TcpExt/, '');

// What a run showed, in plain words with its numbers, and the lab question it answers. A formatter:
// every figure comes from the run's own snapshot.
export function summarizeRun(
  params: PlaygroundParams,
  clients: ClientView[],
  listener: ListenerView | null,
  counters: Record<string, number>,
): RunSummary {
  const parts: string[] = [];
  const inForce = listener?.backlog ?? params.backlog;
  const peak = listener?.peakQueued ?? 0;
  const clamp = inForce !== params.backlog ? ` (the kernel made it ${inForce}: somaxconn)` : '';
  const overflows = counters.TcpExtListenOverflows ?? 0;
  parts.push(
    peak > inForce
      ? `Backlog ${params.backlog}${clamp} held ${peak}: the accept queue was full at backlog + 1.`
      : `Backlog ${params.backlog}${clamp}: the accept queue was seen at ${peak} at most (read every ${TICK_MS} ms)` +
          (overflows > 0 ? `, and was full in between: ListenOverflows +${overflows}.` : '.'),
  );
  const count = (state: ClientState) => clients.filter((c) => c.state === state).length;
  const outcomes = OUTCOMES.filter(([state]) => count(state) > 0).map(([s, words]) => `${count(s)} ${words}`);
  parts.push(`Of ${plural(clients.length, 'client')}: ${outcomes.join(', ') || 'none started'}.`);

  const waited = clients.filter((c) => c.retransmits > 0);
  if (waited.length > 0) {
    const most = Math.max(...waited.map((c) => c.retransmits));
    const gotIn = waited.filter((c) => c.state === 'served');
    const rest = OUTCOMES.filter(([state]) => state !== 'served')
      .map(([state, words]) => [waited.filter((c) => c.state === state).length, words] as const)
      .filter(([n]) => n > 0)
      .map(([n, words]) => `${n} ${words}`);
    const after = seconds(gotIn.map((c) => (c.connectedS ?? 0) - (c.startedS ?? 0)));
    parts.push(
      `${plural(waited.length, 'client')} waited for SYN retransmissions (${most === 1 ? 'one each' : `up to ${most} each`}): ` +
        [
          ...(gotIn.length > 0
            ? [`${gotIn.length === waited.length ? 'all' : gotIn.length} got in after ${after}`]
            : []),
          ...rest,
        ].join(', ') +
        '.',
    );
  }
  const lost = count('lost');
  if (lost > 0) {
    const cookies = counters.TcpExtSyncookiesSent ?? 0;
    parts.push(
      `${plural(lost, 'client was', 'clients were')} lost: connected by ${lost === 1 ? 'its' : 'their'} own account while the server held nothing for ${lost === 1 ? 'it' : 'them'}` +
        (cookies > 0
          ? `; the kernel had answered ${plural(cookies, 'SYN', 'SYNs')} with a cookie, and a cookie's ACK that meets a full accept queue is dropped.`
          : '.'),
    );
  }
  const moved = [
    'TcpExtListenOverflows',
    'TcpExtListenDrops',
    'TcpExtSyncookiesSent',
    'TcpExtTCPReqQFullDrop',
  ]
    .filter((k) => (counters[k] ?? 0) > 0)
    .map((k) => `${short(k)} +${counters[k]}`);
  if (moved.length > 0) parts.push(`The kernel counted ${moved.join(', ')}.`);
  const id = questionFor(params, inForce);
  return {
    text: parts.join(' '),
    question: { id, question: LAB_QUESTIONS[id], href: `/lab-report.html#${id.toLowerCase()}` },
  };
}

function questionFor(params: PlaygroundParams, inForce: number): Question {
  if (params.backlog === 0) return 'Q2';
  if (params.sysctls.somaxconn !== undefined || inForce !== params.backlog) return 'Q3';
  return 'Q1';
}

import type { BurstClient } from './experiments/burst.ts';
import type { CapacityRow } from './experiments/capacity.ts';
import type { LabReport } from './run-lab.ts';
import type { ExperimentResult, Question } from './types.ts';

// What a run answers, as data: the terminal summary and the HTML report both render from this, and
// every number in it comes from the run.
export interface QuestionFinding {
  id: Question;
  question: string;
  // One sentence; undefined when the experiments behind it did not run.
  answer: string | undefined;
  figures: { label: string; value: string }[];
}

export interface ClaimFinding {
  claim: string;
  verdict: 'holds' | 'partly' | 'does not hold' | 'not measured';
  numbers: string;
}

export interface BurstRow {
  backlog: number;
  served: number;
  timedOut: number;
  syncookiesSent?: number;
}

export interface LabFindings {
  capacity: CapacityRow[];
  burst: BurstRow[];
  burstClients: BurstClient[];
  // How long a client of the burst waited before it gave up, for the timeline's unfinished lanes.
  burstTimeoutS: number;
  udp: { kept: number; dropped: number } | undefined;
  questions: QuestionFinding[];
  claims: ClaimFinding[];
}

// The four questions, as the summary, the report and the playground ask them.
export const LAB_QUESTIONS: Record<Question, string> = {
  Q1: 'Is listen(5) different from listen(1)?',
  Q2: 'Why may the backlog be 0?',
  Q3: 'Is there a preferred value?',
  Q4: 'Does it apply to UDP?',
};

const find = (report: LabReport, id: string): ExperimentResult | undefined =>
  report.experiments.find((e) => e.id === id && e.status !== 'skipped');

export function labFindings(report: LabReport): LabFindings {
  const capacity = (find(report, 'capacity')?.measurements.rows as CapacityRow[] | undefined) ?? [];
  const row = (b: number) => capacity.find((r) => r.backlog === b);
  const burstResult = find(report, 'burst');
  const burst = (burstResult?.measurements.summary as BurstRow[] | undefined) ?? [];
  const burstClients = (burstResult?.measurements.clients as BurstClient[] | undefined) ?? [];
  const retry = (find(report, 'syn-retry')?.measurements.runs as { connectS: number }[] | undefined) ?? [];
  const clamp = find(report, 'somaxconn-clamp');
  const clampRows = (clamp?.measurements.rows as { asked: number; ssBacklog?: number }[] | undefined) ?? [];
  const node = find(report, 'node-backlog');
  const nodeRows = (node?.measurements.rows as { ssBacklog?: number }[] | undefined) ?? [];
  const udp = find(report, 'udp-no-listen');
  const unix = find(report, 'unix-eagain');
  const rcvbuf = find(report, 'udp-rcvbuf');
  const data = find(report, 'queued-data');
  const somaxconn = report.sysctls['net.core.somaxconn'];
  const one = row(1);
  const five = row(5);
  const zero = row(0);
  const refused = capacity.reduce((n, r) => n + r.refusedOrReset, 0);
  const waiting = capacity.reduce((n, r) => n + r.pending, 0);
  const cookies = burst.some((b) => b.timedOut > 0);
  const kept = Number(rcvbuf?.measurements.kept ?? 0);
  const burstFigure = burst.length
    ? [
        {
          label: 'a burst of 20, served',
          value: burst.map((b) => `listen(${b.backlog}): ${b.served}`).join(', '),
        },
      ]
    : [];

  const questions: QuestionFinding[] = [
    {
      id: 'Q1',
      question: LAB_QUESTIONS.Q1,
      answer:
        one && five
          ? `A listener that is not accepting holds ${five.connected} completed connections with listen(5) and ${one.connected} with listen(1) (backlog + 1); clients beyond that are neither accepted nor refused, they wait for a SYN retransmission${burst.length ? `, and in a burst the small queue loses clients: listen(1) served ${burst[0]?.served} of 20` : ''}.`
          : undefined,
      figures: [
        ...(one && five
          ? [
              { label: 'held by listen(1) / listen(5)', value: `${one.connected} / ${five.connected}` },
              { label: 'beyond that: refused / left waiting', value: `${refused} / ${waiting}` },
            ]
          : []),
        ...(retry.length
          ? [{ label: 'waiting clients got in after', value: retry.map((r) => `${r.connectS} s`).join(', ') }]
          : []),
        ...burstFigure,
        ...(data
          ? [{ label: 'data sent before accept()', value: data.measurements.intact ? 'intact' : 'lost' }]
          : []),
      ],
    },
    {
      id: 'Q2',
      question: LAB_QUESTIONS.Q2,
      answer: zero
        ? `Because 0 is a real value on Linux: it held ${zero.connected} connection here (the kernel queues backlog + 1)${nodeRows[0]?.ssBacklog !== undefined ? `; Node never passes 0 to the kernel, it turns it into ${nodeRows[0]?.ssBacklog}` : ''}.`
        : undefined,
      figures: [
        ...(zero ? [{ label: 'listen(0) held', value: String(zero.connected) }] : []),
        ...(nodeRows[0]?.ssBacklog !== undefined
          ? [{ label: "Node's server.listen with backlog 0", value: String(nodeRows[0]?.ssBacklog) }]
          : []),
      ],
    },
    {
      id: 'Q3',
      question: LAB_QUESTIONS.Q3,
      answer:
        clamp || capacity.length
          ? `Nothing limits it to 5: backlog 10 held ${row(10)?.connected ?? '?'}, and the only cap is net.core.somaxconn (${somaxconn}), applied silently${burst.length ? `; a large backlog costs nothing until connections wait, and under a burst listen(511) served all ${burst.at(-1)?.served} of 20` : ''}.`
          : undefined,
      figures: [
        ...(row(10) ? [{ label: 'listen(10) held', value: String(row(10)?.connected) }] : []),
        { label: 'net.core.somaxconn', value: String(somaxconn ?? 'n/a') },
        ...clampRows.map((r) => ({ label: `listen(${r.asked}) became`, value: String(r.ssBacklog) })),
        ...(nodeRows[2]?.ssBacklog !== undefined
          ? [{ label: "Node's default", value: String(nodeRows[2]?.ssBacklog) }]
          : []),
        ...burstFigure,
      ],
    },
    {
      id: 'Q4',
      question: LAB_QUESTIONS.Q4,
      answer: udp
        ? `No: listen() on a UDP socket fails with ${udp.measurements.listenError}; a UDP socket's queue is its receive buffer${rcvbuf ? `, which kept ${kept} of 2,000 datagrams here and dropped the rest` : ''}${unix ? '; but the backlog is not TCP-only: an AF_UNIX stream listener has one, and a connect to a full one fails at once with EAGAIN' : ''}.`
        : undefined,
      figures: [
        ...(udp ? [{ label: 'listen() on UDP', value: String(udp.measurements.listenError) }] : []),
        ...(rcvbuf
          ? [
              { label: 'datagrams kept / dropped', value: `${kept} / ${2000 - kept}` },
              { label: 'UdpRcvbufErrors', value: `+${rcvbuf.measurements.udpRcvbufErrorsDelta}` },
            ]
          : []),
        ...(unix ? [{ label: 'AF_UNIX, queue full', value: 'EAGAIN at once' }] : []),
      ],
    },
  ];

  const claims: ClaimFinding[] = [
    one
      ? {
          claim: 'With backlog 1, further connection requests are dropped.',
          verdict: 'partly',
          numbers: `Backlog 1 held ${one.connected}, not 1; clients beyond were neither connected nor refused: their SYNs were dropped silently (${one.listenOverflowsDelta ?? '?'} ListenOverflows)${retry.length ? ` and such a client got in ${retry[0]?.connectS} s later` : ''}${cookies ? '; in a burst, clients whose SYN-cookie ACK was dropped were never served' : ''}.`,
        }
      : {
          claim: 'With backlog 1, further connection requests are dropped.',
          verdict: 'not measured',
          numbers: '',
        },
    clamp || row(10)
      ? {
          claim: 'The backlog is silently limited to between 1 and 5.',
          verdict: 'does not hold',
          numbers: `Backlog 10 held ${row(10)?.connected ?? '?'}; the only cap is somaxconn (${somaxconn}). The 1-5 rule is 4.3BSD and Winsock 1.1.`,
        }
      : {
          claim: 'The backlog is silently limited to between 1 and 5.',
          verdict: 'not measured',
          numbers: '',
        },
    zero
      ? {
          claim: 'A backlog of 0 may allow connections, with an implementation-defined minimum.',
          verdict: 'holds',
          numbers: `As POSIX says: Linux's minimum is ${zero.connected}, and Node turns 0 into 511.`,
        }
      : {
          claim: 'A backlog of 0 may allow connections, with an implementation-defined minimum.',
          verdict: 'not measured',
          numbers: '',
        },
    udp
      ? {
          claim: 'The backlog does not apply to UDP.',
          verdict: 'holds',
          numbers: `listen() fails with ${udp.measurements.listenError}; but it is not TCP's alone: AF_UNIX ${unix ? 'showed one' : 'has one too'}.`,
        }
      : { claim: 'The backlog does not apply to UDP.', verdict: 'not measured', numbers: '' },
  ];
  return {
    capacity,
    burst,
    burstClients,
    burstTimeoutS: Number((burstResult?.parameters.clientTimeoutMs as number | undefined) ?? 4000) / 1000,
    udp: rcvbuf ? { kept, dropped: 2000 - kept } : undefined,
    questions,
    claims,
  };
}

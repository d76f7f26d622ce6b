import { capacitySpec, renderSvg, timelineSpec } from './charts.ts';
import type { BurstClient } from './experiments/burst.ts';
import type { CapacityRow } from './experiments/capacity.ts';
import { formatLabSummary } from './format-summary.ts';
import type { LabReport } from './run-lab.ts';

const escapeHtml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

// A self-contained HTML report: no scripts, no external files; the charts are inline SVG.
export async function renderLabHtml(report: LabReport): Promise<string> {
  const capacity = report.experiments.find((e) => e.id === 'capacity' && e.status !== 'skipped');
  const burst = report.experiments.find((e) => e.id === 'burst' && e.status !== 'skipped');
  const rows = (capacity?.measurements.rows as CapacityRow[] | undefined) ?? [];
  const clients = (burst?.measurements.clients as BurstClient[] | undefined) ?? [];
  const timeoutS = Number((burst?.parameters.clientTimeoutMs as number | undefined) ?? 4000) / 1000;
  const charts: string[] = [];
  if (rows.length) charts.push(`<figure id="capacity-chart">${await renderSvg(capacitySpec(rows))}</figure>`);
  if (clients.length)
    charts.push(`<figure id="timeline-chart">${await renderSvg(timelineSpec(clients, timeoutS))}</figure>`);
  const capacityTable = rows.length
    ? `<table id="capacity"><thead><tr><th>backlog</th><th>connections queued</th><th>ss Recv-Q / Send-Q</th><th>ListenOverflows</th></tr></thead><tbody>${rows
        .map(
          (r) =>
            `<tr><td>${r.backlog}</td><td>${r.connected}</td><td>${r.ssQueued ?? '?'} / ${r.ssBacklog ?? '?'}</td><td>${r.listenOverflowsDelta ?? '?'}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const experiments = `<table id="experiments"><thead><tr><th>experiment</th><th>status</th><th>what was measured</th></tr></thead><tbody>${report.experiments
    .map(
      (e) =>
        `<tr class="${e.status}"><td>${escapeHtml(e.title)}<br><code>${e.id}</code></td><td>${e.status}</td><td>${escapeHtml(e.verdict)}${e.status === 'differs' ? `<br><em>expected: ${escapeHtml(e.expected)}</em>` : ''}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>What listen(backlog) does on Linux ${escapeHtml(report.kernel)}</title>
<style>
body { font-family: DejaVu Sans, Liberation Sans, Arial, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 1rem; font-size: 0.85rem; }
table { border-collapse: collapse; margin: 1rem 0; }
td, th { border: 1px solid #ccc; padding: 0.3rem 0.6rem; vertical-align: top; text-align: left; }
tr.differs td:nth-child(2) { color: #b30000; font-weight: bold; }
figure { margin: 1.5rem 0; }
</style>
</head>
<body>
<h1>What listen(backlog) does on this kernel</h1>
<p>Linux ${escapeHtml(report.kernel)}, Node ${escapeHtml(report.node)}, run at ${escapeHtml(report.startedAt)} in ${(report.durationMs / 1000).toFixed(1)} s. Every figure below was measured in that run.</p>
<h2>Answers</h2>
<pre id="summary">${escapeHtml(formatLabSummary(report))}</pre>
<h2>Charts</h2>
${charts.join('\n')}
<h2>Capacity per backlog</h2>
${capacityTable}
<h2>Experiments</h2>
${experiments}
</body>
</html>
`;
}

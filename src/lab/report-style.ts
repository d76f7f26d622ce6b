// The report's stylesheet: one column on a phone (390 px), answer and chart side by side on a wide
// screen, nothing wider than the page (tables wrap, charts scale down), and a clean printout.
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --ok: #1a7f37; --bad: #b42318; --finding: #8250df; }
* { box-sizing: border-box; }
body { font-family: DejaVu Sans, Liberation Sans, Arial, sans-serif; color: var(--ink); margin: 0 auto; max-width: 72rem; padding: 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; }
h2 { font-size: 1.2rem; margin: 0 0 0.5rem; }
.run { color: var(--muted); font-size: 0.9rem; }
.q { display: inline-block; background: var(--ink); color: #fff; border-radius: 0.3rem; padding: 0 0.4rem; margin-right: 0.3rem; }
section { margin: 1.5rem 0; }
.question { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5rem; align-items: start; border-top: 1px solid var(--line); padding-top: 1rem; }
.answer p { margin: 0 0 0.75rem; font-size: 1.05rem; }
dl { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 0.2rem 0.8rem; margin: 0; font-size: 0.9rem; }
dt { color: var(--muted); }
dd { margin: 0; font-weight: bold; overflow-wrap: anywhere; }
figure { margin: 0; min-width: 0; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 0.3rem; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 0.9rem; }
th, td { border: 1px solid var(--line); padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; }
code { font-size: 0.85em; overflow-wrap: anywhere; }
ul.figures { margin: 0; padding-left: 1rem; }
.verdict, .status { font-weight: bold; text-transform: uppercase; font-size: 0.8rem; }
.verdict.holds, tr.ok .status { color: var(--ok); }
.verdict.does-not-hold, .verdict.partly { color: var(--bad); }
/* A result the research notes did not expect is a finding, not a failure. */
tr.differs .status { color: var(--finding); }
.counters { color: var(--muted); }
tr.skipped { color: var(--muted); }
col.w10 { width: 10%; } col.w12 { width: 12%; } col.w22 { width: 22%; } col.w23 { width: 23%; } col.w35 { width: 35%; }
@media (max-width: 760px) {
  .question { grid-template-columns: minmax(0, 1fr); }
}
/* On a phone each row becomes a card: a column of labelled cells. */
@media (max-width: 600px) {
  table, tbody, tr, td { display: block; width: 100%; }
  thead, colgroup { display: none; }
  tr { border: 1px solid var(--line); margin-bottom: 0.75rem; }
  td { border: none; border-top: 1px solid var(--line); }
  td:first-child { border-top: none; font-weight: bold; }
  td::before { content: attr(data-label); display: block; color: var(--muted); font-size: 0.75rem; font-weight: normal; text-transform: none; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .question, tr { break-inside: avoid; }
  .q { border: 1px solid var(--ink); color: var(--ink); background: none; }
}
`;

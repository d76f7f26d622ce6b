// Renders the README's lab figures from a real run on this machine:
//   node scripts/lab-figures.ts   -> docs/lab-timeline.png, docs/lab-capacity.png, docs/lab-report.html
// Needs Linux and Debian's chromium (for the PNG screenshots).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { formatLabProgress } from '../src/cli/format-progress.ts';
import { renderLabHtml } from '../src/lab/report-html.ts';
import { runLab } from '../src/lab/run-lab.ts';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const report = await runLab({ onProgress: (event) => process.stderr.write(`${formatLabProgress(event)}\n`) });
const html = await renderLabHtml(report);
writeFileSync(`${docs}lab-report.html`, html);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 2 });
  await page.setContent(html);
  await page.locator('#timeline-chart svg').screenshot({ path: `${docs}lab-timeline.png` });
  await page.locator('#capacity-chart svg').screenshot({ path: `${docs}lab-capacity.png` });
} finally {
  await browser.close();
}

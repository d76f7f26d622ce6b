import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderLabHtml } from '../../src/lab/report-html.ts';
import { runLab } from '../../src/lab/run-lab.ts';
import { ROOT } from '../helpers/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const linux = process.platform === 'linux';

test('the HTML report, opened in headless Chromium: charts drawn, tables filled, no console errors', async (t) => {
  if (!linux) return t.skip('the lab needs Linux');
  if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} is missing (apt-get install chromium)`);
  const report = await runLab({ only: ['capacity', 'burst'] });
  const dir = mkdtempSync(join(tmpdir(), 'daytime-report-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, await renderLabHtml(report));

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    // Vega's SVG draws lines, points and bars as <path> elements inside its mark groups.
    const capacityMarks = await page
      .locator('#capacity-chart svg .mark-line path, #capacity-chart svg .mark-symbol path')
      .count();
    const timelineMarks = await page.locator('#timeline-chart svg .mark-rect path').count();
    assert.ok(capacityMarks >= 2, `capacity chart marks: ${capacityMarks}`);
    assert.ok(timelineMarks >= 60, `timeline bars: ${timelineMarks} (3 backlogs x 20 clients)`);
    assert.equal(await page.locator('#capacity tbody tr').count(), 5);
    assert.equal(await page.locator('#experiments tbody tr').count(), 2);
    assert.match((await page.locator('#summary').textContent()) ?? '', /Q1 /);
    const artifacts = join(ROOT, 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'lab-report.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

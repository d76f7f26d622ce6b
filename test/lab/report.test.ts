import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderLabHtml } from '../../src/lab/report-html.ts';
import { runLab } from '../../src/lab/run-lab.ts';
import { assertNoHorizontalScroll, chromiumMissing, launchChromium } from '../helpers/chromium.ts';
import { ROOT } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';

const linux = process.platform === 'linux';

test('the HTML report in headless Chromium: four answered questions with charts, the tables, no overflow at 390 and 1280 px', async (t) => {
  if (!linux) return t.skip('the lab needs Linux');
  if (chromiumMissing) return missingPeer(t, chromiumMissing);
  const report = await runLab({ only: ['capacity', 'burst', 'udp-no-listen', 'udp-rcvbuf', 'node-backlog'] });
  const dir = mkdtempSync(join(tmpdir(), 'daytime-report-'));
  const file = join(dir, 'report.html');
  const html = await renderLabHtml(report);
  writeFileSync(file, html);
  assert.doesNotMatch(
    html,
    /<script|<pre|https?:\/\/(?!www\.w3\.org)/,
    'no scripts, no preformatted block, nothing fetched',
  );

  const browser = await launchChromium();
  const artifacts = join(ROOT, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  try {
    for (const width of [390, 1280]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      await page.goto(`file://${file}`);
      const headings = await page.locator('section.question h2').allTextContents();
      assert.deepEqual(
        headings.map((h) => h.slice(0, 2)),
        ['Q1', 'Q2', 'Q3', 'Q4'],
      );
      for (const id of ['q1', 'q2', 'q3', 'q4']) {
        assert.ok(
          ((await page.locator(`#${id} .answer p`).textContent()) ?? '').length > 40,
          `${id} answered`,
        );
        assert.equal(await page.locator(`#${id} figure svg`).count(), 1, `${id} has its chart`);
      }
      // Vega draws marks as <path> elements inside its mark groups.
      assert.ok((await page.locator('#timeline-chart svg .mark-rect path').count()) >= 60, 'timeline bars');
      assert.ok(
        (await page
          .locator('#capacity-chart svg .mark-line path, #capacity-chart svg .mark-symbol path')
          .count()) >= 2,
      );
      assert.equal(await page.locator('#claims tbody tr').count(), 4);
      assert.equal(await page.locator('#experiments tbody tr').count(), 5);
      assert.equal(await page.locator('pre').count(), 0);
      await assertNoHorizontalScroll(page, width);
      await page.screenshot({ path: join(artifacts, `lab-report-${width}.png`), fullPage: true });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [], 'opens offline');
      await page.close();
    }
    // Printable: a PDF renders (the print stylesheet applies).
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    const pdf = await page.pdf({ format: 'A4' });
    assert.ok(pdf.length > 10_000);
  } finally {
    await browser.close();
  }
});

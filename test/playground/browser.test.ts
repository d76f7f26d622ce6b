import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { createPlaygroundApp, type PlaygroundApp } from '../../src/playground/app.ts';
import { assertNoHorizontalScroll, chromiumMissing, launchChromium } from '../helpers/chromium.ts';
import { ROOT } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';
import { assertSsSays, state, waitForState } from './support.ts';

const linux = process.platform === 'linux';
const artifacts = join(ROOT, 'test-artifacts');

// Console errors, failed page scripts, and any request that leaves the app.
function watch(page: Page, app: PlaygroundApp) {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(`http://127.0.0.1:${app.port}/`)) problems.push(`request: ${r.url()}`);
  });
  return problems;
}

// Polls an expression in the page (the page's CSP forbids eval, which waitForFunction with a string uses).
async function waitInPage(page: Page, expression: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > until) throw new Error(`timed out waiting in the page for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('the page at 390 and 1280 px: offline, no console errors, every control labelled and reachable by keyboard, no horizontal scrolling', {
  skip: !linux && 'the playground needs Linux',
}, async (t) => {
  if (chromiumMissing) return missingPeer(t, chromiumMissing);
  const app = await createPlaygroundApp({ port: 0 });
  const browser = await launchChromium();
  mkdirSync(artifacts, { recursive: true });
  try {
    for (const width of [390, 1280]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const problems = watch(page, app);
      await page.goto(app.url);
      await page.locator('#presets button').nth(4).waitFor();
      const unlabelled = await page.evaluate(
        `[...document.querySelectorAll('input, select')].filter((e) => e.labels.length === 0).map((e) => e.id)`,
      );
      assert.deepEqual(unlabelled, [], 'every input has a visible label');
      for (const name of ['Backlog', 'Clients', 'Accepts per second']) {
        assert.equal(await page.getByLabel(name, { exact: true }).count(), 1, name);
      }
      // Keyboard: Tab reaches the presets, the fields and Run; a preset chosen with Enter fills the form.
      const reached = new Set<string>();
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        reached.add(
          String(await page.evaluate('document.activeElement?.id || document.activeElement?.textContent')),
        );
      }
      for (const id of ['backlog', 'clients', 'run', 'reset', 'listen(1)'])
        assert.ok(reached.has(id), `Tab reaches ${id}`);
      await page.getByRole('button', { name: 'listen(1)' }).focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.getByLabel('Backlog', { exact: true }).inputValue(), '1');
      assert.match(page.url(), /[?&]backlog=1&clients=8&/, 'the parameters are in the address');
      await assertNoHorizontalScroll(page, width);
      await page.screenshot({ path: join(artifacts, `playground-${width}.png`), fullPage: true });
      assert.deepEqual(problems, []);
      await page.close();
    }
  } finally {
    await browser.close();
    await app.close();
  }
});

test('in Chromium: backlog 1, 8 clients, 0 accepts shows 2 queued and ss says 2; Accepts per second on (by keyboard) serves the rest and shows who waited for a retransmission', {
  skip: !linux && 'the playground needs Linux',
}, async (t) => {
  if (chromiumMissing) return missingPeer(t, chromiumMissing);
  const app = await createPlaygroundApp({ port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems = watch(page, app);
    await page.goto(`${app.url}&backlog=1&clients=8&arrivalPerSecond=0&acceptsPerSecond=0&clientTimeoutS=8`);
    await page.getByRole('button', { name: 'Run' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#queue-text', { hasText: '2 / 2' }).waitFor({ timeout: 30_000 });
    await page.locator('#client-table tr[data-state="queued"]').nth(1).waitFor();
    // Every client beyond the queue has had its SYN retransmitted at least once, by its own socket.
    await waitInPage(
      page,
      `[...document.querySelectorAll('#client-table tbody tr')].every((r) => r.dataset.state === 'queued' || r.dataset.state === 'lost' || Number(r.dataset.retransmits) >= 1)`,
    );
    const running = await state(app.port, app.token);
    assert.equal(running.listener?.queued, 2);
    assertSsSays(t, running, [2, 1]);
    assert.equal(await page.locator('#client-table tr[data-state="queued"]').count(), 2);
    const waiting = await page.locator('#client-table tr[data-state="connecting"]').count();
    assert.ok(waiting >= 1);

    await page.getByLabel('Accepts per second').focus();
    await page.keyboard.press('End');
    assert.equal(await page.locator('#accepts-out').textContent(), 'max');
    await page.locator('#summary').waitFor({ state: 'visible', timeout: 60_000 });
    const final = await waitForState(app.port, app.token, (s) => s.status === 'finished', 'the end');
    assert.deepEqual(
      final.acceptChanges.map((c) => c.rate),
      [0, 'max'],
    );
    // Read in the page as a string (this file is type-checked without the DOM's types).
    const rows = (await page.evaluate(
      `[...document.querySelectorAll('#client-table tbody tr')].map((r) => ({ state: r.dataset.state, retransmits: Number(r.dataset.retransmits) }))`,
    )) as { state: string; retransmits: number }[];
    const waited = rows.filter((r) => r.retransmits >= 1);
    assert.equal(waited.length, waiting, 'the page shows each client that waited for a retransmission');
    assert.ok(
      rows.every((r) => r.state === 'served' || r.state === 'lost'),
      JSON.stringify(rows),
    );
    assert.equal(
      rows.filter((r) => r.state === 'served').length,
      final.clients.filter((c) => c.state === 'served').length,
    );
    const summary = (await page.locator('#summary-text').textContent()) ?? '';
    assert.match(
      summary,
      new RegExp(`^Backlog 1 held 2: .* ${waited.length} clients? waited for SYN retransmissions`),
    );
    // The lab's answer to the question, served by the app itself.
    await page.locator('#summary-link').click();
    await page.waitForURL(/\/lab-report\.html#q1$/);
    assert.match((await page.locator('#q1 h2').textContent()) ?? '', /^Q1/);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await app.close();
  }
});

test('in Chromium: no token, another site, or another name for the host (DNS rebinding): refused', {
  skip: !linux && 'the playground needs Linux',
}, async (t) => {
  if (chromiumMissing) return missingPeer(t, chromiumMissing);
  const app = await createPlaygroundApp({ port: 0 });
  // A page on another origin that tries to start a run with the token, as a malicious site could.
  const other = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>elsewhere</title>');
  });
  other.listen(0, '127.0.0.1');
  await new Promise((resolve) => other.once('listening', resolve));
  const otherPort = (other.address() as AddressInfo).port;
  const browser = await launchChromium([`--host-resolver-rules=MAP rebind.test 127.0.0.1`]);
  try {
    const page = await browser.newPage();
    const noToken = await page.goto(`http://127.0.0.1:${app.port}/`);
    assert.equal(noToken?.status(), 401);
    assert.match(await page.content(), /Token needed/);
    const rebound = await page.goto(`http://rebind.test:${app.port}/?token=${app.token}`);
    assert.equal(rebound?.status(), 403);
    assert.match(await page.content(), /ERR_HOST/);
    await page.goto(`http://localhost:${otherPort}/`);
    // The page cannot see the answer to its no-cors POST; the browser's network log can.
    const answered = page.waitForResponse(
      (r) => r.url().includes('/api/run') && r.request().method() === 'POST',
    );
    const outcome = await page.evaluate(`(async () => {
      await fetch('http://127.0.0.1:${app.port}/api/run?token=${app.token}', {
        method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"clients":1}',
      });
      try {
        await fetch('http://127.0.0.1:${app.port}/api/state?token=${app.token}');
        return 'read';
      } catch {
        return 'blocked';
      }
    })()`);
    assert.equal((await answered).status(), 403, 'the POST from another origin was refused for its Origin');
    assert.equal(outcome, 'blocked', 'another site cannot read the state');
    assert.equal((await state(app.port, app.token)).status, 'idle', 'and its POST started nothing');
  } finally {
    await browser.close();
    other.close();
    await app.close();
  }
});

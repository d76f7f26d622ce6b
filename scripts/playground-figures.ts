// The README's playground screenshots, from a real run on this machine:
//   node scripts/playground-figures.ts   -> docs/playground.png (1280 px), docs/playground-390.png
// listen(1), 8 clients, nobody accepting; after 1.5 s Accepts per second goes to max. Needs Linux and
// Debian's chromium.
import { fileURLToPath } from 'node:url';
import { createPlaygroundApp } from '../src/playground/app.ts';
import { launchChromium } from '../test/helpers/chromium.ts';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const app = await createPlaygroundApp({ port: 0 });
const browser = await launchChromium();
try {
  for (const [width, file] of [
    [1280, 'playground.png'],
    [390, 'playground-390.png'],
  ] as const) {
    const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(`${app.url}&backlog=1&clients=8&arrivalPerSecond=0&acceptsPerSecond=0&clientTimeoutS=4`);
    await page.getByRole('button', { name: 'listen(1)' }).waitFor();
    await page.getByRole('button', { name: 'Run' }).click();
    // 1.5 s into the run itself (a namespace takes a moment to make).
    for (let elapsed = 0; elapsed < 1.5; await page.waitForTimeout(20)) {
      const state = await fetch(`http://127.0.0.1:${app.port}/api/state`, {
        headers: { authorization: `Bearer ${app.token}` },
      }).then((r) => r.json() as Promise<{ status: string; elapsedS: number }>);
      elapsed = state.status === 'running' ? state.elapsedS : 0;
    }
    await page.getByLabel('Accepts per second').focus();
    await page.keyboard.press('End');
    await page.locator('#summary').waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForTimeout(300);
    // The live panel: the knob, the queue, the lanes and what happened.
    const live = page.locator('section.live');
    if (width === 390) await live.screenshot({ path: `${docs}${file}` });
    else await page.screenshot({ path: `${docs}${file}`, fullPage: true });
    await page.close();
  }
} finally {
  await browser.close();
  await app.close();
}

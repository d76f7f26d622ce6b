// Debian's chromium driven by playwright-core, for the tests that open a page: headless, nothing
// fetched in the background. Tests skip with `chromiumMissing` as the reason where it is not installed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const chromiumMissing = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing (apt-get install chromium)`;

// `extra` adds flags (a host-resolver rule, say).
export async function launchChromium(extra: string[] = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
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
      ...extra,
    ],
  });
}

// Fails when the page scrolls sideways at its viewport's width.
export async function assertNoHorizontalScroll(page: Page, width: number) {
  // A string, evaluated in the page (the tests are type-checked without the DOM's types).
  const overflow = (await page.evaluate(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  )) as { scroll: number; client: number };
  assert.ok(
    overflow.scroll <= overflow.client,
    `${width} px: scrollWidth ${overflow.scroll} > ${overflow.client}`,
  );
}

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

// A real program the suite tests against (nc, rdate, haproxy, prometheus, chromium, strace...) is not
// here. A developer's machine skips the test and says why; CI (CI=true), where .ci/run installs every
// one of them, fails instead: a peer that should be there and is not is a broken CI, not a pass.
export function missingPeer(t: TestContext, reason: string): void {
  if (process.env.CI === 'true') assert.fail(`${reason}; .ci/run installs it, so under CI this is a failure`);
  t.skip(reason);
}

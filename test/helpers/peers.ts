import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

// Something the suite tests against is not here: a real program (nc, rdate, python3, haproxy,
// prometheus, chromium, strace, ss... which .ci/run installs), root, or a kernel feature a CI machine
// has (io_uring, network namespaces). A developer's machine skips the test and says why; CI (CI=true)
// fails instead: what should be there and is not is a broken CI, not a pass. Every skip of the suite
// for a missing peer goes through here; only a platform the feature does not exist on skips directly.
export function missingPeer(t: TestContext, reason: string): void {
  if (process.env.CI === 'true') assert.fail(`${reason}; under CI (CI=true) this is a failure`);
  t.skip(reason);
}

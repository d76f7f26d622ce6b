#!/usr/bin/env -S node --max-semi-space-size=1 --max-opt=2
// The bin. It checks the Node that runs it before loading anything else: the package needs 22.12 or
// newer (commander's floor). package.json has no `engines` for this on purpose: `npx daytime` in a
// clone runs the pinned Node 24, but npx checked `engines` against the Node that runs npm itself and
// warned (EBADENGINE, twice) on a machine whose own Node is older.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  // Installed with `npm install -g`, the bin runs on the first `node` on PATH: say which one that was
  // and the two ways out, a newer Node first on PATH or a clone's pinned one.
  process.stderr.write(
    `daytime: needs Node.js 22.12 or newer, this is ${process.version} (${process.execPath}): ` +
      'put a newer node first on PATH (https://nodejs.org), or run `npx daytime` in a clone ' +
      '(it runs the pinned Node 24)\n',
  );
  process.exit(1);
}
// Before the program loads: a stop signal in the meantime waits for the command (cli/interrupt.ts),
// and a closed pipe ends any command quietly (cli/closed-pipe.ts).
const [{ holdStopSignals }, { endQuietlyOnClosedPipes }] = await Promise.all([
  import('./cli/interrupt.ts'),
  import('./cli/closed-pipe.ts'),
]);
holdStopSignals();
endQuietlyOnClosedPipes();
const { main } = await import('./cli/program.ts');
// Loading ran without a turn of the event loop, so a signal that came meanwhile waits there: this turn
// hands it to the holder, before any command starts, instead of to the command once it is under way.
await new Promise((resolve) => setImmediate(resolve));
await main();

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { EXIT_STATUS } from '../../src/error-catalog.ts';
import { netnsUnavailable } from '../../src/kernel/netns.ts';
import { CLI_ENV, collect, ROOT } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';
import { blockScript, commands, PEERS, peersCalled, quoted, withoutComment } from './block-script.ts';
import { type Block, fencedBlocks, isShell, label, pages, verdict } from './blocks.ts';

// Every shell block in the README and docs/ runs here as written, in a network, PID and mount
// namespace of its own: loopback only, fixed ports free whatever else runs on the machine, every
// process gone when the block ends, and the checkout seen through an overlay so that what a block
// writes (playground.txt, report.html) never reaches it. `daytime` is on PATH as `npm install -g`
// puts it there (a link to dist/cli.js); `npx daytime` runs as written. A block that cannot run says
// why in a comment before it (<!-- not run: REASON -->) or names the test that runs it
// (<!-- run by FILE -->); a block that does neither fails the first test.

const shellBlocks = pages().flatMap((page) => fencedBlocks(page).filter(isShell));
const runnable = shellBlocks.filter((b) => verdict(b).kind === 'run');
// How long one block may take, its servers' start included.
const BLOCK_SECONDS = 150;

test('every shell block in the README and docs/ is run here, run by a named test, or marked with why not', () => {
  const problems: string[] = [];
  for (const block of shellBlocks) {
    const v = verdict(block);
    if (v.kind === 'unmarked') problems.push(`${label(block)}: ${v.why}`);
    if (v.kind === 'run by')
      for (const file of v.files)
        if (!existsSync(`${ROOT}${file}`)) problems.push(`${label(block)}: no ${file}`);
    if (v.kind === 'run' && /^\s*sudo\b/m.test(block.text))
      problems.push(`${label(block)}: sudo changes the machine: mark the block "not run" with the reason`);
  }
  assert.deepEqual(problems, []);
  assert.ok(runnable.length >= 10, `only ${runnable.length} blocks run`);
});

// The catalog's statuses, and those a signal gives (128 + SIGHUP, SIGPIPE, SIGTERM: cli/interrupt.ts,
// cli/closed-pipe.ts).
test("the README's exit statuses are the catalog's and the signals'", () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Exit status'));
  const table = section.slice(0, section.indexOf('\n## '));
  const statuses = [...table.matchAll(/^\| ([\d, ]+) \|/gm)].flatMap((m) =>
    (m[1] ?? '').split(', ').map(Number),
  );
  const { SIGHUP, SIGPIPE, SIGTERM } = constants.signals;
  assert.deepEqual(
    statuses.sort((a, b) => a - b),
    [0, ...Object.values(EXIT_STATUS), 128 + SIGHUP, 128 + SIGPIPE, 128 + SIGTERM].sort((a, b) => a - b),
  );
});

const has = (program: string) =>
  spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;

// Why a block cannot run here (no root, a missing program), after telling the test; undefined if it can.
function cannotRun(t: TestContext, block: Block): boolean {
  const why = netnsUnavailable('unshare');
  if (why) {
    t.skip(why);
    return true;
  }
  for (const name of peersCalled(block.text)) {
    const peer = PEERS[name];
    if (!peer || has(name)) continue;
    const reason = `${name} is not installed (apt-get install ${peer.from})`;
    if (peer.ci) missingPeer(t, reason);
    else t.skip(reason);
    return true;
  }
  return false;
}

async function runBlock(t: TestContext, block: Block): Promise<void> {
  if (cannotRun(t, block)) return;
  const dir = mkdtempSync(join(tmpdir(), 'daytime-docs-'));
  try {
    for (const sub of ['upper', 'work', 'home', 'logs', 'bin']) mkdirSync(join(dir, sub));
    symlinkSync(`${ROOT}dist/cli.js`, join(dir, 'bin', 'daytime'));
    const root = ROOT.replace(/\/$/, '');
    const overlay = `lowerdir=${root},upperdir=${dir}/upper,workdir=${dir}/work`;
    const script = [
      'set -e',
      'ip link set lo up',
      `mount -t overlay overlay -o ${quoted(overlay)} ${quoted(root)}`,
      `cd ${quoted(root)}`,
      blockScript(block.text, join(dir, 'logs')),
    ].join('\n');
    writeFileSync(join(dir, 'block.sh'), script);
    const child = spawn(
      'unshare',
      ['--net', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', join(dir, 'block.sh')],
      {
        cwd: dir,
        env: { ...CLI_ENV, HOME: join(dir, 'home'), PATH: `${join(dir, 'bin')}:${CLI_ENV.PATH}` },
        stdio: ['ignore', 'pipe', 'pipe'],
        // The namespace's first process dies with unshare (--kill-child), and every process with it.
        timeout: BLOCK_SECONDS * 1000,
        killSignal: 'SIGKILL',
      },
    );
    const { code, signal, stdout, stderr } = await collect(child);
    const output = `${stdout}\n${stderr}`.slice(-6000);
    assert.equal(signal, null, `${label(block)} took longer than ${BLOCK_SECONDS} s:\n${output}`);
    assert.equal(code, 0, `${label(block)} failed:\n${output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const title = (block: Block) =>
  `${label(block)}: ${withoutComment(commands(block.text).find((c) => withoutComment(c) !== '') ?? '')}`;

describe('the shell blocks, run as written', { concurrency: 3 }, () => {
  for (const block of runnable) test(title(block), (t) => runBlock(t, block));
});

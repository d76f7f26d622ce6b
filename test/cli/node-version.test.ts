import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { collect, ROOT } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';

// A machine whose own Node is older than the package needs, with the pinned Node 24 in node_modules.
const BIN = `${ROOT}node_modules/.bin`;
const OLD = '22.11.0';
// Makes the Node it is loaded into report an older version: npm's engine check reads process.version.
const olderNode = (version: string) =>
  `data:text/javascript,Object.defineProperty(process,"version",{value:"v${version}"});` +
  `Object.defineProperty(process.versions,"node",{value:"${version}"})`;
const machinePath = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => !dir.startsWith(BIN))
  .join(delimiter);
const below = (version: string) => {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major < 22 || (major === 22 && minor < 12);
};

// npx as the machine has it: run by the machine's own Node where that is older than 22.12 (this
// project's machines have v20); elsewhere npm's own script run by the pinned Node made to report 22.11.
function npxOnAnOlderNode(cwd: string, args: string[], env: NodeJS.ProcessEnv) {
  const own = spawnSync('node', ['-v'], { env: { ...process.env, PATH: machinePath }, encoding: 'utf8' });
  if (own.status === 0 && below(own.stdout.trim()))
    return spawn('npx', args, {
      cwd,
      env: { ...env, PATH: machinePath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const which = spawnSync('sh', ['-c', 'command -v npx'], { env: { PATH: machinePath }, encoding: 'utf8' });
  const script = realpathSync(which.stdout.trim());
  return spawn(`${BIN}/node`, ['--import', olderNode(OLD), script, ...args], {
    cwd,
    env: { ...env, PATH: machinePath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('npx daytime on a machine whose Node is older than 22.12: no EBADENGINE warning, the pinned Node runs it', async (t) => {
  const npx = spawnSync('sh', ['-c', 'command -v npx'], { env: { PATH: machinePath }, encoding: 'utf8' });
  if (npx.status !== 0) return missingPeer(t, 'npx is not on this machine');
  // A fresh npm cache: npx then links the checkout into its cache first, as on a user's first run, and
  // that install is where npm checks `engines`. npm's own log level, as a user has it. The install
  // runs `prepare`, which builds dist/ again: in a copy of the checkout (its node_modules linked), so
  // the other test files running meanwhile never meet a dist/ half rewritten.
  const cache = mkdtempSync(join(tmpdir(), 'daytime-npm-cache-'));
  const clone = mkdtempSync(join(tmpdir(), 'daytime-clone-'));
  try {
    for (const entry of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'dist',
    ])
      cpSync(join(ROOT, entry), join(clone, entry), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    const { npm_config_loglevel: _quietened, ...env } = process.env;
    const result = await collect(
      npxOnAnOlderNode(clone, ['daytime', '--version'], { ...env, npm_config_cache: cache, NO_COLOR: '1' }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /EBADENGINE|Unsupported engine/);
    assert.equal(result.stderr, '', 'nothing from npm before the output');
    // The version, not the bin's own "needs Node.js 22.12" line: the pinned Node ran the command.
    assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
    rmSync(clone, { recursive: true, force: true });
  }
});

test('the bin on a Node older than 22.12 says so in one line and exits 1', async () => {
  const child = spawn(`${BIN}/node`, ['--import', olderNode('20.0.0'), `${ROOT}dist/cli.js`, '--version'], {
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = await collect(child);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(
    result.stderr,
    /^daytime: needs Node\.js 22\.12 or newer, this is v20\.0\.0 \(\/\S+\): put a newer node first on PATH .*pinned Node 24\)\n$/,
  );
});

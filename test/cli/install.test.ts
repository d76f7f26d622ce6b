import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { collect, ROOT } from '../helpers/cli.ts';
import { startCliServer } from '../helpers/cli-server.ts';
import { startLocalRegistry } from '../helpers/npm-registry.ts';
import { missingPeer } from '../helpers/peers.ts';

// `npm install -g` as a user runs it: from npm pack's tarball into a prefix of its own, its dependencies
// resolved by npm from a registry (one on loopback that serves what npm's cache holds: no traffic
// leaves the machine), and from a clone, as the README's first screen writes it.

const PINNED = `${ROOT}node_modules/.bin`;
// The machine's own PATH, without the clone's pinned Node.
const MACHINE_PATH = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => dir && !dir.startsWith(PINNED))
  .join(delimiter);
// Any request npm would make beyond loopback goes to a proxy that is not there, and fails.
const NOWHERE = [
  '--noproxy',
  '127.0.0.1',
  '--proxy',
  'http://127.0.0.1:9',
  '--https-proxy',
  'http://127.0.0.1:9',
];
const npmEnv = (path: string) => {
  const { npm_config_prefix: _p, npm_config_cache: _c, ...env } = process.env;
  return { ...env, PATH: path, NO_COLOR: '1', npm_config_update_notifier: 'false' };
};

function run(command: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }) {
  return collect(spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }));
}

// The clone's install line of the README's "Install", as written (its comment taken off).
function readmeInstallLine(): string {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const install = readme.slice(readme.indexOf('\n## Install\n'));
  const block = /```sh\n([\s\S]*?)```/.exec(install)?.[1] ?? '';
  const line = block.split('\n').find((l) => l.startsWith('npm install -g .'));
  assert.ok(line, "the README's Install block has an `npm install -g .` line");
  return line.replace(/\s+#.*$/, '');
}

// What the installed bin does on the machine's own Node: runs where it is 22.12 or newer, and says
// what to do in one line where it is older.
async function onTheMachinesNode(bin: string, t: { diagnostic(message: string): void }) {
  const env = { ...npmEnv(`${bin}${delimiter}${MACHINE_PATH}`) };
  const own = spawnSync('node', ['-p', 'process.versions.node'], { env, encoding: 'utf8' });
  if (own.status !== 0) return t.diagnostic('no node on the machine PATH: only the pinned one was run');
  const [major = 0, minor = 0] = own.stdout.trim().split('.').map(Number);
  const result = await run('daytime', ['--version'], { cwd: tmpdir(), env });
  if (major > 22 || (major === 22 && minor >= 12)) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
  } else {
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      new RegExp(
        `^daytime: needs Node\\.js 22\\.12 or newer, this is v${own.stdout.trim().replaceAll('.', '\\.')} .*` +
          'put a newer node first on PATH .*npx daytime.*\\n$',
      ),
    );
  }
}

test('npm install -g of the npm pack tarball: daytime on PATH, serving and querying on a Node new enough', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'daytime-install-'));
  const registry = await startLocalRegistry();
  try {
    const absent = registry.missing.filter((m) => !m.platform).map((m) => `${m.name}@${m.version}`);
    if (absent.length > 0)
      return missingPeer(t, `npm's cache lacks ${absent.join(', ')} (\`npm ci\` puts every tarball there)`);
    const pinnedPath = `${PINNED}${delimiter}${MACHINE_PATH}`;
    // --ignore-scripts: no `prepare` rebuilding dist/ under the other tests (the suite builds first).
    const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {
      cwd: ROOT,
      env: npmEnv(pinnedPath),
    });
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = join(dir, pack.stdout.trim().split('\n').at(-1) ?? '');
    const prefix = join(dir, 'prefix');
    const install = await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        tarball,
        '--registry',
        registry.url,
        '--cache',
        join(dir, 'cache'),
      ].concat(['--no-audit', '--no-fund', ...NOWHERE]),
      { cwd: dir, env: npmEnv(pinnedPath) },
    );
    assert.equal(install.code, 0, install.stderr);
    assert.doesNotMatch(install.stderr, /npm (error|ERR)/);
    assert.equal(readlinkSync(join(prefix, 'bin', 'daytime')), '../lib/node_modules/daytime/dist/cli.js');
    // `man daytime` comes with it (npm links package.json's `man` into the prefix's share/man).
    assert.ok(existsSync(join(prefix, 'share', 'man', 'man1', 'daytime.1')), 'the man page is installed');

    // `daytime` by name: the prefix's bin on PATH, a Node 24 (the pinned one) as the machine's node.
    const path = `${join(prefix, 'bin')}${delimiter}${pinnedPath}`;
    const server = await startCliServer(
      ['--host', '127.0.0.1', '--port', '0', '--quiet'],
      undefined,
      ['daytime'],
      { PATH: path },
    );
    try {
      const get = await run('daytime', ['get', `127.0.0.1:${server.port}`], { cwd: dir, env: npmEnv(path) });
      assert.equal(get.code, 0, get.stderr);
      assert.match(get.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/);
      assert.equal(get.stderr, '');
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
    await onTheMachinesNode(join(prefix, 'bin'), t);
  } finally {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's install line in a clone: daytime on PATH runs this checkout", async (t) => {
  const line = readmeInstallLine();
  const dir = mkdtempSync(join(tmpdir(), 'daytime-install-clone-'));
  try {
    const env = {
      ...npmEnv(`${PINNED}${delimiter}${MACHINE_PATH}`),
      npm_config_prefix: dir,
      npm_config_offline: 'true',
      // npm runs the linked clone's `prepare` (a build): here it would rewrite dist/ under the tests
      // running beside this one. The suite has built it; a user has run `npm ci` first.
      npm_config_ignore_scripts: 'true',
    };
    const install = await run('sh', ['-c', line], { cwd: ROOT, env });
    assert.equal(install.code, 0, install.stderr);
    // A link to the clone: `git pull && npm ci` updates what is on PATH.
    assert.equal(realpathSync(join(dir, 'lib', 'node_modules', 'daytime')), realpathSync(ROOT));
    assert.ok(existsSync(join(dir, 'share', 'man', 'man1', 'daytime.1')), 'the man page is installed');
    const path = `${join(dir, 'bin')}${delimiter}${PINNED}${delimiter}${MACHINE_PATH}`;
    const version = await run('daytime', ['--version'], { cwd: tmpdir(), env: npmEnv(path) });
    assert.equal(version.code, 0, version.stderr);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    assert.equal(version.stdout, `${pkg.version}\n`);
    const query = await run('daytime', ['get', '--help'], { cwd: tmpdir(), env: npmEnv(path) });
    assert.equal(query.code, 0, query.stderr);
    await onTheMachinesNode(join(dir, 'bin'), t);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

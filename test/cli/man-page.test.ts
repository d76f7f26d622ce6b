import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MAN_PAGE, manPage } from '../../scripts/man-page.ts';
import { COMMANDS } from '../../src/cli/commands/all.ts';
import { envName, longFlag } from '../../src/options/declare.ts';
import { ROOT } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';

const committed = readFileSync(MAN_PAGE, 'utf8');
const roffFlag = (name: string) => longFlag(name).replaceAll('-', '\\-');

test('man/daytime.1 is what the declarations make (npm run man), and package.json installs it', () => {
  const made = manPage().split('\n');
  const line = committed.split('\n').findIndex((text, i) => text !== made[i]);
  assert.ok(
    line === -1 && committed === made.join('\n'),
    `line ${line + 1} differs from the declarations': npm run man`,
  );
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  // An array: npm's global install links only an array's pages into share/man (install.test.ts).
  assert.deepEqual(pkg.man, ['./man/daytime.1']);
  assert.ok(pkg.files.includes('man'), 'npm pack leaves the page out');
});

test('the page names every command, every option with its default, and every variable', () => {
  for (const command of COMMANDS) {
    assert.ok(committed.includes(`.SS "daytime ${command.name}`), command.name);
    for (const [name, option] of Object.entries(command.options)) {
      assert.ok(committed.includes(`\\fB${roffFlag(name)}\\fR`), `${command.name} ${longFlag(name)}`);
      if (option.default !== undefined && option.arg?.startsWith('<'))
        assert.ok(
          committed.includes(`default: ${option.default}`),
          `${command.name} ${longFlag(name)} default`,
        );
      if (command.environment) assert.ok(committed.includes(`.B ${envName(name)}\n`), envName(name));
    }
  }
});

test('groff reads the page without a warning, and man renders it', (t) => {
  if (spawnSync('groff', ['-v'], { stdio: 'ignore' }).status !== 0)
    return missingPeer(t, 'groff is not installed (apt-get install groff-base)');
  const checked = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', MAN_PAGE.pathname], {
    encoding: 'utf8',
  });
  assert.equal(checked.status, 0);
  assert.equal(checked.stderr, '');
  const text = spawnSync('groff', ['-man', '-Tascii', '-P-cbou', MAN_PAGE.pathname], {
    encoding: 'utf8',
  }).stdout;
  assert.match(text, /^ {7}--max-connections <n>$/m);
  assert.match(text, /^ {7}DAYTIME_MAX_CONNECTIONS$/m);
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { completionScript } from '../../src/cli/completion.ts';
import { runBin } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';

const dir = mkdtempSync(join(tmpdir(), 'daytime-completion-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const saved = (shell: string) => {
  const file = join(dir, `daytime.${shell}`);
  writeFileSync(file, completionScript(shell));
  return file;
};
const has = (shell: string) => spawnSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0;
const run = (command: string, args: string[]) =>
  spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });

// What bash offers for the line typed so far (the cursor at its end), as readline would ask.
function bashOffers(file: string, line: string): string[] {
  const words = line.split(' ');
  const probe = `source '${file}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
    _daytime; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = run('bash', ['-c', probe]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash: the script is valid bash, registered for daytime, and completes commands, flags and values', () => {
  const file = saved('bash');
  const syntax = run('bash', ['-n', file]);
  assert.equal(syntax.status, 0, syntax.stderr);
  assert.equal(
    run('bash', ['-c', `source '${file}'; complete -p daytime`]).stdout.trim(),
    'complete -F _daytime daytime',
  );
  assert.deepEqual(bashOffers(file, 'daytime se'), ['serve']);
  assert.deepEqual(bashOffers(file, 'daytime serve --max'), ['--max-connections']);
  assert.deepEqual(bashOffers(file, 'daytime serve --format '), ['ctime', 'iso', 'rfc2822']);
  assert.deepEqual(bashOffers(file, 'daytime serve --udp --udp-io m'), ['mmsg']);
  assert.deepEqual(bashOffers(file, 'daytime serve --port '), [], 'a number: nothing to offer');
  assert.deepEqual(bashOffers(file, 'daytime serve --inetd t'), ['time']);
  assert.deepEqual(bashOffers(file, 'daytime serve --inetd --f'), ['--format'], 'its value may be left out');
  assert.deepEqual(bashOffers(file, 'daytime bench --connect u'), ['uring']);
  assert.deepEqual(bashOffers(file, 'daytime completion '), ['bash', 'zsh', 'fish']);
  assert.deepEqual(bashOffers(file, 'daytime help wa'), ['watch']);
});

// An interactive zsh on a pseudo-terminal (zpty) with the script on its fpath, typing as a user does:
// each read waits for what completion must print, and the whole is bounded by spawnSync's timeout.
const ZPTY = (fpath: string) => `zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='> '; fpath=(${fpath} $fpath); autoload -Uz compinit; compinit -u -D; daytime() {}; print RE''ADY"
zpty -r z out '*READY*'
zpty -n -w z $'daytime se\\t'
zpty -r z out '*daytime serve*' && print -r -- 'completed serve'
zpty -n -w z $'\\C-u'
zpty -n -w z $'daytime serve --format \\t'
zpty -r z out '*rfc2822*' && print -r -- 'listed the formats'
zpty -d z
`;

test("zsh: the script parses, and completes a command and a flag's values at a real prompt", (t) => {
  if (!has('zsh')) return missingPeer(t, 'zsh is not installed (apt-get install zsh)');
  const file = join(dir, '_daytime');
  writeFileSync(file, completionScript('zsh'));
  const syntax = run('zsh', ['-n', file]);
  assert.equal(syntax.status, 0, syntax.stderr);
  const typed = run('zsh', ['-fc', ZPTY(dir)]);
  assert.equal(
    typed.stdout,
    'completed serve\nlisted the formats\n',
    `${typed.stderr} (${typed.signal ?? typed.status})`,
  );
});

test('fish: the script parses and completes commands, flags and values', (t) => {
  if (!has('fish')) return missingPeer(t, 'fish is not installed (apt-get install fish)');
  const file = saved('fish');
  const syntax = run('fish', ['--no-execute', file]);
  assert.equal(syntax.status, 0, syntax.stderr);
  const offers = (line: string) =>
    run('fish', ['--no-config', '-c', `source '${file}'; complete -C '${line}'`])
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]);
  assert.deepEqual(offers('daytime se'), ['serve']);
  assert.deepEqual(offers('daytime serve --max'), ['--max-connections']);
  assert.deepEqual(offers('daytime serve --format ').sort(), ['ctime', 'iso', 'rfc2822']);
  assert.deepEqual(offers('daytime completion ').sort(), ['bash', 'fish', 'zsh']);
});

test('daytime completion SHELL prints the script; another shell is bad input', async () => {
  const [bash, tcsh] = await Promise.all([runBin(['completion', 'bash']), runBin(['completion', 'tcsh'])]);
  assert.equal(bash.code, 0, bash.stderr);
  assert.equal(bash.stdout, completionScript('bash'));
  assert.equal(tcsh.code, 2);
  assert.equal(tcsh.stdout, '');
  assert.match(
    tcsh.stderr,
    /^daytime completion: shell argument must be one of bash, zsh, fish, got "tcsh"\n$/,
  );
});

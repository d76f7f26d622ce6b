import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { BLOCK, helpBlock, helpPages, readPage } from '../../scripts/help-blocks.ts';
import { COMMANDS } from '../../src/cli/commands/all.ts';
import { createProgram } from '../../src/cli/program.ts';
import { envName } from '../../src/options/declare.ts';

const program = createProgram();

// Everything `daytime NAME --help` prints, the text after the options included.
function fullHelp(name: string): string {
  let text = '';
  const command = program.commands.find((c) => c.name() === name) as Command;
  command.configureOutput({ writeOut: (s) => (text += s) });
  command.outputHelp();
  return text;
}

test("the docs' option tables are what --help prints, for every command (npm run docs:help)", () => {
  const blocks = helpPages().flatMap((page) =>
    [...readPage(page).matchAll(BLOCK)].map(([, , name = '', text = '']) => ({ page, name, text })),
  );
  assert.deepEqual(
    blocks.map((b) => b.name).sort(),
    COMMANDS.map((c) => c.name).sort(),
    'one block a command',
  );
  for (const block of blocks) {
    assert.equal(
      block.text,
      helpBlock(program, block.name),
      `${block.page}: daytime ${block.name} --help changed`,
    );
  }
});

test('every --help fits 80 columns and shows each declared default', () => {
  for (const decl of COMMANDS) {
    const help = fullHelp(decl.name);
    assert.deepEqual(
      help.split('\n').filter((line) => line.length > 80),
      [],
      `daytime ${decl.name} --help`,
    );
    const flat = help.replace(/\s+/g, ' ');
    for (const [name, option] of Object.entries(decl.options)) {
      const shown = option.defaultText ?? option.default;
      if (shown === undefined || !option.arg?.startsWith('<')) continue;
      assert.ok(flat.includes(`(default: ${shown})`), `${decl.name} --${name}: default ${shown} not shown`);
    }
  }
});

test('serve --help names the variable of every option', () => {
  const help = fullHelp('serve');
  for (const name of Object.keys(COMMANDS[0]?.options ?? {}))
    assert.match(help, new RegExp(`\\b${envName(name)}\\b`));
});

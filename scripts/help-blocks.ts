// Rewrites the --help blocks in README.md and docs/*.md (each after a marker
// `<!-- daytime NAME --help... -->`) with what --help prints now: `npm run docs:help` after changing
// an option. test/cli/help-docs.test.ts fails while a block and --help differ.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { COMMANDS } from '../src/cli/commands/all.ts';
import { environmentHelp } from '../src/cli/environment.ts';
import { createProgram } from '../src/cli/program.ts';

const ROOT = new URL('../', import.meta.url);
export const BLOCK = /(<!-- daytime (\S+) --help\b[^\n]*-->\n```\n)([\s\S]*?)(\n```)/g;

// The pages a block may be in: the README, and any page under docs/ one moves to.
export const helpPages = () => [
  'README.md',
  ...readdirSync(new URL('docs/', ROOT))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
export const readPage = (page: string) => readFileSync(new URL(page, ROOT), 'utf8');

// What the docs paste for a command: --help from its arguments (or options) on, and for serve the
// variables it reads.
export function helpBlock(program: Command, name: string): string {
  const command = program.commands.find((c) => c.name() === name);
  const decl = COMMANDS.find((c) => c.name === name);
  if (!command || !decl) throw new Error(`no command ${name}`);
  const lines = command.helpInformation().trimEnd().split('\n');
  const table = lines.slice(lines.findIndex((l) => /^(Arguments|Options):$/.test(l))).join('\n');
  return decl.environment ? `${table}\n\n${environmentHelp(decl.options).trimEnd()}` : table;
}

if (import.meta.main) {
  const program = createProgram();
  for (const page of helpPages()) {
    const text = readPage(page);
    const updated = text.replace(
      BLOCK,
      (_all, head, name, _old, tail) => `${head}${helpBlock(program, name)}${tail}`,
    );
    if (updated !== text) {
      writeFileSync(new URL(page, ROOT), updated);
      process.stderr.write(`help-blocks: rewrote ${page}\n`);
    }
  }
}

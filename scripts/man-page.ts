// Writes man/daytime.1 from the option and command declarations, the same ones --help is made from.
// `npm run man` after changing an option; test/cli/man-page.test.ts fails while the committed page
// and this output differ.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { COMMANDS, PROGRAM } from '../src/cli/commands/all.ts';
import { renderManPage } from '../src/cli/man-page.ts';

export const MAN_PAGE = new URL('../man/daytime.1', import.meta.url);

export function manPage(): string {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return renderManPage({ ...PROGRAM, version }, COMMANDS);
}

if (import.meta.main) {
  mkdirSync(new URL('.', MAN_PAGE), { recursive: true });
  writeFileSync(MAN_PAGE, manPage());
  process.stderr.write(`man-page: wrote ${MAN_PAGE.pathname}\n`);
}

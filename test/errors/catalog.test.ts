import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderErrorsPage } from '../../scripts/errors-page.ts';
import { reportError } from '../../src/cli/run-command.ts';
import { DaytimeError, InvalidOptionError, OptionConflictError, systemCode } from '../../src/errors.ts';
import { ERROR_CATALOG, type ErrorInfo, EXIT_STATUS, isErrorCode } from '../../src/index.ts';

const root = new URL('../../', import.meta.url);
const CATALOG_FILE = 'src/error-catalog.ts';

// The code that runs: the library and the CLI (src/) and the harness (bench/), comments left out, so
// that a code named only in a comment is neither required nor counted as used.
function sources(): { file: string; lines: string[] }[] {
  return ['src', 'bench'].flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, root), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts'))
      .map((name) => `${dir}/${name}`)
      .filter((file) => file !== CATALOG_FILE)
      .map((file) => ({
        file,
        lines: readFileSync(new URL(file, root), 'utf8')
          .split('\n')
          .map((line) => (/^\s*(\/\/|\/\*|\*)/.test(line) ? '' : line.replace(/(^|\s)\/\/.*$/, ''))),
      })),
  );
}

// A code as the code writes one: any 'ERR_...' or 'ABORT_ERR' literal, the first argument of `new
// DaytimeError(` or `new HttpError(`, and a `code: '...'` field in capitals (lower-case ones are metric
// labels such as 'too-old').
const PATTERNS = [
  /(['"`])(ERR_[A-Z0-9_]+|ABORT_ERR)\1/g,
  /new (?:DaytimeError|HttpError)\(\s*(['"`])([A-Z][A-Z0-9_]*)\1/g,
  /\bcode:\s*(['"`])([A-Z][A-Z0-9_]*)\1/g,
];

function codesInSources(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const { file, lines } of sources()) {
    lines.forEach((line, i) => {
      for (const pattern of PATTERNS) {
        for (const match of line.matchAll(pattern)) {
          const code = match[2] as string;
          found.set(code, [...(found.get(code) ?? []), `${file}:${i + 1}`]);
        }
      }
    });
  }
  return found;
}

test('every code src/ and bench/ produce is in the catalog', () => {
  const found = codesInSources();
  assert.ok(found.size >= 20, `the scan found only ${found.size} codes: is it still reading the sources?`);
  const missing = [...found].filter(([code]) => !isErrorCode(code)).map(([code, at]) => `${code} (${at[0]})`);
  assert.deepEqual(missing, [], `codes the catalog lacks: add them to ${CATALOG_FILE}`);
});

test('every code in the catalog is produced somewhere: no dead entries', () => {
  const text = sources()
    .flatMap((s) => s.lines)
    .join('\n');
  const dead = Object.keys(ERROR_CATALOG).filter((code) => !new RegExp(`['"\`]${code}['"\`]`).test(text));
  assert.deepEqual(dead, [], `catalog entries nothing produces: remove them from ${CATALOG_FILE}`);
});

test('a code outside the catalog does not typecheck', () => {
  // @ts-expect-error: the constructor takes the catalog's codes only (npm run typecheck fails without it)
  const typo = new DaytimeError('ERR_NOT_IN_THE_CATALOG', 'a typo');
  assert.equal(isErrorCode(typo.code), false);
  // A code Node or the kernel gave is passed on by saying so.
  assert.equal(new DaytimeError(systemCode('EADDRINUSE'), 'passed on').code, 'EADDRINUSE');
});

test('each entry says where it appears, what it means and what to do, in one table cell each', () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOG) as [string, ErrorInfo][]) {
    assert.match(code, /^(ERR_[A-Z0-9_]+|ABORT_ERR|E[A-Z]+)$/, code);
    assert.ok(entry.exit !== undefined || entry.http !== undefined || entry.harness, `${code}: where?`);
    if (entry.exit !== undefined) assert.ok(Object.hasOwn(EXIT_STATUS, entry.exit), code);
    if (entry.http !== undefined) assert.ok(entry.http >= 400 && entry.http < 600, code);
    for (const text of [entry.meaning, entry.action]) {
      assert.ok(text.length > 10, `${code}: ${text}`);
      assert.doesNotMatch(text, /[|\n]/, `${code}: a table cell cannot hold "|" or a line break`);
    }
  }
});

test('docs/errors.md is the page the catalog renders', () => {
  const page = readFileSync(new URL('docs/errors.md', root), 'utf8');
  const [have, want] = [page.split('\n'), renderErrorsPage().split('\n')];
  const at = want.findIndex((line, i) => line !== have[i]);
  const first = at === -1 ? (have.length > want.length ? want.length : -1) : at;
  assert.equal(first, -1, `docs/errors.md differs from line ${first + 1}: run node scripts/errors-page.ts`);
  for (const code of Object.keys(ERROR_CATALOG)) assert.ok(page.includes(`| \`${code}\` |`), code);
});

test("the CLI's exit status is the catalog's for each code; 1 for a code passed on or none", () => {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    written.push(chunk);
    return true;
  }) as typeof process.stderr.write;
  const exit = (error: unknown) => reportError('test', error);
  try {
    for (const [code, entry] of Object.entries(ERROR_CATALOG) as [string, ErrorInfo][]) {
      if (entry.exit === undefined || !isErrorCode(code)) continue;
      assert.equal(exit(new DaytimeError(code, 'm')), EXIT_STATUS[entry.exit], code);
    }
    assert.equal(exit(new InvalidOptionError('backlog', 'an integer', 'x')), EXIT_STATUS.usage);
    assert.equal(exit(new OptionConflictError('conflicts', ['count', 'duration'], 'one bound')), 2);
    assert.equal(exit(new DaytimeError('ERR_FLEET_UNAVAILABLE', 'no haproxy')), 2);
    assert.equal(exit(new DaytimeError('ABORT_ERR', 'stopped')), 130);
    assert.equal(exit(new DaytimeError(systemCode('EADDRINUSE'), 'cannot listen')), 1);
    assert.equal(exit(new Error('a defect')), 1);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(written[0], 'daytime test: m\n');
  assert.ok(written.includes('daytime test: --count and --duration cannot be used together: one bound\n'));
});

import { readFileSync } from 'node:fs';
import { helpPages } from '../../scripts/help-blocks.ts';
import { ROOT } from '../helpers/cli.ts';

// The fenced blocks of the README and docs/*.md, and what each shell block is: run by
// shell-blocks.test.ts, run by another test, or not run for a reason the page gives.

export interface Block {
  page: string;
  // 1-based line of the opening fence.
  line: number;
  info: string;
  text: string;
  // The HTML comment right before the fence (blank lines between allowed), without <!-- -->.
  comment: string | undefined;
}

export type Verdict =
  | { kind: 'run' }
  | { kind: 'not run'; reason: string }
  | { kind: 'run by'; files: string[] }
  // A block that looks like shell but is not fenced as one: neither run nor marked.
  | { kind: 'unmarked'; why: string };

// The same pages whose --help blocks scripts/help-blocks.ts keeps: the README and docs/*.md.
export const pages = (): string[] => helpPages();

export function fencedBlocks(page: string, text = readFileSync(`${ROOT}${page}`, 'utf8')): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] ?? '```';
    let end = i + 1;
    while (end < lines.length && !(lines[end] ?? '').startsWith(fence)) end++;
    blocks.push({
      page,
      line: i + 1,
      info: open[2] ?? '',
      text: lines.slice(i + 1, end).join('\n'),
      comment: commentBefore(lines, i),
    });
    i = end;
  }
  return blocks;
}

function commentBefore(lines: string[], fence: number): string | undefined {
  let last = fence - 1;
  while (last >= 0 && (lines[last] ?? '').trim() === '') last--;
  if (!(lines[last] ?? '').trimEnd().endsWith('-->')) return undefined;
  let first = last;
  while (first >= 0 && !(lines[first] ?? '').includes('<!--')) first--;
  if (first < 0) return undefined;
  const text = lines.slice(first, last + 1).join('\n');
  return text.slice(text.indexOf('<!--') + 4, text.lastIndexOf('-->')).trim();
}

const SHELL_INFO = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
// How a command starts, for a block fenced without an info string: output and --help tables do not.
const COMMAND_START =
  /^(\$ |sudo |npx |npm |node |daytime |curl |nc |ss |python3 |socat |rdate |man |source )/;

export const isShell = (block: Block): boolean =>
  SHELL_INFO.has(block.info) || (block.info === '' && COMMAND_START.test(block.text.trimStart()));

export function verdict(block: Block): Verdict {
  const comment = block.comment ?? '';
  if (!SHELL_INFO.has(block.info))
    return {
      kind: 'unmarked',
      why: 'it reads as shell but is not fenced as ```sh: fence it so that it runs, or mark it',
    };
  const notRun = /^not run:\s*([\s\S]*)$/.exec(comment);
  if (notRun) {
    const reason = (notRun[1] ?? '').trim();
    return reason ? { kind: 'not run', reason } : { kind: 'unmarked', why: '"not run:" without a reason' };
  }
  if (/^run by /.test(comment)) {
    const files = [...comment.matchAll(/(?:^|[\s(])((?:\.ci|test|scripts)\/[\w./-]+)/g)].map(
      (m) => m[1] ?? '',
    );
    return files.length > 0 ? { kind: 'run by', files } : { kind: 'unmarked', why: '"run by" names no file' };
  }
  return { kind: 'run' };
}

export const label = (block: Block): string => `${block.page}:${block.line}`;

// The figures of bench/scrape-burst.ts: per build and accept path, per kind of window (A idle, A's first
// and second burst, the control burst sent to B), the scrapes of every round.

import type { ScrapeTimes } from './http-scrape.ts';
import { median } from './proc.ts';

export const KINDS = ['idle', 'first', 'second', 'control'] as const;
export type Kind = (typeof KINDS)[number];

export interface Row {
  build: string;
  accept: string;
  // Per round: each scrape's time, and dtload's connections that failed.
  rounds: Record<Kind, ScrapeTimes>[];
  failedConnections: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

// The median scrape and the slowest, each a median over rounds, and the slowest of all rounds.
export function summary(row: Row, kind: Kind) {
  const slowest = row.rounds.map((r) => Math.max(0, ...r[kind].ms));
  return {
    median: round1(median(row.rounds.map((r) => median(r[kind].ms)))),
    slowest: round1(median(slowest)),
    worst: round1(Math.max(0, ...slowest)),
    slowestPerRound: slowest.map(round1),
    scrapes: row.rounds.reduce((n, r) => n + r[kind].ms.length, 0),
    failed: row.rounds.reduce((n, r) => n + r[kind].failed, 0),
  };
}

export function summarize(rows: Row[]) {
  return rows.map((row) => ({
    build: row.build,
    accept: row.accept,
    ...(Object.fromEntries(KINDS.map((kind) => [kind, summary(row, kind)])) as Record<
      Kind,
      ReturnType<typeof summary>
    >),
    failedConnections: row.failedConnections,
  }));
}

// One markdown row per build and path: median / slowest (median of rounds) / slowest of all, in ms.
export function formatTable(rows: ReturnType<typeof summarize>): string {
  const cell = (s: ReturnType<typeof summary>) => `${s.median} / ${s.slowest} / ${s.worst}`;
  const lines = rows.map((r) => {
    const failed = KINDS.reduce((n, kind) => n + r[kind].failed, 0);
    const cells = KINDS.map((kind) => cell(r[kind])).join(' | ');
    return `| ${r.build} | ${r.accept} | ${cells} | ${failed} / ${r.failedConnections} |`;
  });
  return [
    '| build | accept | idle | 1st burst | 2nd burst | control (burst to B) | failed scrapes / conns |',
    '|---|---|---|---|---|---|---|',
    ...lines,
  ].join('\n');
}
